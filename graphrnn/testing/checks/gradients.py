"""The gradient checks: central differences, fused vs autograd engine, BPTT vs RTRL.

All three raise :class:`GradientCheckError`; on a failure they name the node
kinds in the network and any whose ``combine_vjp`` looks wrong.
"""
from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
from autograd import grad as ag_grad

from ...errors import GraphRNNError, RunError
from ...train.methods import value_and_grad
from ..strategies import Case, cases
from .driver import (DEFAULT_EXAMPLES, _describe_case, _engine_note, _Outcome, _report, _search,
                     _trace_place, _variant, _Worst)
from .kinds import _kind_hints
from .report import GradientCheckError, Report, _entry, _finish, _num, _side_by_side, _val, describe_param

FD_EPS = 1e-6        # central-difference step
FD_TOL = 1e-6        # relative error of the whole gradient vector
ENGINE_TOL = 1e-10   # fused vs autograd, values and gradients
RTRL_TOL = 1e-8      # BPTT vs RTRL


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
        lines += _side_by_side([(f"analytic (net.grad, {work.engine.name} engine)", _val(a[k])),
                                (f"numeric (central differences, eps {eps:g})", _val(n[k])),
                                ("relative error of this entry", " " + _num(entry_error))])
        return _Outcome(error, not passed, worst, lines)

    result = _search(cases(work, max_steps=max_steps, max_batch=max_batch), measure, examples, seed)
    if not result.failed and result.outcome is not None and result.outcome.worst.get("within_noise"):
        notes += ("the largest relative error is within the rounding noise of central differences",)
    return _report("gradients", result, tolerance, "relative error", _describe_case,
                   f"central differences disagree with net.grad (mse loss, {work.engine.name} engine, float64)",
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
        value_and_grad(work, params, x, np.zeros((1, 1, work.output_size)), kind="mse", method="rtrl")
    except RunError as err:
        return Report("bptt_rtrl", True, 0, skipped=f"RTRL is not available ({err.message})")

    def measure(case: Case) -> _Outcome:
        a = work.grad(case.params, case.x, case.target, kind="mse")
        b = value_and_grad(work, case.params, case.x, case.target, kind="mse", method="rtrl")[1]
        worst = _Worst()
        for name in sorted(a):
            worst.compare(name, a[name], b[name])
        return worst.outcome(tolerance, "BPTT", "RTRL", lambda info: (
            f"{_entry(info['label'], info['index'])} -- {describe_param(work, info['label'])}"))

    result = _search(cases(work, max_steps=max_steps, max_batch=max_batch), measure, examples, seed)
    return _report("bptt_rtrl", result, tolerance, "max difference", _describe_case,
                   "BPTT and RTRL give different gradients (mse loss)", lambda: _kind_hints(work),
                   _engine_note(net))


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
    """BPTT (``net.grad``) = RTRL (graphrnn.train.methods, ``method="rtrl"``) to ``tolerance``.

    While RTRL is not available (it raises a RunError for the network),
    returns a passed Report whose ``skipped`` says why.
    """
    return _finish(_bptt_rtrl(net, examples, seed, tolerance, max_steps, max_batch), GradientCheckError)
