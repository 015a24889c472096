"""Node kinds and activations, looked up by the name a spec uses.

A node kind is one of two explicit variants sharing :class:`NodeKind`:

- :class:`CombinerKind` maps its slots elementwise to the pre-activation
  (``sum``, ``product``, kinds with equal-sized ports);
- :class:`StatefulKind` steps with state through time on ports of its own
  sizes (the NTM ``memory``).

Code downstream asks the kind object its questions (``kind.stateful``,
``kind.slot_count(...)``, ``kind.keeps_slots(...)``), never the kind's name.
Adding a node kind is one file that builds a variant and calls
:func:`register_op`; adding an activation is one :func:`register_activation`
call.  Specs name kinds, they never carry code.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True, kw_only=True)
class NodeKind(ABC):
    """What every node kind says, whatever its variant.

    ``bias_default``: whether its nodes have a bias unless the spec says;
    ``allows_bias``: whether they may have one; ``needs_inputs``: whether a
    node of the kind without incoming edges is an error (GR104).
    """

    name: str
    doc: str
    bias_default: bool
    allows_bias: bool
    needs_inputs: bool

    @property
    def stateful(self) -> bool:
        """True for a kind that steps with state.  Such a node is a block of its own whose slot
        space is its ports side by side, each port its own size, its bias spanning the ports."""
        return False

    @property
    def takes_options(self) -> bool:
        """Whether the kind reads options from a mapping named after it (``memory: {...}``)."""
        return False

    @abstractmethod
    def input_ports(self, node) -> dict[str, int]:
        """The named input ports of ``node`` (a graph Node of this kind) and their sizes; {} for none."""

    @abstractmethod
    def slot_count(self, incoming: int) -> int:
        """Slots per unit of a node with ``incoming`` edges (a block's ``factors``)."""

    @abstractmethod
    def slot_of(self, k: int, port: str) -> int:
        """The slot the node's k-th incoming edge (into ``port``, "" for none) fills."""

    @property
    @abstractmethod
    def has_fused_rule(self) -> bool:
        """Whether the fused engine can run the kind (it has a hand-written backward pass)."""

    @abstractmethod
    def keeps_slots(self, factors: int) -> bool:
        """Whether the fused engine's backward pass needs what a step of a block with
        ``factors`` slots per unit saw (its slots, or a stateful kind's step cache)."""


@dataclass(frozen=True, kw_only=True)
class CombinerKind(NodeKind):
    """A kind that turns its incoming edge contributions into a value, elementwise.

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
    autograd engine, and the fused engine says so.  ``gradient_is_copy``:
    ``combine_vjp`` hands ``g`` to every slot unchanged without reading the
    slots (a sum), so the fused engine need not keep them.  ``kernel``:
    ``"add"`` or ``"multiply"`` when the compiled engine's kernels
    (runtime/generated_kernels.py) compute ``combine`` by adding or
    multiplying the slots, else None (the compiled engine refuses the kind).
    """

    combine: Callable
    factor_per_edge: bool = False
    combine_vjp: Callable | None = None
    ports: tuple = ()
    gradient_is_copy: bool = False
    kernel: str | None = None

    def input_ports(self, node) -> dict[str, int]:
        return {port: node.size for port in self.ports}

    def slot_count(self, incoming: int) -> int:
        if self.ports:
            return len(self.ports)
        return incoming if self.factor_per_edge else 1

    def slot_of(self, k: int, port: str) -> int:
        if self.ports:
            return self.ports.index(port)
        return k if self.factor_per_edge else 0

    def slots(self, contributions: list, size: int, batch: int) -> list:
        """The slots, each (B, size), from the incoming edges' (port, contribution (B, size)) pairs,
        in the graph's edge order; raises ValueError for per-edge factors without edges."""
        if self.ports:
            slots = {port: [] for port in self.ports}
            for port, c in contributions:
                slots[port].append(c)
            return [_total(slots[port], size, batch) for port in self.ports]
        if self.factor_per_edge:
            if not contributions:
                raise ValueError(f"a `{self.name}` node has no incoming edges")
            return [c for _, c in contributions]
        return [_total([c for _, c in contributions], size, batch)]

    @property
    def has_fused_rule(self) -> bool:
        return self.combine_vjp is not None

    def keeps_slots(self, factors: int) -> bool:
        return factors > 1 or not self.gradient_is_copy


def _total(parts: list, size: int, batch: int):
    """The sum of ``parts``, each (B, size), onto zeros (B, size)."""
    total = np.zeros((batch, size))
    for part in parts:
        total = total + part
    return total


@dataclass(frozen=True, kw_only=True)
class StatefulKind(NodeKind):
    """A kind whose ports have their own sizes and that keeps state from step to step (the NTM memory).

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
      ``fused_step(options, raw, state) -> (value, state, cache)``
      where ``raw`` (B, P) is the ports side by side,
      ``fused_step_vjp(options, cache, g_value, g_state) -> (g_raw,
      g_previous_state)`` and ``fused_record(options, cache) -> record``
      (called only where records are kept); ``initial_state_vjp(options, g_state) ->
      {suffix: gradient}`` for the learned parts of the initial state;
    - for the compiled engine, optionally, ``compiled_step`` and
      ``compiled_step_vjp``: fused_step and fused_step_vjp compiled by numba
      (imported only when called: numba is optional).
    """

    options: dict
    check_options: Callable
    size_of: Callable
    port_sizes: Callable
    state_params: Callable
    initial_state: Callable
    step: Callable
    fused_step: Callable | None = None
    fused_step_vjp: Callable | None = None
    fused_record: Callable | None = None
    initial_state_vjp: Callable | None = None
    compiled_step: Callable | None = None
    compiled_step_vjp: Callable | None = None

    @property
    def stateful(self) -> bool:
        return True

    @property
    def takes_options(self) -> bool:
        return True

    def input_ports(self, node) -> dict[str, int]:
        return self.port_sizes(dict(node.options))

    def slot_count(self, incoming: int) -> int:
        return 1

    def slot_of(self, k: int, port: str) -> int:
        return 0

    @property
    def has_fused_rule(self) -> bool:
        return None not in (self.fused_step, self.fused_step_vjp, self.fused_record)

    def keeps_slots(self, factors: int) -> bool:
        return True


@dataclass(frozen=True)
class Activation:
    """An elementwise (or, for softmax, per-node) squashing function.

    ``grad_from_output(y, g)`` is the vector-Jacobian product written in
    terms of the output y = fn(a) (numpy, for the fused engine), so the
    forward pass keeps only the values it already has.  ``fn_into(a, out)``
    and ``grad_into(y, g, out)``, where registered, are the same functions
    writing into ``out`` (shape of a; not aliasing a, y or g) with the same
    operations in the same order, so they agree bit for bit; the fused
    engine falls back to the plain forms (see :meth:`apply_into`).
    """

    name: str
    doc: str
    fn: Callable
    per_node: bool = False   # true when units of one node interact (softmax)
    grad_from_output: Callable | None = None
    fn_into: Callable | None = None
    grad_into: Callable | None = None

    def apply_into(self, a, out) -> None:
        """out[...] = fn(a), in place where the activation has an in-place form; a, out (..., W)."""
        if self.fn_into is None:
            out[...] = self.fn(a)
        else:
            self.fn_into(a, out)

    def grad_from_output_into(self, y, g, out) -> None:
        """out[...] = grad_from_output(y, g), in place where it has an in-place form; all (..., W)."""
        if self.grad_into is None:
            out[...] = self.grad_from_output(y, g)
        else:
            self.grad_into(y, g, out)


def input_ports(node) -> dict[str, int]:
    """The named input ports of ``node`` and their sizes ({} for a kind without ports)."""
    return OPS[node.op].input_ports(node)


OPS: dict[str, NodeKind] = {}
ACTIVATIONS: dict[str, Activation] = {}


def register(table: dict, name: str, entry, what: str):
    """``table[name] = entry`` (a registry of ``what``s), refusing a name already taken."""
    if name in table:
        raise ValueError(f"{what} {name!r} is already registered")
    table[name] = entry
    return entry


def register_op(kind: NodeKind) -> NodeKind:
    """Make ``kind`` (a CombinerKind or a StatefulKind) available to specs as ``op: <kind.name>``."""
    return register(OPS, kind.name, kind, "node kind")


def register_activation(name: str, fn: Callable, doc: str, per_node: bool = False,
                        grad_from_output: Callable | None = None, fn_into: Callable | None = None,
                        grad_into: Callable | None = None) -> Activation:
    """Make ``fn`` (autograd-differentiable, shape-preserving) available as ``activation: name``.

    ``grad_from_output(y, g)`` lets the fused engine run it; ``fn_into`` and
    ``grad_into`` are its optional in-place forms (see Activation).
    """
    return register(ACTIVATIONS, name, Activation(name, doc, fn, per_node, grad_from_output, fn_into, grad_into),
                    "activation")
