"""The hypothesis driver shared by the checks, and the comparisons it measures with.

A check hands :func:`_search` a strategy and a ``measure(case) -> _Outcome``;
the driver runs it derandomised, shrinks the first failure, and
:func:`_report` turns the result into a :class:`Report`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from ...plan import build_plan
from ...runtime import Network, engine_for
from ..strategies import Case
from .report import Report, _entry, _num, _side_by_side, _val

DEFAULT_EXAMPLES = 10


# -- networks to check --------------------------------------------------------------------

def _variant(net, engine: str | None = None, untruncate: bool = False) -> Network:
    """``net`` itself, or a float64 copy on the engine named ``engine`` and/or with ``truncate`` removed."""
    engine = engine or net.engine.name
    ir = net.ir
    if untruncate and any(e.truncate for e in ir.edges):
        ir = replace(ir, edges=tuple(replace(e, truncate=False) if e.truncate else e for e in ir.edges))
    if ir is net.ir and engine == net.engine.name and net.dtype == np.float64:
        return net
    other = Network(ir, net.plan if ir is net.ir else build_plan(ir), engine_for(ir, engine), "float64")
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
