"""Emit stage: run a Plan over a batch of sequences with autograd.numpy.

Arrays are time-major: inputs (T, B, I), every block value (T, B, width).
Inside a loop stage a step works on (B, width) rows.  Everything here is
differentiable by autograd; ``truncate`` edges read their source through
``getval``, which hides it from the tape (a stop-gradient) while the
edge's own weight still receives its gradient.
"""
from __future__ import annotations

import autograd.numpy as anp
from autograd.tracer import getval

from ..ops import ACTIVATIONS, OPS
from ..plan.ir import INPUT_BLOCK, Block, Plan, Projection
from ..plan.walk import PlanOps, walk_forward
from .state import start_rows


def finish(block: Block, slots, arrays, lead: tuple):
    """A block's value from its slot space: act(combine(slots) + bias).

    ``slots`` is (*lead, factors*width) or None when nothing feeds the block.
    """
    if slots is None:
        slots = anp.zeros(lead + (block.slot_width,), dtype=getval(arrays[block.initial]).dtype)
    w = block.width
    factors = [slots] if block.factors == 1 else [slots[..., k * w:(k + 1) * w] for k in range(block.factors)]
    pre = OPS[block.op].combine(factors)
    if block.bias is not None:
        pre = pre + arrays[block.bias]
    return ACTIVATIONS[block.activation].fn(pre)


def contribute(acc: dict, p: Projection, src, arrays) -> None:
    """Add projection ``p`` of ``src`` (..., S) into the slot accumulators ``acc``."""
    weight = arrays[p.weight]
    if p.runs is None:
        if src.ndim == 2:
            out = anp.dot(src, weight)
        else:
            flat = anp.dot(anp.reshape(src, (-1, src.shape[-1])), weight)
            out = anp.reshape(flat, src.shape[:-1] + (flat.shape[-1],))
        parts = [(t.block, out if len(p.targets) == 1 else out[..., t.start:t.stop]) for t in p.targets]
    else:
        widths = {t.block: t.stop - t.start for t in p.targets}
        parts = []
        for run in p.runs:
            if run.broadcast:
                piece = src[..., run.src:run.src + 1] * anp.ones(run.n, dtype=getval(src).dtype)
            else:
                piece = src[..., run.src:run.src + run.n]
            if run.scale is not None:
                piece = piece * weight[run.scale:run.scale + run.n]
            parts.append((run.block, _pad(piece, run.dst, widths[run.block])))
    for block, part in parts:
        acc[block] = part if block not in acc else acc[block] + part


def _pad(piece, start: int, width: int):
    """piece (..., n) placed at columns [start, start+n) of zeros (..., width)."""
    n, lead = piece.shape[-1], piece.shape[:-1]
    if start == 0 and n == width:
        return piece
    dtype = getval(piece).dtype
    parts = ([anp.zeros(lead + (start,), dtype)] if start else []) + [piece] + \
        ([anp.zeros(lead + (width - start - n,), dtype)] if width > start + n else [])
    return anp.concatenate(parts, axis=-1)


def _shift(seq, delay: int, before):
    """seq (T, B, W) read ``delay`` positions back; positions before 0 read ``before(k)``.

    ``before(k)`` is the (B, W) value k steps before the start.
    """
    T = seq.shape[0]
    head = min(delay, T)
    fill = [before(delay - t) for t in range(head)]
    if head == T:
        return anp.stack(fill)
    return anp.concatenate([anp.stack(fill), seq[:T - delay]], axis=0)


def unroll(plan: Plan, arrays, x, state=None, records=None) -> dict:
    """Every block's value sequence (T, B, width), keyed by block name.

    ``arrays`` are the fused arrays (see ``assemble``); ``x`` is (T, B, I);
    ``state`` (see state.py) continues an earlier run, else delayed reads
    before the start read each node's ``initial`` value.  ``records``, a
    dict, collects what stateful kinds record at each step: block name ->
    [{name: (B, k)} per step].
    """
    ops = _Unroll(plan, arrays, x, state, records)
    walk_forward(plan, ops)
    return ops.values


class _Unroll(PlanOps):
    """The plan's operations in autograd.numpy, in the order of plan/walk.py."""

    def __init__(self, plan, arrays, x, state, records):
        self.plan, self.arrays, self.x, self.state, self.records = plan, plan.named(arrays), x, state, records
        self.T, self.B = x.shape[0], x.shape[1]
        self.dtype = getval(x).dtype
        self.values = {INPUT_BLOCK: x}

    def before(self, name):
        """k -> the (B, W) value of block ``name`` k steps before the start."""
        state, x = self.state, self.x
        if (state is not None and name in state) or name == INPUT_BLOCK:
            width = x.shape[2] if name == INPUT_BLOCK else self.plan.blocks[name].width
            rows = start_rows(self.plan, self.arrays, state, name, self.B, width, self.dtype)
            return lambda k: rows[len(rows) - k]
        row = self.arrays[self.plan.blocks[name].initial] * anp.ones((self.B, 1), dtype=self.dtype)
        return lambda k: row

    def positions(self, stage):
        return range(self.T)

    def begin_stage(self, stage):
        self.hoisted = {}

    def hoist(self, stage, p):
        src = self.values[p.source]
        if p.delay:
            past = self.before(p.source)
            src = _shift(src, p.delay, (lambda k: getval(past(k))) if p.truncate else past)
        contribute(self.hoisted, p, getval(src) if p.truncate else src, self.arrays)

    def finish_all(self, stage, block):
        self.values[block.name] = finish(block, self.hoisted.get(block.name), self.arrays, (self.T, self.B))

    def begin_loop(self, stage):
        blocks = stage.blocks()
        self.history = {b.name: [] for b in blocks}
        self.past = {p.source: self.before(p.source) for p in stage.delayed}
        self.kept = {b.name: initial_state(b, self.arrays, self.B, self.dtype) for b in blocks if OPS[b.op].stateful}

    def begin_step(self, stage, t):
        self.acc = {name: seq[t] for name, seq in self.hoisted.items()}

    def read(self, p, t):
        src = self.history[p.source][t - p.delay] if t >= p.delay else self.past[p.source](p.delay - t)
        contribute(self.acc, p, getval(src) if p.truncate else src, self.arrays)

    def finish(self, block, t):
        if block.name in self.kept:
            value, self.kept[block.name], record = step_stateful(block, self.acc.get(block.name),
                                                                 self.kept[block.name], self.arrays, self.B,
                                                                 self.dtype)
            if self.records is not None:
                self.records.setdefault(block.name, []).append(record)
        else:
            value = finish(block, self.acc.get(block.name), self.arrays, (self.B,))
        self.history[block.name].append(value)

    def then(self, p, t):
        value = self.history[p.source][t]
        contribute(self.acc, p, getval(value) if p.truncate else value, self.arrays)

    def end_stage(self, stage):
        if stage.loop:
            self.values.update((name, anp.stack(rows)) for name, rows in self.history.items())


def initial_state(block: Block, arrays, B: int, dtype) -> tuple:
    """The state a stateful kind's block starts a sequence with."""
    learned = {suffix: arrays[name] for suffix, name in block.state_arrays}
    return OPS[block.op].initial_state(dict(block.options), learned, B, dtype)


def step_stateful(block: Block, slots, state, arrays, B: int, dtype):
    """(value (B, width), new state, record) of a stateful kind's one-node block at one step."""
    if slots is None:
        slots = anp.zeros((B, block.slot_width), dtype=dtype)
    if block.bias is not None:
        slots = slots + arrays[block.bias]
    ports = {port: slots[..., start:stop] for port, start, stop in block.ports}
    value, state, record = OPS[block.op].step(dict(block.options), ports, state)
    return ACTIVATIONS[block.activation].fn(value), state, record
