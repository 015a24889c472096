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

# the tolerances stay importable from graphrnn.testing.checks, where they were defined before the split
from .driver import DEFAULT_EXAMPLES
from .equivalence import (EXACT, _batch, _order, _roundtrip, _unroll, check_batch, check_order,
                          check_roundtrip, check_unroll)
from .gradients import (ENGINE_TOL, FD_EPS, FD_TOL, RTRL_TOL, _bptt_rtrl, _engines, _gradients,
                        check_bptt_rtrl, check_engines, check_gradients)
from .kinds import KIND_TOL, _kinds, check_kind, check_kinds
from .report import GradientCheckError, PropertyError, Report, describe_param

__all__ = ["Report", "PropertyError", "GradientCheckError", "CHECKS", "check_all", "check_gradients",
           "check_engines", "check_bptt_rtrl", "check_batch", "check_unroll", "check_order",
           "check_roundtrip", "check_kinds", "check_kind", "describe_param"]


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
