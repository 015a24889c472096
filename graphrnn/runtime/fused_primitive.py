"""The fused engine's run as one autograd value (see fused.py for the numpy passes).

``run_fused`` runs the forward pass in numpy and hands autograd a single
primitive of (fused arrays, x) whose value is all block values at once; its
cotangent is sparse over the blocks (:class:`Blocks`), and the backward pass
is fused.backward, run once for both arguments.
"""
from __future__ import annotations

import numpy as np
from autograd.extend import Box, VSpace, defvjp, primitive
from autograd.tracer import getval, isbox

from ..plan.ir import INPUT_BLOCK, Plan
from .fused import backward, forward

__all__ = ["NumpyPasses", "run_fused"]


class Blocks:
    """The block values of one fused run, as a single autograd value.

    Its cotangent is sparse: only the blocks a loss actually reads carry a
    gradient, so the backward pass allocates nothing for the others.
    """

    __slots__ = ("values",)

    def __init__(self, values: dict):
        self.values = values


class BlocksBox(Box):
    __slots__ = []


BlocksBox.register(Blocks)


class BlocksVSpace(VSpace):
    def __init__(self, value):
        self.shapes = {k: np.shape(v) for k, v in value.values.items()}

    def zeros(self):
        return Blocks({})

    def mut_add(self, a, b):
        for name, g in b.values.items():
            a.values[name] = a.values[name] + g if name in a.values else g
        return a

    def add(self, a, b):
        return self.mut_add(Blocks(dict(a.values)), b)


VSpace.register(Blocks, BlocksVSpace)


@primitive
def take_block(blocks, name):
    """One block's value sequence (T, B, W) out of a fused run."""
    return blocks.values[name]


defvjp(take_block, lambda ans, blocks, name: lambda g: Blocks({name: g}))


class LazyValues(dict):
    """block name -> value, taken from the fused run only when first asked for."""

    def __init__(self, blocks, x):
        super().__init__({INPUT_BLOCK: x})
        self.blocks = blocks

    def __missing__(self, name):
        value = self[name] = take_block(self.blocks, name)
        return value


class FusedRun:
    """One forward pass's data, handed to the backward pass through the primitive's arguments.

    Keeping it an argument (not a closure registered with autograd) lets it
    be freed with autograd's graph once the gradient has been taken.
    """

    def __init__(self, passes, arrays, x, state, values, tape, array_dtypes, x_dtype, want_x):
        self.passes, self.arrays, self.x, self.state = passes, arrays, x, state
        self.want_x = want_x
        self.values, self.tape = values, tape
        self.array_dtypes, self.x_dtype = array_dtypes, x_dtype
        self._grads = None

    def gradients(self, g):
        """(gradients of the fused arrays, of x); computed once for both argnums."""
        if self._grads is None or self._grads[0] is not g:
            g_arrays, g_x = self.passes.backward(self.arrays, self.x, self.values, self.tape, g.values, self.state,
                                                 self.want_x)
            self._grads = (g, [a.astype(d, copy=False) for a, d in zip(g_arrays, self.array_dtypes)],
                           None if g_x is None else g_x.astype(self.x_dtype, copy=False))
        return self._grads[1], self._grads[2]


@primitive
def unrolled(arrays, x, run: FusedRun):
    """The block values of ``run`` as one autograd value of (arrays, x)."""
    return Blocks({n: v for n, v in run.values.items() if n != INPUT_BLOCK})


defvjp(unrolled, lambda ans, arrays, x, run: lambda g: run.gradients(g)[0],
       lambda ans, arrays, x, run: lambda g: run.gradients(g)[1])


class NumpyPasses:
    """fused.py's forward and backward passes over ``plan``: the passes of the fused engine."""

    def __init__(self, plan: Plan):
        self.plan = plan

    def forward(self, arrays, x, state=None, records=None, scratch=False, keep=True):
        return forward(self.plan, arrays, x, state, records)

    def backward(self, arrays, x, values, tape, g_values, state=None, want_x=True, scratch=False):
        return backward(self.plan, arrays, x, values, tape, g_values, state, want_x)


def differentiated(arrays, x) -> bool:
    """Whether autograd traces ``arrays`` (a list, or a box of one) or ``x``: a backward pass may follow."""
    return isbox(x) or isbox(arrays) or any(isbox(a) for a in getval(arrays))


def run_fused(passes, arrays, x, dtype=np.float64, state=None, records=None) -> dict:
    """Block values (T, B, W) as one autograd primitive of (arrays, x).

    ``passes`` computes them: ``forward(arrays, x, state, records) -> (values,
    tape)`` and ``backward(arrays, x, values, tape, g_values, state, want_x) ->
    (gradients of arrays, of x or None)``; ``want_x`` is false when x is not
    being differentiated (not an autograd box), and its gradient may be skipped.
    Both take ``scratch``: true when the caller keeps none of the arrays they
    return, so they may reuse buffers (generated.CompiledPlan does), in numpy (:class:`NumpyPasses`, or the
    compiled engine's generated loops); ``forward`` takes ``keep``: false when
    nothing is differentiated (neither argument is an autograd box), so it
    may keep nothing for a backward pass (a kind with state then keeps no
    step caches: an NTM's memory of every step).  They compute in ``dtype``; the
    gradients are returned in the dtypes of ``arrays`` and ``x`` (float64
    parameters stay float64 for the optimizer).
    """
    raw_arrays = [np.asarray(a, dtype=dtype) for a in getval(arrays)]
    raw_x = np.asarray(getval(x), dtype=dtype)
    values, tape = passes.forward(raw_arrays, raw_x, state, records, keep=differentiated(arrays, x))
    run = FusedRun(passes, raw_arrays, raw_x, state, values, tape,
                   [np.result_type(a) for a in getval(arrays)], np.result_type(getval(x)), isbox(x))
    return LazyValues(unrolled(arrays, x, run), x)
