"""Typed, located errors with stable codes.

Every error a user can cause carries a :class:`Location` (file, line, column),
a stable code, what is wrong and how to fix it.  The CLI prints ``str(error)``
and exits 2; it never shows a traceback for these.

The codes are documented in ``docs/errors.md``; :data:`CODES` is the same
table in code, and a test keeps the two in step.
"""
from __future__ import annotations

from dataclasses import dataclass

CODES = {
    "GR100": "YAML syntax error",
    "GR101": "unsafe or unknown YAML tag",
    "GR102": "instantaneous cycle",
    "GR103": "unknown key",
    "GR104": "invalid value or type",
    "GR105": "unknown reference",
    "GR106": "size mismatch",
    "GR107": "output not reachable from inputs",
    "GR108": "limit exceeded",
    "GR109": "module error",
    "GR110": "duplicate name",
    "GR111": "unsupported format version",
    "GR112": "invalid weights, mask or init",
    "GR113": "unknown op or activation",
    "GR114": "spec file not found",
    "GR115": "no rule for the chosen engine",
    "GR116": "optional compiler not installed",
    "GR117": "plan invariant broken",
    "GR120": "edge does not fit the structure",
    "GR121": "tree syntax error",
    "GR122": "unknown token",
    "GR123": "too many children",
    "GR124": "engine and `over` disagree",
    "GR125": "parent read too early",
    "GR130": "hierarchy levels do not fit",
    "GR131": "bad sequence for the compressor",
    "GR132": "invalid compressed events",
    "GR133": "invalid collapse",
    "GR200": "bad input or parameter shapes",
    "GR201": "missing or unknown parameters",
    "GR202": "non-finite input",
    "GR300": "invalid experiment",
    "GR301": "training diverged",
    "GR302": "cannot resume",
    "GR303": "damaged checkpoint",
    "GR304": "run directory in use",
    "GR310": "invalid sweep",
    "GR311": "sweep value makes an invalid experiment",
    "GR312": "sweep directory holds another sweep",
    "GR313": "no Dask cluster",
}


@dataclass(frozen=True)
class Location:
    """A place in a spec file; ``line`` and ``col`` are 1-based."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.col}"
        return self.file


class GraphRNNError(Exception):
    """Base of every error graphrnn raises on purpose.

    ``code`` is stable across versions; ``fix`` tells the user what to change;
    ``notes`` are extra located lines (for example each edge of a cycle).
    """

    def __init__(self, code: str, message: str, *, loc: Location | None = None,
                 fix: str | None = None, notes: tuple[str, ...] = ()):
        assert code in CODES, code
        self.code, self.message, self.loc, self.fix = code, message, loc, fix
        self.notes = tuple(notes)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        lines = [f"{where}error {self.code} ({CODES[self.code]}): {self.message}"]
        lines += [f"  {note}" for note in self.notes]
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


class SpecError(GraphRNNError):
    """The YAML text or its structure is wrong (load stage)."""


class GraphError(GraphRNNError):
    """The expanded graph is inconsistent (expand and check stages)."""


class PlanError(GraphRNNError):
    """The graph cannot be scheduled (plan stage)."""


class RunError(GraphRNNError):
    """Inputs or parameters handed to a Network do not fit it."""


class TrainError(GraphRNNError):
    """An experiment is invalid, diverged, or cannot be resumed."""


class ConfigError(ValueError):
    """A configuration mapping (an optimizer, a task's options) holds a bad key or value.

    Raised by the checkers before anyone knows which file the mapping came
    from; the file readers locate it by ``path`` and re-raise it as a located
    GraphRNNError.  ``path``: the keys from the mapping that was checked down
    to the offending one (``("clip", "value")``), empty when the mapping as a
    whole is wrong; ``unknown``: the key itself is not allowed (point at the
    key, not at its value).
    """

    def __init__(self, message: str, *path: str, unknown: bool = False):
        super().__init__(message)
        self.path, self.unknown = tuple(path), unknown

    @property
    def key(self) -> str | None:
        """The offending key (the last of ``path``), or None."""
        return self.path[-1] if self.path else None

    def within(self, *keys: str) -> "ConfigError":
        """The same error seen from a mapping ``keys`` further up."""
        return ConfigError(str(self), *keys, *self.path, unknown=self.unknown)
