"""Testing helpers: property checks, the reference interpreter and hypothesis strategies.

    from graphrnn.testing import check_all, check_gradients    # property checks (checks/)
    from graphrnn.testing import reference_run, specs, inputs_for, params_for, cases

:func:`reference_run`, :func:`dumps` and :func:`load_plugin` need only the
core dependencies; the checks and strategies need ``hypothesis`` (the
``test`` extra) and are imported on first use.  See
docs/property-testing.md.
"""
from .dump import dumps
from .plugins import PluginError, load_plugin
from .reference import instant_order, reference_run

_STRATEGIES = ("specs", "inputs_for", "params_for", "cases", "Case", "sane_params", "target_for",
               "ALL_ACTIVATIONS")
_CHECKS = ("Report", "PropertyError", "GradientCheckError", "CHECKS", "check_all", "check_gradients",
           "check_engines", "check_bptt_rtrl", "check_batch", "check_unroll", "check_order",
           "check_roundtrip", "check_kinds", "check_kind", "describe_param")

__all__ = sorted(("dumps", "instant_order", "load_plugin", "PluginError", "reference_run")
                 + _STRATEGIES + _CHECKS)


def __getattr__(name):
    if name in _STRATEGIES:
        from . import strategies
        return getattr(strategies, name)
    if name in _CHECKS:
        from . import checks
        return getattr(checks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
