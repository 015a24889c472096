"""What a check found, the errors a failed check raises, and how both read.

A :class:`Report` is plain data; its text (``summary()``, ``str()``) is what
``graphrnn check`` prints and what a :class:`PropertyError` says.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Report", "PropertyError", "GradientCheckError", "describe_param"]


@dataclass(frozen=True, eq=False)
class Report:
    """What one check found.

    ``name``: the check (``"gradients"``, ...); ``passed``: whether the
    property held on every example (true for a skipped check);
    ``examples``: how many examples ran (for a failure: up to and including
    the first failing one); ``error``: the key number -- the worst over the
    examples, or the minimal counterexample's -- measured as ``measure``
    says, against ``tolerance``; ``worst``: details of the worst entry
    (parameter, index, node, the two values, T and B of its example);
    ``skipped``: why the check did not run, or None; ``counterexample``: the
    minimal failing case as Python lines; ``details``: the readable
    explanation of a failure; ``notes``: anything else worth saying.
    """

    name: str
    passed: bool
    examples: int = 0
    error: float = 0.0
    tolerance: float = 0.0
    measure: str = "max difference"
    worst: Mapping = field(default_factory=dict)
    skipped: str | None = None
    counterexample: str | None = None
    details: tuple = ()
    notes: tuple = ()

    @property
    def status(self) -> str:
        return "SKIP" if self.skipped else ("PASS" if self.passed else "FAIL")

    def summary(self) -> str:
        """One line: status, check, key number and tolerance, examples."""
        head = f"{self.status} {self.name:<10}"
        if self.skipped:
            return f"{head} {self.skipped}"
        count = f"{self.examples} example{'s' if self.examples != 1 else ''}"
        if self.passed:
            return f"{head} {self.measure} {_num(self.error)} (tolerance {self.tolerance:g}), {count}"
        found = f", failed at example {self.examples}" if self.examples else ""
        return f"{head} {self.measure} {_num(self.error)} > tolerance {self.tolerance:g}{found}"

    def __str__(self) -> str:
        lines = [self.summary()]
        lines += [f"  {line}" for line in self.details]
        if self.counterexample:
            lines.append("  minimal counterexample (shrunk by hypothesis):")
            lines += self.counterexample.splitlines()
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


class PropertyError(AssertionError):
    """A property of the network does not hold; ``report`` (and ``reports``) say how."""

    def __init__(self, report: Report, reports: tuple = ()):
        self.report = report
        self.reports = tuple(reports) or (report,)
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.reports) == 1:
            return str(self.report)
        failed = [r for r in self.reports if r.status == "FAIL"]
        lines = [f"{len(failed)} of {len(self.reports)} checks failed: "
                 f"{', '.join(r.name for r in failed)}"]
        lines += [r.summary() for r in self.reports]
        for report in failed:
            lines += ["", str(report)]
        return "\n".join(lines)


class GradientCheckError(PropertyError):
    """Gradients disagree: finite differences, the two engines, BPTT/RTRL or a kind's combine_vjp."""


def _num(value: float) -> str:
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2g}"


def _val(value: float) -> str:
    return f"{value: .12g}"


def _side_by_side(rows: list) -> tuple:
    """Indented ``label  value`` lines with the values in one column."""
    width = max(len(label) for label, _ in rows)
    return tuple(f"  {label:<{width}}  {value}" for label, value in rows)


def _finish(report: Report, error: type = PropertyError) -> Report:
    """``report``, or raise it as ``error`` when it failed (what every public ``check_X`` returns)."""
    if report.status == "FAIL":
        raise error(report)
    return report


# -- describing where things are ----------------------------------------------------------

def _node_kind(node) -> str:
    return f"op `{node.op}`, activation `{node.activation}`"


def describe_param(net, name: str) -> str:
    """Which edge or node parameter ``name`` belongs to, and its spec location."""
    spec = net.params.get(name)
    edges = [e for e in net.ir.edges if e.param == name]
    if edges:
        edge = edges[0]
        text = f"edge {edge.src} -> {edge.dst}" + (f".{edge.port}" if edge.port else "")
        if edge.delay:
            text += f" (delay {edge.delay})"
        if len(edges) > 1:
            text += f" and {len(edges) - 1} more edge{'s' if len(edges) > 2 else ''} sharing it"
        text += f", into node `{edge.dst}` ({_node_kind(net.ir.nodes[edge.dst])})"
    else:
        node_name, _, what = name.rpartition(".")
        node = net.ir.nodes.get(node_name)
        text = f"{what} of node `{node_name}` ({_node_kind(node)})" if node is not None else name
    if spec is not None and spec.loc is not None:
        text += f", at {spec.loc}"
    return text


def _entry(name: str, index: tuple) -> str:
    return f"{name}[{', '.join(map(str, index))}]" if index else name

