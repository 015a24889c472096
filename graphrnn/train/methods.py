"""Gradient methods: the ways to compute a network's loss and its gradient, by name.

``GRADIENT_METHODS`` maps a method's name to its :class:`GradientMethod`:

- ``bptt``: full backpropagation through time (through structure for a
  TreeNetwork): the network's own ``value_and_grad``, through its engine;
- ``tbptt``: truncated BPTT(k2; k1), train/gradients.py;
- ``rtrl``: real-time recurrent learning, exact and forward in time,
  train/rtrl.py (small networks only).

The 1997 truncation of single edges is not a method: it is a property of
the graph (an edge's ``truncate: true``), which every method honours.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import RunError
from ..runtime.network import Network
from ..spec import did_you_mean
from .gradients import tbptt_value_and_grad
from .rtrl import rtrl_value_and_grad


def bptt_value_and_grad(net, params, data, target, kind: str = "mse", mask=None, **options):
    """(loss, grads of the trainable parameters) by full BPTT: ``net.value_and_grad``; ``options``
    are its own (``state`` for a Network; ``at``, ``batching`` for a TreeNetwork)."""
    return net.value_and_grad(params, data, target, kind, mask, **options)


@dataclass(frozen=True)
class GradientMethod:
    """One gradient method.

    ``compute(net, params, x, target, kind, mask, **options) -> (loss, grads)``;
    ``options``: the keyword options it takes (None: whatever the network's
    ``value_and_grad`` takes); ``carries_state``: it carries the network's
    state between steps or chunks, so it runs sequence networks without node
    kinds with state (whose runs cannot continue an earlier one yet).
    """

    compute: Callable
    options: tuple | None
    carries_state: bool


GRADIENT_METHODS: dict[str, GradientMethod] = {
    "bptt": GradientMethod(bptt_value_and_grad, None, False),
    "tbptt": GradientMethod(tbptt_value_and_grad, ("k1", "k2"), True),
    "rtrl": GradientMethod(rtrl_value_and_grad, (), True),
}


def value_and_grad(net, params, x, target, kind: str = "mse", mask=None, method: str = "bptt", **options):
    """(loss, grads of the trainable parameters) of ``net.loss`` by gradient ``method``.

    x (T, B, I) (a TreeBatch for a TreeNetwork, ``bptt`` only), target
    (T, B, O) or classes (T, B), mask (T, B) or None; ``options``: the
    method's (``k1``, ``k2`` for ``tbptt``; ``state`` for ``bptt``); an
    option given as None counts as left out.  Unknown methods, options a
    method does not take, and methods that carry state on networks they
    cannot run are GR200.
    """
    if method not in GRADIENT_METHODS:
        raise RunError("GR200", f"gradient method `{method}` is not available"
                       f"{did_you_mean(method, GRADIENT_METHODS)}",
                       fix="use method=" + ", ".join(f"'{name}'" for name in GRADIENT_METHODS))
    entry = GRADIENT_METHODS[method]
    given = {name: value for name, value in options.items() if value is not None}
    if entry.carries_state:
        if not isinstance(net, Network):
            raise RunError("GR200", f"method `{method}` runs over sequences; {net.name} runs over trees",
                           fix="use method='bptt' (backpropagation through the tree structure)")
        if net.stateful:
            raise RunError("GR200", f"method `{method}` carries state between chunks or steps, which node "
                           f"kinds with state ({', '.join(net.stateful)}) do not support yet",
                           fix="use method='bptt'")
        if "state" in given:
            raise RunError("GR200", f"{method} starts from the initial state", fix="drop `state=`")
    if entry.options is not None:
        unknown = sorted(set(given) - set(entry.options))
        if unknown:
            takes = f"its options: {', '.join(entry.options)}" if entry.options else "it takes no options"
            raise RunError("GR200", f"gradient method `{method}` has no option `{unknown[0]}`",
                           fix=f"drop `{unknown[0]}=` ({takes})")
    return entry.compute(net, params, x, target, kind, mask, **given)
