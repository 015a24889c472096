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

    Kinds whose ports differ in size, or that keep state from step to step
    (the NTM memory), also give:

    - ``options``: the option names and defaults a node of the kind takes in
      a mapping named after the kind (``memory: {slots: 128, ...}``);
      ``check_options(options, size)`` returns (option to blame or None, message) or None;
      the functions below take the node's options as a dict;
      ``size_of(options)`` is the node's size when the spec leaves it out;
    - ``port_sizes(options) -> {port: size}``: the node's ports, in order;
    - ``state_params(options) -> {suffix: (shape, init)}``: learned
      parameters of the state, named ``<node>.<suffix>``;
    - ``initial_state(options, learned, B, dtype) -> tuple`` (``learned``
      maps each suffix to its parameter) and ``step(options, ports, state)
      -> (value, state, record)``: one step, where ``ports`` maps each port
      to its (B, size) sum of incoming edges, ``value`` is the node's
      (B, size) output (no activation, no bias) and ``record`` names
      (B, k) arrays a trace keeps (weightings, for instance);
    - for the fused engine, the same step in numpy with its backward pass:
      ``fused_step(options, raw, state) -> (value, state, record, cache)``
      where ``raw`` (B, P) is the ports side by side, and
      ``fused_step_vjp(options, cache, g_value, g_state) -> (g_raw,
      g_previous_state)``; ``initial_state_vjp(options, g_state) ->
      {suffix: gradient}`` for the learned parts of the initial state.
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
    options: dict | None = None
    check_options: Callable | None = None
    size_of: Callable | None = None
    port_sizes: Callable | None = None
    state_params: Callable | None = None
    initial_state: Callable | None = None
    step: Callable | None = None
    fused_step: Callable | None = None
    fused_step_vjp: Callable | None = None
    initial_state_vjp: Callable | None = None

    @property
    def stateful(self) -> bool:
        return self.step is not None


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


def input_ports(node) -> dict[str, int]:
    """The named input ports of ``node`` and their sizes ({} for a kind without ports)."""
    kind = OPS[node.op]
    if kind.port_sizes is not None:
        return kind.port_sizes(dict(node.options))
    return {port: node.size for port in kind.ports}


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
