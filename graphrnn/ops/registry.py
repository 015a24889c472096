"""Node kinds and activations, looked up by the name a spec uses.

Adding a node kind is one file that builds an :class:`OpKind` and calls
:func:`register_op`; adding an activation is one :func:`register_activation`
call.  Specs name kinds, they never carry code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class OpKind:
    """How a node turns its incoming edge contributions into a value.

    Each incoming edge delivers a contribution of shape (..., size).  When
    ``ports`` names the kind's inputs, edges address one (``to: node.port``)
    and every port is one slot, the sum of the edges into it, in ``ports``
    order.  Otherwise, when ``factor_per_edge`` is false every contribution
    is added into one slot, and when true each edge fills its own slot (a
    factor of a product).
    ``combine(slots)`` maps the list of slots, each (..., size), to the
    pre-activation (..., size); the bias, if any, is added after it.
    ``combine_vjp(slots, g)`` is its vector-Jacobian product for the fused
    engine: the list of gradients of the slots given the gradient ``g`` of
    the pre-activation, in plain numpy.  A kind without it runs only on the
    autograd engine, and the fused engine says so.
    """

    name: str
    doc: str
    combine: Callable
    factor_per_edge: bool
    bias_default: bool
    allows_bias: bool
    needs_inputs: bool
    combine_vjp: Callable | None = None
    ports: tuple = ()


@dataclass(frozen=True)
class Activation:
    """An elementwise (or, for softmax, per-node) squashing function.

    ``grad_from_output(y, g)`` is the vector-Jacobian product written in
    terms of the output y = fn(a) (numpy, for the fused engine), so the
    forward pass keeps only the values it already has.
    """

    name: str
    doc: str
    fn: Callable
    per_node: bool = False   # true when units of one node interact (softmax)
    grad_from_output: Callable | None = None


OPS: dict[str, OpKind] = {}
ACTIVATIONS: dict[str, Activation] = {}


def register_op(kind: OpKind) -> OpKind:
    """Make ``kind`` available to specs as ``op: <kind.name>``."""
    if kind.name in OPS:
        raise ValueError(f"node kind {kind.name!r} is already registered")
    OPS[kind.name] = kind
    return kind


def register_activation(name: str, fn: Callable, doc: str, per_node: bool = False,
                        grad_from_output: Callable | None = None) -> Activation:
    """Make ``fn`` (autograd-differentiable, shape-preserving) available as ``activation: name``.

    ``grad_from_output(y, g)`` lets the fused engine run it (see Activation).
    """
    if name in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is already registered")
    ACTIVATIONS[name] = Activation(name, doc, fn, per_node, grad_from_output)
    return ACTIVATIONS[name]
