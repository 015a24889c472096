"""Testing helpers: the reference interpreter and hypothesis strategies.

    from graphrnn.testing import reference_run, specs, inputs_for, params_for

:func:`reference_run` needs only numpy; the strategies need ``hypothesis``
(the ``test`` extra) and are imported on first use.
"""
from .reference import instant_order, reference_run

__all__ = ["inputs_for", "instant_order", "params_for", "reference_run", "specs"]

_STRATEGIES = ("specs", "inputs_for", "params_for", "ALL_ACTIVATIONS")


def __getattr__(name):
    if name in _STRATEGIES:
        from . import strategies
        return getattr(strategies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
