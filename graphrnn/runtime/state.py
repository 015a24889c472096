"""Carrying a run's state into the next: the last values that delayed edges read.

A :class:`State` maps each block that something reads with a delay (and the
input block, ``"input"``) to its last D values, (D, B, width), where D is
the largest such delay (``plan.lookback``) and row D-1 is the last step.
Running with ``state=`` continues the sequence where that state left off:
a delayed read before the chunk's first step reads the state instead of the
node's ``initial`` value.  The state is data, not a differentiable input:
gradients do not flow across it (this is what truncated BPTT wants).
"""
from __future__ import annotations

import numpy as np
from autograd.tracer import getval, isbox

from ..plan.ir import INPUT_BLOCK, Plan
from ..plan.limits import memory_limit


class State(dict):
    """block name -> (D, B, width) numpy array of its last D values."""

    def __repr__(self) -> str:
        return "State(" + ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self.items()) + ")"


def start_rows(plan: Plan, arrays, state, name: str, batch: int, width: int, dtype):
    """(D, B, width) values before the first step: the carried state, or the initial value."""
    depth = plan.lookback.get(name, 0)
    if state is not None and name in state:
        rows = state[name]
        if not isbox(rows):   # a boxed state (RTRL differentiates through it) stays as it is
            rows = np.asarray(rows, dtype=dtype)
        if np.shape(getval(rows)) != (depth, batch, width):
            from ..errors import RunError
            raise RunError("GR200", f"state for block {name} has shape {np.shape(getval(rows))}, expected "
                           f"{(depth, batch, width)}", fix="pass the `state` of a run with the same batch size")
        return rows
    initial = np.zeros(width, dtype) if name == INPUT_BLOCK else \
        np.asarray(getval(plan.named(arrays)[plan.blocks[name].initial]), dtype=dtype)
    return np.broadcast_to(initial, (depth, batch, width))


def final_state(plan: Plan, arrays, values: dict, state) -> State:
    """The state after a run: each looked-back block's last D values (numpy, no gradient)."""
    out = State()
    for name, depth in plan.lookback.items():
        seq = np.asarray(getval(values[name]))
        T, B, W = seq.shape
        if T >= depth:
            out[name] = seq[T - depth:].copy()
        else:
            if depth * B * W * seq.dtype.itemsize > memory_limit():   # a delay far beyond the run
                from ..errors import RunError
                raise RunError("GR108", f"carrying block {name}'s state needs its last {depth} steps (its longest "
                               f"delay), {depth * B * W * seq.dtype.itemsize / 2 ** 30:.3g} GiB",
                               fix="run the whole sequence at once instead of continuing with `state=`, or "
                                   "raise GRAPHRNN_MEMORY_LIMIT (plan/limits.py)")
            before = start_rows(plan, arrays, state, name, B, W, seq.dtype)
            out[name] = np.concatenate([before, seq], axis=0)[-depth:]
    return out
