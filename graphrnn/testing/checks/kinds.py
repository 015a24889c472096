"""The node-kind checks: each kind's hand-written ``combine_vjp`` = autograd's vjp of ``combine``."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from autograd import make_vjp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ...ops import OPS, CombinerKind
from .driver import DEFAULT_EXAMPLES, _Outcome, _report, _search, _Worst
from .report import GradientCheckError, Report, _finish, _num

KIND_TOL = 1e-10     # combine_vjp vs autograd


def _kinds_used(net) -> dict:
    used: dict[str, list[str]] = {}
    for node in net.ir.nodes.values():
        if not node.is_input:
            used.setdefault(node.op, []).append(node.name)
    return dict(sorted(used.items()))


def _nodes_text(names: list) -> str:
    shown = ", ".join(names[:4]) + (f", ... ({len(names)} in all)" if len(names) > 4 else "")
    return f"node{'s' if len(names) != 1 else ''} {shown}"


def _kind_hints(net) -> list[str]:
    """Lines naming the node kinds of ``net``, and any whose combine_vjp is wrong."""
    used = _kinds_used(net)
    lines = ["node kinds here: " + "; ".join(f"`{op}` ({_nodes_text(nodes)})" for op, nodes in used.items())]
    for op, nodes in used.items():
        kind = OPS.get(op)
        if not isinstance(kind, CombinerKind) or kind.combine_vjp is None:
            continue
        bad = _quick_kind_check(kind)
        if bad:
            lines.append(f"suspect: node kind `{op}` ({_nodes_text(nodes)}): its hand-written combine_vjp "
                         f"disagrees with autograd's derivative of its combine ({bad}); "
                         "see `graphrnn.testing.check_kind`")
    return lines


# -- node kinds: combine_vjp vs autograd ---------------------------------------------------

def _slot_labels(kind: CombinerKind, count: int) -> list[str]:
    if kind.ports:
        return [f"port `{p}`" for p in kind.ports]
    if kind.factor_per_edge:
        return [f"factor {k}" for k in range(count)]
    return ["slot"] if count == 1 else [f"slot {k}" for k in range(count)]


def _kind_outcome(kind: CombinerKind, slots: list, g, tolerance: float) -> _Outcome:
    labels = _slot_labels(kind, len(slots))
    got = kind.combine_vjp([np.array(s) for s in slots], np.array(g))
    vjp, _ = make_vjp(lambda s: kind.combine(list(s)))(tuple(slots))
    want = vjp(g)
    if len(got) != len(slots):
        return _Outcome(math.inf, True, {"kind": kind.name, "slots": len(slots), "returned": len(got)},
                        (f"combine_vjp of `{kind.name}` returned {len(got)} gradients for {len(slots)} slots",))
    worst = _Worst()
    for label, a, b in zip(labels, got, want):
        worst.compare(label, np.broadcast_to(a, np.shape(b)) if np.size(a) == 1 else a, b)
    outcome = worst.outcome(tolerance, "combine_vjp", "autograd", lambda info: (
        f"gradient of {info['label']} at row {info['index'][0]}, unit {info['index'][1]}"))
    outcome.worst["kind"] = kind.name
    return outcome


@st.composite
def _kind_cases(draw, kind: CombinerKind):
    if kind.ports:
        count = len(kind.ports)
    elif kind.factor_per_edge:
        count = draw(st.integers(1, 3))
    else:
        count = 1
    batch, size = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    values = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
    slots = [draw(hnp.arrays(np.float64, (batch, size), elements=values)) for _ in range(count)]
    return slots, draw(hnp.arrays(np.float64, (batch, size), elements=values))


def _describe_slots(kind: CombinerKind, drawn) -> str:
    slots, g = drawn
    labels = _slot_labels(kind, len(slots))
    lines = [f"    {label}: {np.array2string(s, separator=', ', floatmode='unique')}"
             for label, s in zip(labels, slots)]
    lines.append(f"    g (gradient of the pre-activation): {np.array2string(g, separator=', ', floatmode='unique')}")
    return "\n".join(lines)


def _quick_kind_check(kind: CombinerKind) -> str | None:
    """A short numpy-seeded comparison of combine_vjp with autograd; a description if wrong."""
    rng = np.random.default_rng(0)
    counts = [len(kind.ports)] if kind.ports else ([1, 2, 3] if kind.factor_per_edge else [1])
    for count in counts:
        slots = [rng.uniform(-2, 2, (2, 3)) for _ in range(count)]
        try:
            outcome = _kind_outcome(kind, slots, rng.uniform(-2, 2, (2, 3)), KIND_TOL)
        except Exception as err:
            return f"raised {type(err).__name__}: {err}"
        if outcome.failed:
            label = outcome.worst.get("label")
            return (f"on {label}, " if label else "") + f"max difference {_num(outcome.error)}"
    return None


def _kind_report(kind, examples: int, seed: int, tolerance: float, nodes=()) -> Report:
    if not isinstance(kind, CombinerKind):
        return Report("kinds", True, 0, skipped=f"node kind `{kind.name}` steps with state; it has no combine "
                                                "to check")
    if kind.combine_vjp is None:
        return Report("kinds", True, 0, skipped=f"node kind `{kind.name}` has no combine_vjp (autograd engine only)")
    result = _search(_kind_cases(kind), lambda drawn: _kind_outcome(kind, drawn[0], drawn[1], tolerance),
                     examples, seed)
    where = f" ({_nodes_text(list(nodes))})" if nodes else ""
    return _report("kinds", result, tolerance, "max difference", lambda drawn: _describe_slots(kind, drawn),
                   f"node kind `{kind.name}`{where}: its hand-written combine_vjp disagrees with "
                   "autograd's derivative of its combine")


def _kinds(net, examples: int, seed: int, tolerance: float = KIND_TOL) -> Report:
    used = _kinds_used(net)
    reports, notes = [], []
    for op, nodes in used.items():
        report = _kind_report(OPS[op], examples, seed, tolerance, nodes)
        if report.skipped:
            notes.append(report.skipped)
        elif not report.passed:
            return replace(report, examples=sum(r.examples for r in reports) + report.examples,
                           notes=tuple(notes))
        else:
            reports.append(report)
    if not reports:
        return Report("kinds", True, 0, skipped="no node kind here has a combine_vjp", notes=tuple(notes))
    worst = max(reports, key=lambda r: r.error)
    return Report("kinds", True, sum(r.examples for r in reports), worst.error, tolerance, "max difference",
                  dict(worst.worst), notes=(f"kinds checked: {', '.join(used)}",) + tuple(notes))


def check_kinds(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = KIND_TOL) -> Report:
    """Every node kind ``net`` uses: its ``combine_vjp`` = autograd's vjp of its ``combine``."""
    return _finish(_kinds(net, examples, seed, tolerance), GradientCheckError)


def check_kind(kind: CombinerKind | str, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *,
               tolerance: float = KIND_TOL) -> Report:
    """One node kind (a CombinerKind or a registered name): ``combine_vjp`` = autograd's vjp of ``combine``.

    Draws slots (one per port, 1-3 factors for ``factor_per_edge`` kinds, one
    otherwise) of shape (B, size) and a pre-activation gradient ``g``.
    """
    kind = OPS[kind] if isinstance(kind, str) else kind
    return _finish(_kind_report(kind, examples, seed, tolerance), GradientCheckError)
