"""Property checks of one network, driven by hypothesis.

    from graphrnn.testing import check_all, check_gradients
    reports = check_all(net, examples=10, seed=0)     # raises when a property fails

Each ``check_X(net, examples=..., seed=...)`` draws ``examples`` cases with
hypothesis (inputs, parameters and targets: :func:`~graphrnn.testing.cases`),
checks one property on each, and returns a :class:`Report`.  When the
property fails, hypothesis *shrinks* the failing case (fewer steps, one batch
row, inputs toward zero, seeds toward 0) and the check raises
:class:`PropertyError` (:class:`GradientCheckError` for gradients), an
AssertionError whose message shows the worst entry -- the parameter, the
node or edge it belongs to with its spec location, the two values side by
side -- and the minimal counterexample as lines of Python.

The checks (docs/property-testing.md):

==============  ===================================================  =========
check           property                                             tolerance
==============  ===================================================  =========
gradients       central differences (float64) = ``net.grad``         1e-6 rel.
engines         fused engine = autograd engine, values and grads     1e-10
bptt_rtrl       BPTT = RTRL (skipped while RTRL does not exist)      1e-8
batch           a batch = its rows run one by one                    1e-12
unroll          the planned run = the step-by-step reference         1e-12
order           shuffled ``nodes:``/``edges:`` = the same network    1e-12
roundtrip       load -> dump -> load = the same network             1e-12
kinds           each node kind's ``combine_vjp`` = autograd's vjp    1e-10
==============  ===================================================  =========

Differences are measured as |a - b| / max(1, |b|): absolute below 1,
relative above; the gradient check uses the relative error of the whole
gradient vector, ||a - n|| / (||a|| + ||n||), as in cs231n.

Hypothesis runs derandomised from ``seed`` with a local settings object
(``max_examples=examples``, no deadline, no example database), so a check
gives the same answer every time and replays no examples saved by earlier
runs (hypothesis may still keep its cache of source constants in
``.hypothesis/`` of the current directory, as any hypothesis run does).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import autograd.numpy as anp
import numpy as np
from autograd import grad as ag_grad
from autograd import make_vjp
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..errors import GraphRNNError, RunError
from ..ops import OPS, OpKind
from ..plan import build_plan
from ..runtime import Network
from .dump import dumps, plain
from .reference import reference_run
from .strategies import Case, cases

__all__ = ["Report", "PropertyError", "GradientCheckError", "CHECKS", "check_all", "check_gradients",
           "check_engines", "check_bptt_rtrl", "check_batch", "check_unroll", "check_order",
           "check_roundtrip", "check_kinds", "check_kind", "describe_param"]

DEFAULT_EXAMPLES = 10
FD_EPS = 1e-6        # central-difference step
FD_TOL = 1e-6        # relative error of the whole gradient vector
ENGINE_TOL = 1e-10   # fused vs autograd, values and gradients
RTRL_TOL = 1e-8      # BPTT vs RTRL
EXACT = 1e-12        # batch, unroll, order, round trip
KIND_TOL = 1e-10     # combine_vjp vs autograd


# -- reports and errors ---------------------------------------------------------------

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
        if kind is None or kind.combine_vjp is None:
            continue
        bad = _quick_kind_check(kind)
        if bad:
            lines.append(f"suspect: node kind `{op}` ({_nodes_text(nodes)}): its hand-written combine_vjp "
                         f"disagrees with autograd's derivative of its combine ({bad}); "
                         "see `graphrnn.testing.check_kind`")
    return lines


# -- networks to check --------------------------------------------------------------------

def _variant(net, engine: str | None = None, untruncate: bool = False) -> Network:
    """``net`` itself, or a float64 copy on ``engine`` and/or with ``truncate`` removed."""
    engine = engine or net.engine
    ir = net.ir
    if untruncate and any(e.truncate for e in ir.edges):
        ir = replace(ir, edges=tuple(replace(e, truncate=False) if e.truncate else e for e in ir.edges))
    if ir is net.ir and engine == net.engine and net.dtype == np.float64:
        return net
    other = Network(ir, net.plan if ir is net.ir else build_plan(ir), engine, "float64")
    other.spec = net.spec
    return other


def _engine_note(net) -> tuple:
    return () if net.dtype == np.float64 else (f"computed in float64 (the network runs in {net.dtype})",)


# -- the hypothesis driver ----------------------------------------------------------------

@dataclass
class _Outcome:
    """One example's result: ``error`` (the key number), whether it failed, the worst entry."""

    error: float
    failed: bool
    worst: dict
    lines: tuple = ()


class _Found(Exception):
    def __init__(self, outcome: _Outcome, case):
        super().__init__(outcome.error)
        self.outcome, self.case = outcome, case


@dataclass
class _Result:
    examples: int
    outcome: _Outcome | None
    case: object
    failed: bool


def _settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples)), derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                    verbosity=Verbosity.quiet, print_blob=False,
                    phases=(Phase.explicit, Phase.generate, Phase.shrink))


def _crash(err: Exception) -> _Outcome:
    text = f"{type(err).__name__}: {err}".splitlines()
    return _Outcome(math.inf, True, {"exception": "\n".join(text)},
                    ("raised " + text[0],) + tuple("  " + line for line in text[1:]))


def _search(strategy, measure: Callable, examples: int, seed: int) -> _Result:
    """Run ``measure`` on hypothesis-drawn cases; shrink and return the minimal failure, if any.

    ``measure(case) -> _Outcome``; an exception inside it is a failure too.
    """
    state = {"runs": 0, "first": 0, "worst": None}

    def prop(case):
        try:
            outcome = measure(case)
        except Exception as err:   # a crash is a counterexample as well
            outcome = _crash(err)
        state["runs"] += 1
        if outcome.failed:
            state["first"] = state["first"] or state["runs"]
            raise _Found(outcome, case)
        if state["worst"] is None or not outcome.error <= state["worst"][0].error:
            state["worst"] = (outcome, case)

    test = _settings(examples)(hypothesis_seed(seed)(given(strategy)(prop)))
    try:
        test()
    except _Found as found:
        return _Result(state["first"], found.outcome, found.case, True)
    outcome, case = state["worst"] or (None, None)
    return _Result(state["runs"], outcome, case, False)


def _report(name: str, result: _Result, tolerance: float, measure: str, describe: Callable,
            headline: str = "", hints: Callable | None = None, notes: tuple = ()) -> Report:
    outcome = result.outcome or _Outcome(0.0, False, {})
    worst = dict(outcome.worst)
    if isinstance(result.case, Case):
        worst.setdefault("steps", result.case.steps)
        worst.setdefault("batch", result.case.batch)
    details, counterexample = (), None
    if result.failed:
        details = ((headline,) if headline else ()) + tuple(outcome.lines)
        if hints is not None:
            details += tuple(hints())
        counterexample = describe(result.case)
    return Report(name, not result.failed, result.examples, float(outcome.error), tolerance, measure,
                  worst, None, counterexample, details, tuple(notes))


def _describe_case(case: Case) -> str:
    return case.describe("    ")


def _difference(a, b) -> np.ndarray:
    """|a - b| / max(1, |b|), elementwise: absolute below 1, relative above."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = np.abs(a - b) / np.maximum(1.0, np.abs(b))
    return np.where(np.isnan(diff), np.inf, diff)


class _Worst:
    """Keeps the largest difference seen over a series of array comparisons."""

    def __init__(self):
        self.error, self.info = 0.0, None

    def compare(self, label: str, got, want, **info) -> None:
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        if got.shape != want.shape:
            self.error, self.info = math.inf, dict(info, label=label, shape=(got.shape, want.shape))
            return
        if got.size == 0:
            return
        diff = _difference(got, want)
        index = np.unravel_index(int(np.argmax(diff)), diff.shape)
        if diff[index] > self.error or self.info is None:
            self.error = float(diff[index])
            self.info = dict(info, label=label, index=tuple(int(i) for i in index),
                             got=float(got[index]), want=float(want[index]))

    def outcome(self, tolerance: float, got_name: str, want_name: str, where: Callable | None = None) -> _Outcome:
        info = self.info or {}
        lines = ()
        if "shape" in info:
            lines = (f"{info['label']}: shape {info['shape'][0]} ({got_name}) vs {info['shape'][1]} ({want_name})",)
        elif info:
            place = where(info) if where else _entry(info["label"], info["index"])
            lines = (f"worst entry: {place}",) + _side_by_side(
                [(got_name, _val(info["got"])), (want_name, _val(info["want"])),
                 ("difference", " " + _num(self.error))])
        return _Outcome(self.error, not self.error <= tolerance, info, lines)


def _trace_place(info) -> str:
    t, b, unit = info["index"]
    return f"node `{info['label']}` at step t={t}, batch row {b}, unit {unit}"


# -- gradients: central differences --------------------------------------------------------

def _gradients(net, examples: int, seed: int, eps: float = FD_EPS, tolerance: float = FD_TOL,
               max_steps: int = 4, max_batch: int = 3) -> Report:
    truncated = sum(1 for e in net.ir.edges if e.truncate)
    work = _variant(net, untruncate=True)
    notes = _engine_note(net)
    if truncated:
        notes += (f"`truncate: true` removed from {truncated} edge{'s' if truncated != 1 else ''} for "
                  "this check: truncation makes the gradient differ from finite differences on purpose "
                  "(the engines check compares the truncated gradient)",)
    names = sorted(work.trainable)
    if not names:
        return Report("gradients", True, 0, skipped="no trainable parameters")

    def measure(case: Case) -> _Outcome:
        params, x, target = case.params, case.x, case.target
        grads = work.grad(params, x, target, kind="mse")
        analytic, numeric, where = [], [], []
        for name in names:
            base = np.asarray(params[name], dtype=float)
            g = np.asarray(grads[name], dtype=float)
            for index in np.ndindex(base.shape):
                shifted = dict(params)
                bumped = base.copy()
                shifted[name] = bumped
                bumped[index] = base[index] + eps
                plus = work.loss(shifted, x, target, kind="mse")
                bumped[index] = base[index] - eps
                minus = work.loss(shifted, x, target, kind="mse")
                analytic.append(float(g[index]))
                numeric.append(float(plus - minus) / (2 * eps))
                where.append((name, index))
        a, n = np.array(analytic), np.array(numeric)
        gap = float(np.linalg.norm(a - n))
        error = gap / max(float(np.linalg.norm(a) + np.linalg.norm(n)), 1e-8)
        if not math.isfinite(error):
            error = math.inf
        # Central differences cannot resolve a difference below their rounding noise,
        # about eps_machine * |loss| / eps per entry: the relative test falls back to an
        # absolute one at 16x that noise (tests/runtime/test_properties.py).
        loss = float(work.loss(params, x, target, kind="mse"))
        noise = math.sqrt(a.size) * 16 * np.finfo(float).eps * max(1.0, abs(loss)) / eps
        passed = error < tolerance or gap < noise
        k = int(np.argmax(np.where(np.isnan(a - n), np.inf, np.abs(a - n))))
        name, index = where[k]
        entry_error = abs(a[k] - n[k]) / max(abs(a[k]), abs(n[k]), 1e-300)
        worst = {"parameter": name, "index": index, "entry": _entry(name, index),
                 "where": describe_param(work, name), "analytic": a[k], "numeric": n[k],
                 "entry_relative_error": entry_error, "relative_error": error, "difference_norm": gap,
                 "noise_floor": noise, "within_noise": bool(error >= tolerance and gap < noise)}
        lines = (f"relative error ||a - n|| / (||a|| + ||n||) = {_num(error)} over {a.size} trainable "
                 f"entries (|a - n| = {_num(gap)}; rounding-noise floor {_num(noise)})",
                 f"worst entry: {worst['entry']} -- {worst['where']}")
        lines += _side_by_side([(f"analytic (net.grad, {work.engine} engine)", _val(a[k])),
                                (f"numeric (central differences, eps {eps:g})", _val(n[k])),
                                ("relative error of this entry", " " + _num(entry_error))])
        return _Outcome(error, not passed, worst, lines)

    result = _search(cases(work, max_steps=max_steps, max_batch=max_batch), measure, examples, seed)
    if not result.failed and result.outcome is not None and result.outcome.worst.get("within_noise"):
        notes += ("the largest relative error is within the rounding noise of central differences",)
    return _report("gradients", result, tolerance, "relative error", _describe_case,
                   f"central differences disagree with net.grad (mse loss, {work.engine} engine, float64)",
                   lambda: _kind_hints(work), notes)


# -- engines: fused vs autograd ------------------------------------------------------------

def _engines(net, examples: int, seed: int, tolerance: float = ENGINE_TOL,
             max_steps: int = 4, max_batch: int = 3) -> Report:
    try:
        fused, reference = _variant(net, engine="fused"), _variant(net, engine="autograd")
    except GraphRNNError as err:
        return Report("engines", True, 0, skipped=f"the fused engine cannot run this network ({err.message})")
    nodes = list(net.ir.nodes)

    def objective(which, x, weights):
        # every node enters, so every block's backward path is exercised
        def f(params, z):
            trace = which.run(params, z)
            return anp.sum(trace.y * weights) + sum(anp.sum(anp.sin(trace[n])) for n in nodes)
        return f

    def measure(case: Case) -> _Outcome:
        params, x, weights = case.params, case.x, case.target
        worst = _Worst()
        a, b = fused.run(params, x), reference.run(params, x)
        for node in nodes:
            worst.compare(node, a[node], b[node], what="value")
        f, r = objective(fused, x, weights), objective(reference, x, weights)
        ga, gb = ag_grad(f, 0)(params, x), ag_grad(r, 0)(params, x)
        for name in params:
            worst.compare(name, ga[name], gb[name], what="gradient")
        worst.compare("x", ag_grad(f, 1)(params, x), ag_grad(r, 1)(params, x), what="input gradient")

        def where(info):
            if info["what"] == "value":
                return "value of " + _trace_place(info)
            if info["what"] == "input gradient":
                return f"gradient of the input x[{', '.join(map(str, info['index']))}]"
            return (f"gradient of {_entry(info['label'], info['index'])} -- "
                    f"{describe_param(fused, info['label'])}")
        return worst.outcome(tolerance, "fused", "autograd", where)

    result = _search(cases(fused, max_steps=max_steps, max_batch=max_batch), measure, examples, seed)
    return _report("engines", result, tolerance, "max difference", _describe_case,
                   "the fused engine (numpy BPTT from the registered combine_vjp rules) disagrees with "
                   "the autograd engine (which differentiates combine itself); objective: "
                   "sum(y * target) + sum of sin(every node)", lambda: _kind_hints(fused),
                   _engine_note(net))


# -- BPTT vs RTRL --------------------------------------------------------------------------

def _bptt_rtrl(net, examples: int, seed: int, tolerance: float = RTRL_TOL,
               max_steps: int = 4, max_batch: int = 3) -> Report:
    work = _variant(net)
    if not work.trainable:
        return Report("bptt_rtrl", True, 0, skipped="no trainable parameters")
    params = work.init(0)
    x = np.zeros((1, 1, work.input_size))
    try:
        work.grad(params, x, np.zeros((1, 1, work.output_size)), kind="mse", method="rtrl")
    except RunError as err:
        return Report("bptt_rtrl", True, 0, skipped=f"RTRL is not available ({err.message})")

    def measure(case: Case) -> _Outcome:
        a = work.grad(case.params, case.x, case.target, kind="mse", method="bptt")
        b = work.grad(case.params, case.x, case.target, kind="mse", method="rtrl")
        worst = _Worst()
        for name in sorted(a):
            worst.compare(name, a[name], b[name])
        return worst.outcome(tolerance, "BPTT", "RTRL", lambda info: (
            f"{_entry(info['label'], info['index'])} -- {describe_param(work, info['label'])}"))

    result = _search(cases(work, max_steps=max_steps, max_batch=max_batch), measure, examples, seed)
    return _report("bptt_rtrl", result, tolerance, "max difference", _describe_case,
                   "BPTT and RTRL give different gradients (mse loss)", lambda: _kind_hints(work),
                   _engine_note(net))


# -- a batch is its rows -------------------------------------------------------------------

def _batch(net, examples: int, seed: int, tolerance: float = EXACT,
           max_steps: int = 4, max_batch: int = 3) -> Report:
    work = _variant(net)

    def measure(case: Case) -> _Outcome:
        whole = work.run(case.params, case.x)
        worst = _Worst()
        for b in range(case.batch):
            row = work.run(case.params, case.x[:, b:b + 1, :])
            for node in work.ir.nodes:
                worst.compare(node, whole[node][:, b:b + 1, :], row[node], row=b)
        return worst.outcome(tolerance, "in the batch", "row alone", lambda info: (
            f"node `{info['label']}` at step t={info['index'][0]}, batch row {info['row']}, "
            f"unit {info['index'][2]}"))

    result = _search(cases(work, max_steps=max_steps, max_batch=max(2, max_batch), min_batch=2),
                     measure, examples, seed)
    return _report("batch", result, tolerance, "max difference", _describe_case,
                   "running the batch differs from running its rows one by one", notes=_engine_note(net))


# -- the planned run vs the step-by-step reference -----------------------------------------

def _unroll(net, examples: int, seed: int, tolerance: float = EXACT,
            max_steps: int = 4, max_batch: int = 3) -> Report:
    work = _variant(net)

    def measure(case: Case) -> _Outcome:
        trace = work.run(case.params, case.x)
        want = reference_run(work.ir, case.params, case.x)
        worst = _Worst()
        for node in work.ir.nodes:
            worst.compare(node, trace[node], want[node])
        return worst.outcome(tolerance, "planned run", "reference_run", _trace_place)

    result = _search(cases(work, max_steps=max_steps, max_batch=max_batch), measure, examples, seed)
    return _report("unroll", result, tolerance, "max difference", _describe_case,
                   f"the planned run ({work.engine} engine) differs from the step-by-step reference "
                   "interpreter (graphrnn.testing.reference_run)", notes=_engine_note(net))


# -- the same network, written differently -------------------------------------------------

def _no_spec(name: str, net) -> Report | None:
    if net.spec is None:
        return Report(name, True, 0, skipped="the network was not built from a spec")
    if net.spec.kind != "network":
        return Report(name, True, 0, skipped=f"the spec is a {net.spec.kind}, not a network")
    return None


def _graph_difference(a, b, instance_order: bool = True) -> str | None:
    """The first difference between two expanded graphs, or None (locations ignored).

    ``instance_order=False`` compares the module instances as a set: their
    order is the YAML's (``graphrnn show`` lists them as written).
    """
    if a.name != b.name:
        return f"name {a.name!r} vs {b.name!r}"
    if list(a.inputs.items()) != list(b.inputs.items()):
        return f"inputs {dict(a.inputs)} vs {dict(b.inputs)}"
    if list(a.outputs.items()) != list(b.outputs.items()):
        return f"outputs {dict(a.outputs)} vs {dict(b.outputs)}"
    if list(a.nodes) != list(b.nodes):
        return f"node names {list(a.nodes)} vs {list(b.nodes)}"
    for name, node in a.nodes.items():
        if node != b.nodes[name]:
            return f"node `{name}`: {node!r} vs {b.nodes[name]!r}"
    if len(a.edges) != len(b.edges):
        return f"{len(a.edges)} edges vs {len(b.edges)}"
    for i, (x, y) in enumerate(zip(a.edges, b.edges)):
        if x != y:
            return f"edge {i}: {x!r} vs {y!r}"
    first, second = a.instances, b.instances
    if not instance_order:
        first, second = (sorted(i, key=lambda m: m.name) for i in (first, second))
    if list(first) != list(second):
        return f"module instances {[str(m) for m in first]} vs {[str(m) for m in second]}"
    return None


def _same_network(work, other, init_seed: int, case: Case, got_name: str, want_name: str,
                  tolerance: float, instance_order: bool = True) -> _Outcome:
    differs = _graph_difference(other.ir, work.ir, instance_order)
    if differs:
        return _Outcome(math.inf, True, {"graph": differs}, (f"expanded graphs differ: {differs}",))
    if list(other.params) != list(work.params):
        return _Outcome(math.inf, True, {"params": (list(other.params), list(work.params))},
                        (f"parameter names differ: {list(other.params)} vs {list(work.params)}",))
    if other.trainable != work.trainable:
        return _Outcome(math.inf, True, {"trainable": sorted(other.trainable ^ work.trainable)},
                        (f"trainable parameters differ: {sorted(other.trainable ^ work.trainable)}",))
    worst = _Worst()
    first, second = other.init(init_seed), work.init(init_seed)
    for name in second:
        worst.compare(name, first[name], second[name], what="init")
    a, b = other.run(case.params, case.x), work.run(case.params, case.x)
    for node in work.ir.nodes:
        worst.compare(node, a[node], b[node], what="value")

    def where(info):
        if info["what"] == "init":
            return f"init({init_seed}) value of {_entry(info['label'], info['index'])}"
        return "value of " + _trace_place(info)
    return worst.outcome(tolerance, got_name, want_name, where)


def _order(net, examples: int, seed: int, tolerance: float = EXACT,
           max_steps: int = 4, max_batch: int = 3) -> Report:
    skip = _no_spec("order", net)
    if skip:
        return skip
    work = _variant(net)
    doc = plain(net.spec.data)
    node_names = list(doc.get("nodes") or {})
    edge_count = len(doc.get("edges") or [])

    def shuffled(node_order, edge_order) -> str:
        out = dict(doc)
        if node_names:
            out["nodes"] = {name: doc["nodes"][name] for name in node_order}
        if edge_count:
            out["edges"] = [doc["edges"][i] for i in edge_order]
        return dumps(out)

    def measure(drawn) -> _Outcome:
        case, node_order, edge_order, init_seed = drawn
        other = _load_like(work, shuffled(node_order, edge_order))
        return _same_network(work, other, init_seed, case, "shuffled", "as written", tolerance,
                             instance_order=False)

    def describe(drawn) -> str:
        case, node_order, edge_order, init_seed = drawn
        return "\n".join([f"    nodes in the order: {', '.join(node_order)}",
                          f"    edges in the order: {', '.join(f'edges[{i}]' for i in edge_order)}",
                          f"    init seed {init_seed}", _describe_case(case)])

    strategy = st.tuples(cases(work, max_steps=max_steps, max_batch=max_batch),
                         st.permutations(node_names), st.permutations(list(range(edge_count))),
                         st.integers(0, 2**16))
    result = _search(strategy, measure, examples, seed)
    return _report("order", result, tolerance, "max difference", describe,
                   "the network depends on the order of `nodes:` or `edges:` in the YAML",
                   notes=_engine_note(net))


def _load_like(work, text: str) -> Network:
    from ..compiler import loads
    return loads(text, work.spec.file, engine=work.engine)


def _roundtrip(net, examples: int, seed: int, tolerance: float = EXACT,
               max_steps: int = 4, max_batch: int = 3) -> Report:
    skip = _no_spec("roundtrip", net)
    if skip:
        return skip
    work = _variant(net)
    text = dumps(net)
    try:
        other = _load_like(work, text)
    except GraphRNNError as err:
        return Report("roundtrip", False, 1, math.inf, tolerance, "max difference",
                      {"error": str(err)}, None, None,
                      ("the dumped YAML does not load again:",) + tuple(str(err).splitlines())
                      + ("the dumped text:",) + tuple("  " + line for line in text.splitlines()))

    def measure(drawn) -> _Outcome:
        case, init_seed = drawn
        return _same_network(work, other, init_seed, case, "reloaded", "original", tolerance)

    def describe(drawn) -> str:
        case, init_seed = drawn
        return f"    init seed {init_seed}\n" + _describe_case(case)

    strategy = st.tuples(cases(work, max_steps=max_steps, max_batch=max_batch), st.integers(0, 2**16))
    result = _search(strategy, measure, examples, seed)
    return _report("roundtrip", result, tolerance, "max difference", describe,
                   "load -> dump (graphrnn.testing.dumps) -> load does not give the same network",
                   notes=_engine_note(net))


# -- node kinds: combine_vjp vs autograd ---------------------------------------------------

def _slot_labels(kind: OpKind, count: int) -> list[str]:
    if kind.ports:
        return [f"port `{p}`" for p in kind.ports]
    if kind.factor_per_edge:
        return [f"factor {k}" for k in range(count)]
    return ["slot"] if count == 1 else [f"slot {k}" for k in range(count)]


def _kind_outcome(kind: OpKind, slots: list, g, tolerance: float) -> _Outcome:
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
def _kind_cases(draw, kind: OpKind):
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


def _describe_slots(kind: OpKind, drawn) -> str:
    slots, g = drawn
    labels = _slot_labels(kind, len(slots))
    lines = [f"    {label}: {np.array2string(s, separator=', ', floatmode='unique')}"
             for label, s in zip(labels, slots)]
    lines.append(f"    g (gradient of the pre-activation): {np.array2string(g, separator=', ', floatmode='unique')}")
    return "\n".join(lines)


def _quick_kind_check(kind: OpKind) -> str | None:
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


def _kind_report(kind: OpKind, examples: int, seed: int, tolerance: float, nodes=()) -> Report:
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


# -- public checks ---------------------------------------------------------------------------

def _finish(report: Report, error: type = PropertyError) -> Report:
    if report.status == "FAIL":
        raise error(report)
    return report


def check_gradients(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, eps: float = FD_EPS,
                    tolerance: float = FD_TOL, max_steps: int = 4, max_batch: int = 3) -> Report:
    """Central finite differences (float64, step ``eps``) vs ``net.grad`` of an mse loss.

    Every trainable entry is perturbed; the property holds when the relative
    error of the whole gradient vector, ||a - n|| / (||a|| + ||n||), is below
    ``tolerance``, or ||a - n|| is below the rounding noise of central
    differences (sqrt(#entries) * 16 * eps_machine * max(1, |loss|) / eps).
    Edges with ``truncate: true`` are checked without the truncation (a
    truncated gradient is not the derivative of the loss, on purpose); the
    report says so.  Raises :class:`GradientCheckError` naming the worst
    entry, its edge or node and location, analytic and numeric values, and
    the minimal counterexample.
    """
    return _finish(_gradients(net, examples, seed, eps, tolerance, max_steps, max_batch), GradientCheckError)


def check_engines(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = ENGINE_TOL,
                  max_steps: int = 4, max_batch: int = 3) -> Report:
    """The fused engine (hand-written backward rules) = the autograd engine, values and gradients.

    Compares every node's values, and the gradients with respect to every
    parameter and the input of sum(y * target) + sum(sin(node)) over all
    nodes, to ``tolerance``.  This is what catches a wrong ``combine_vjp``
    most directly.  Skipped when the fused engine cannot run the network (a
    kind without ``combine_vjp``).  Raises :class:`GradientCheckError`.
    """
    return _finish(_engines(net, examples, seed, tolerance, max_steps, max_batch), GradientCheckError)


def check_bptt_rtrl(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = RTRL_TOL,
                    max_steps: int = 4, max_batch: int = 3) -> Report:
    """BPTT = RTRL (``net.grad(..., method="rtrl")``) to ``tolerance``.

    While RTRL is not available (``grad`` raises a RunError for the method),
    returns a passed Report whose ``skipped`` says why.
    """
    return _finish(_bptt_rtrl(net, examples, seed, tolerance, max_steps, max_batch), GradientCheckError)


def check_batch(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                max_steps: int = 4, max_batch: int = 3) -> Report:
    """A batch of B >= 2 rows gives, for every node, what each row gives alone."""
    return _finish(_batch(net, examples, seed, tolerance, max_steps, max_batch))


def check_unroll(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                 max_steps: int = 4, max_batch: int = 3) -> Report:
    """The planned run = :func:`~graphrnn.testing.reference_run` (the step-by-step interpreter), every node."""
    return _finish(_unroll(net, examples, seed, tolerance, max_steps, max_batch))


def check_order(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                max_steps: int = 4, max_batch: int = 3) -> Report:
    """Reordering ``nodes:`` and ``edges:`` in the YAML gives the same network.

    The same expanded graph, the same parameter names and ``init`` values,
    the same trainable set, the same values at every node.  Skipped for a
    network built without a spec.
    """
    return _finish(_order(net, examples, seed, tolerance, max_steps, max_batch))


def check_roundtrip(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = EXACT,
                    max_steps: int = 4, max_batch: int = 3) -> Report:
    """load -> :func:`~graphrnn.testing.dumps` -> load gives the same network (as :func:`check_order`)."""
    return _finish(_roundtrip(net, examples, seed, tolerance, max_steps, max_batch))


def check_kinds(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, tolerance: float = KIND_TOL) -> Report:
    """Every node kind ``net`` uses: its ``combine_vjp`` = autograd's vjp of its ``combine``."""
    return _finish(_kinds(net, examples, seed, tolerance), GradientCheckError)


def check_kind(kind: OpKind | str, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *,
               tolerance: float = KIND_TOL) -> Report:
    """One node kind (an OpKind or a registered name): ``combine_vjp`` = autograd's vjp of ``combine``.

    Draws slots (one per port, 1-3 factors for ``factor_per_edge`` kinds, one
    otherwise) of shape (B, size) and a pre-activation gradient ``g``.
    """
    kind = OPS[kind] if isinstance(kind, str) else kind
    return _finish(_kind_report(kind, examples, seed, tolerance), GradientCheckError)


CHECKS = {
    "gradients": (_gradients, GradientCheckError),
    "engines": (_engines, GradientCheckError),
    "bptt_rtrl": (_bptt_rtrl, GradientCheckError),
    "batch": (_batch, PropertyError),
    "unroll": (_unroll, PropertyError),
    "order": (_order, PropertyError),
    "roundtrip": (_roundtrip, PropertyError),
    "kinds": (_kinds, GradientCheckError),
}


def check_all(net, examples: int = DEFAULT_EXAMPLES, seed: int = 0, *, raise_errors: bool = True,
              checks=None) -> list[Report]:
    """Run every check (or those named in ``checks``) and return their reports, in CHECKS order.

    With ``raise_errors`` (the default) a failure raises, after all checks
    ran, the first failing check's error class (:class:`GradientCheckError`
    or :class:`PropertyError`) with every report in ``.reports``; with
    ``raise_errors=False`` the failed reports are just returned.  A check
    that crashes outright is reported as failed.
    """
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; the checks are {', '.join(CHECKS)}")
    reports = []
    for name in names:
        run, _ = CHECKS[name]
        try:
            reports.append(run(net, examples, seed))
        except Exception as err:   # a check that cannot even start is a failure, not a crash
            reports.append(Report(name, False, 0, math.inf, 0.0, "max difference",
                                  {"exception": f"{type(err).__name__}: {err}"},
                                  details=(f"the check raised {type(err).__name__}: {err}",)))
    failed = [r for r in reports if r.status == "FAIL"]
    if failed and raise_errors:
        raise CHECKS[failed[0].name][1](failed[0], tuple(reports))
    return reports
