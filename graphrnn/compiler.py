"""The pipeline: load -> expand -> check -> plan -> emit, and spec lookup.

    text --read_spec--> Spec --expand--> Graph --check_graph--> Graph --build_plan--> Plan --> Network
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from .errors import GraphError, Location, SpecError
from .graph import check_graph, expand
from .plan import build_plan
from .plan.limits import check_network
from .runtime import Network, TreeNetwork, engine_for
from .spec import Spec, did_you_mean, read_spec
from .spec.validate import read_text

SPEC_SUFFIXES = (".yaml", ".yml")


def path_dirs() -> list[Path]:
    """The folders on $GRAPHRNN_PATH that exist, in order."""
    dirs = [Path(p) for p in os.environ.get("GRAPHRNN_PATH", "").split(os.pathsep) if p]
    return [d for d in dirs if _is_dir(d)]


def shipped_dirs() -> list[Path]:
    """The shipped library: the repository's specs/ folder, or graphrnn/library/ in a wheel."""
    package = Path(__file__).resolve().parent
    return [d for d in (package / "library", package.parent / "specs") if d.is_dir()]


def library_dirs() -> list[Path]:
    """Where library names are looked up: $GRAPHRNN_PATH entries, then the shipped library."""
    return path_dirs() + shipped_dirs()


def library_names() -> list[str]:
    return sorted({p.stem for d in library_dirs() for p in d.glob("*.yaml")})


def _is_file(path: Path) -> bool:
    """False, not an OSError, for names too long, with NUL bytes or otherwise unusable."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def find_library_spec(name: str) -> Path | None:
    """The first ``name.yaml`` on $GRAPHRNN_PATH or in the library; a warning names a file on
    $GRAPHRNN_PATH that shadows a shipped spec of the same name."""
    if not name or len(name) > 200 or "\x00" in name:
        return None
    for directory in library_dirs():
        for suffix in SPEC_SUFFIXES:
            candidate = directory / f"{name}{suffix}"
            if _is_file(candidate):
                _warn_if_shadowing(candidate, name)
                return candidate
    return None


_warned: set = set()   # (name, file): each shadow is reported once per process


def _warn_if_shadowing(found: Path, name: str) -> None:
    if any(found.parent == d for d in shipped_dirs()) or (name, found.resolve()) in _warned:
        return
    shadowed = [d / f"{name}{s}" for d in shipped_dirs() for s in SPEC_SUFFIXES if _is_file(d / f"{name}{s}")]
    if shadowed:
        _warned.add((name, found.resolve()))
        # reported at the shadowing file itself (warn_explicit), not at this line of graphrnn
        warnings.warn_explicit(f"library spec `{name}` is shadowed by {found.resolve()} (on GRAPHRNN_PATH), "
                               f"which is used instead of {shadowed[0]}; rename the file to use the library's",
                               ShadowedSpecWarning, str(found.resolve()), 1)


class ShadowedSpecWarning(UserWarning):
    """A file on $GRAPHRNN_PATH has the name of a shipped library spec and is used instead."""


def read_file(path: Path, loc: Location | None = None) -> Spec:
    return read_spec(read_text(path, "spec", loc), str(path))


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


class ModuleLoader:
    """Finds ``use:`` targets: a relative path (has a / or a .yaml suffix) or a library name.

    A path resolves inside the top spec's folder (``root``), the library or a
    $GRAPHRNN_PATH folder only: a spec cannot read files elsewhere
    (``../../etc/passwd``) unless the user puts their folder on
    GRAPHRNN_PATH.  ``origins`` records, per module name used, the file it
    came from (``graphrnn show`` prints it).
    """

    def __init__(self, root: Path | None = None):
        self.cache: dict[Path, Spec] = {}
        self.root = root if root is not None else Path.cwd()
        self.origins: dict[str, Path] = {}

    def __call__(self, use: str, from_file: str, loc: Location) -> Spec:
        if "/" in use or use.endswith(SPEC_SUFFIXES):
            base = Path(from_file).parent if not from_file.startswith("<") else Path.cwd()
            try:
                path = (base / use).resolve()
            except (OSError, ValueError, RuntimeError):
                path = base / "?"
            allowed = [self.root] + library_dirs()
            if not any(_inside(path, folder) for folder in allowed):
                raise GraphError("GR109", f"module file `{_short(use)}` is outside the spec's folder "
                                 f"({self.root.resolve()}), the library and GRAPHRNN_PATH", loc=loc,
                                 fix="move the module next to the spec, or add its folder to GRAPHRNN_PATH "
                                     "to allow it")
            if not _is_file(path):
                raise GraphError("GR109", f"module file `{_short(use)}` not found (looked at {_short(str(path), 200)})",
                                 loc=loc, fix="give a path relative to the file that uses it")
        else:
            path = find_library_spec(use)
            if path is None:
                raise GraphError("GR109", f"no library module `{_short(use)}`{did_you_mean(use, library_names())}",
                                 loc=loc, fix="library modules: " + ", ".join(library_names()))
            path = path.resolve()
        if path not in self.cache:
            self.cache[path] = read_file(path, loc)
        self.origins.setdefault(use, path)
        return self.cache[path]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def compile_spec(spec: Spec, engine: str | None = None, dtype="float64") -> Network | TreeNetwork:
    """Expand, check, plan and emit one network spec: a Network, or a TreeNetwork for ``over: tree``.

    ``engine`` (see graphrnn/runtime/engine.py; None: the default):
    ``"fused"`` (the default for sequences) runs forward and BPTT over the
    plan in numpy as one autograd primitive; ``"autograd"`` unrolls with
    autograd.numpy (the simple reference the fused engine is tested
    against, and the default for networks with a node kind or activation
    the fused engine has no backward rule for).  Over trees (``over: tree``),
    ``"fused_tree"`` (the default where it has the same rules) runs level by
    level over a TreeBatch in numpy, one autograd primitive, and
    ``"autograd_tree"`` does it with autograd.numpy (the reference).
    ``dtype``: ``"float64"`` (default) or ``"float32"`` for the computation;
    parameters and gradients stay float64.
    """
    root = Path(spec.file).parent if not spec.file.startswith("<") else Path.cwd()
    modules = ModuleLoader(root)
    graph = check_graph(expand(spec, modules))
    chosen = engine_for(graph, engine, loc=spec.data.value_loc("over"))
    plan = build_plan(graph)
    check_network(plan, graph)   # GR108 before the parameter arrays are allocated
    net = (TreeNetwork if graph.over == "tree" else Network)(graph, plan, chosen, dtype)
    net.spec = spec
    net.module_files = dict(modules.origins)
    return net


def load(source: str | os.PathLike, engine: str | None = None, dtype="float64") -> Network | TreeNetwork:
    """A Network from a spec file path or a library name (``"elman"``); see compile_spec for ``engine``."""
    path = Path(source)
    if not _is_file(path):
        found = None if path.suffix or os.sep in str(source) else find_library_spec(str(source))
        if found is None:
            hint = ""
            if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("graphrnn:")):
                hint = "; this looks like YAML text: `graphrnn.loads(text)` reads text, `load` reads a file"
            raise SpecError("GR114", f"no spec file or library spec `{_short(str(source))}`"
                            f"{did_you_mean(path.stem, library_names()) if not hint else ''}{hint}",
                            loc=Location("<text>" if hint else _short(str(source), 1000)),
                            fix="pass the text to `graphrnn.loads`" if hint else
                            "library specs: " + ", ".join(library_names()))
        path = found
    return compile_spec(read_file(path), engine, dtype)


def loads(text: str, file: str = "<string>", engine: str | None = None, dtype="float64") -> Network | TreeNetwork:
    """A Network from YAML text; ``file`` names it in errors and anchors relative modules."""
    return compile_spec(read_spec(text, file), engine, dtype)


def resolve_spec(value: str, base: Path, loc: Location) -> str:
    """The spec file another file names at ``loc``: a path relative to ``base`` (that file's
    folder), or else a library name; SpecError GR114, with a did-you-mean, when neither exists."""
    looks_like_path = "/" in value or value.endswith(SPEC_SUFFIXES)
    candidate = base / value
    if _is_file(candidate):
        return str(candidate.resolve())
    if not looks_like_path:
        found = find_library_spec(value)
        if found is not None:
            return str(found)
    hint = did_you_mean(Path(value).stem, library_names())
    raise SpecError("GR114", f"no spec file or library spec `{_short(value)}`{hint} (looked at "
                    f"{_short(str(candidate), 200)})",
                    loc=loc, fix="give the spec's path relative to the file that names it, or a library "
                                 "name: " + ", ".join(library_names()))
