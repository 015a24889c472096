"""Node kinds with state (the NTM memory) in the numpy engines: their own step and its backward pass.

fused.py's interpreter calls :func:`stateful_step` and :func:`stateful_step_vjp`
at each step; the generated numpy kernels (generated_numpy.py) call the same
through :class:`StatefulSteps`, which carries one block's state, caches and
records over a run.  Shapes: B rows, P the block's slot width (its ports side
by side), the value (B, width).
"""
from __future__ import annotations

import numpy as np

from ..ops import ACTIVATIONS, OPS
from ..plan.ir import Block


def initial_state(block: Block, arrays, B: int, dtype) -> tuple:
    learned = {suffix: arrays[name] for suffix, name in block.state_arrays}
    return tuple(np.asarray(a, dtype=dtype) for a in
                 OPS[block.op].initial_state(dict(block.options), learned, B, dtype))


def stateful_step(block: Block, slots, carried, arrays, compiled: bool = False):
    """(value (B, width), new state, cache) of a stateful kind's block at one step; its
    ``compiled_step`` where ``compiled`` (the compiled engine), else its numpy ``fused_step``."""
    raw = slots + arrays[block.bias] if block.bias is not None else slots
    kind = OPS[block.op]
    step = kind.compiled_step if compiled else kind.fused_step
    value, carried, cache = step(dict(block.options), raw, carried)
    return ACTIVATIONS[block.activation].fn(value), carried, cache


def stateful_record(block: Block, cache) -> dict:
    """What the block's kind records at the step that left ``cache``: name -> (B, k) array."""
    return OPS[block.op].fused_record(dict(block.options), cache)


def stateful_step_vjp(block: Block, value, cache, g_value, g_carried, g_arrays, compiled: bool = False):
    """(gradient of the block's slots (B, P), gradient of the state it started the step with)."""
    g_pre = ACTIVATIONS[block.activation].grad_from_output(value, g_value)
    kind = OPS[block.op]
    vjp = kind.compiled_step_vjp if compiled else kind.fused_step_vjp
    g_raw, g_before = vjp(dict(block.options), cache, g_pre, g_carried)
    if block.bias is not None:
        g_arrays[block.bias] += g_raw.sum(axis=0)
    return g_raw, g_before


class StatefulSteps:
    """One stateful kind's block over one run, for the generated numpy kernels (generated_numpy.py),
    which call :meth:`step` and :meth:`step_back` where the interpreter calls stateful_step and
    stateful_step_vjp: it carries the state from step to step, keeps each step's cache for the
    backward pass and the kind's records.  ``arrays``: the fused arrays by name; ``compiled``: the
    kind's steps compiled by numba (the compiled engine's), else its numpy ones; ``keep`` false: no
    backward pass follows, so no step's cache is kept (each is freed with the next step)."""

    def __init__(self, block: Block, arrays: dict, B: int, dtype, records=None, compiled: bool = False,
                 keep: bool = True):
        self.block, self.arrays, self.records, self.compiled, self.keep = block, arrays, records, compiled, keep
        self.carried = initial_state(block, arrays, B, dtype)
        self.caches = []
        self.g_carried = (None, None)

    def begin_back(self) -> None:
        """Start a backward pass (the forward pass's caches may be taken back more than once)."""
        self.g_carried = (None, None)

    def step(self, slots, out) -> None:
        """out (B, width) = the block's value at the next step, from its slots (B, P)."""
        value, self.carried, cache = stateful_step(self.block, slots, self.carried, self.arrays, self.compiled)
        out[...] = value
        if self.keep:
            self.caches.append(cache)
        if self.records is not None:
            self.records.setdefault(self.block.name, []).append(stateful_record(self.block, cache))

    def step_back(self, t: int, value, g_value, g_slots, g_arrays: dict) -> None:
        """g_slots (B, P) = the gradient of step t's slots; its bias's gradient into ``g_arrays``."""
        g_slots[...], self.g_carried = stateful_step_vjp(self.block, value, self.caches[t], g_value,
                                                         self.g_carried, g_arrays, self.compiled)

    def finish_back(self, g_arrays: dict) -> None:
        """A learned initial state's gradient, once every step has been taken back."""
        if self.g_carried[0] is not None:
            learned = OPS[self.block.op].initial_state_vjp(dict(self.block.options), self.g_carried)
            for suffix, name in self.block.state_arrays:
                g_arrays[name] += learned[suffix]
