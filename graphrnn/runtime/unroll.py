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


def finish(block: Block, slots, arrays, lead: tuple):
    """A block's value from its slot space: act(combine(slots) + bias).

    ``slots`` is (*lead, factors*width) or None when nothing feeds the block.
    """
    if slots is None:
        slots = anp.zeros(lead + (block.slot_width,))
    w = block.width
    factors = [slots] if block.factors == 1 else [slots[..., k * w:(k + 1) * w] for k in range(block.factors)]
    pre = OPS[block.op].combine(factors)
    if block.bias is not None:
        pre = pre + arrays[block.bias]
    return ACTIVATIONS[block.activation].fn(pre)


def project(p: Projection, src, arrays):
    """``src`` (..., S) through projection ``p`` -> (..., C)."""
    weight = arrays[p.weight]
    if p.index is None:
        if src.ndim == 2:
            return anp.dot(src, weight)
        lead = src.shape[:-1]
        flat = anp.dot(anp.reshape(src, (-1, src.shape[-1])), weight)
        return anp.reshape(flat, lead + (flat.shape[-1],))
    out = None
    for k, (kind, arg, plain) in enumerate(p.views):
        part = src if kind == "all" else src[..., arg[0]:arg[1]] if kind == "slice" else src[..., arg]
        if not plain:
            part = part * weight[k]
        out = part if out is None else out + part
    return out


def _accumulate(acc: dict, projection: Projection, out) -> None:
    if len(projection.targets) == 1:
        parts = [(projection.targets[0].block, out)]
    else:
        parts = [(t.block, out[..., t.start:t.stop]) for t in projection.targets]
    for block, part in parts:
        acc[block] = part if block not in acc else acc[block] + part


def _shift(seq, delay: int, initial):
    """seq (T, B, W) read ``delay`` positions back; positions before 0 read ``initial`` (W,)."""
    T, B = seq.shape[0], seq.shape[1]
    head = min(delay, T)
    fill = anp.zeros((head, B, seq.shape[2])) if initial is None else initial * anp.ones((head, B, 1))
    if head == T:
        return fill
    return anp.concatenate([fill, seq[:T - delay]], axis=0)


def unroll(plan: Plan, arrays, x) -> dict:
    """Every block's value sequence (T, B, width), keyed by block name.

    ``arrays`` are the fused arrays (see ``assemble``); ``x`` is (T, B, I).
    """
    T, B = x.shape[0], x.shape[1]
    values = {INPUT_BLOCK: x}

    def initial(name):
        return None if name == INPUT_BLOCK else arrays[plan.blocks[name].initial]

    for stage in plan.stages:
        hoisted: dict = {}
        for p in stage.hoisted:
            src = values[p.source]
            init = initial(p.source)
            if p.truncate:
                src, init = getval(src), (None if init is None else getval(init))
            if p.delay:
                src = _shift(src, p.delay, init)
            _accumulate(hoisted, p, project(p, src, arrays))
        if not stage.loop:
            for block in stage.blocks():
                values[block.name] = finish(block, hoisted.get(block.name), arrays, (T, B))
            continue
        values.update(_loop(stage, hoisted, arrays, initial, T, B))
    return values


def _loop(stage, hoisted, arrays, initial, T, B) -> dict:
    blocks = stage.blocks()
    history = {b.name: [] for b in blocks}
    start = {b.name: initial(b.name) * anp.ones((B, 1)) for b in blocks}
    after = dict(stage.instant)
    for t in range(T):
        acc = {name: seq[t] for name, seq in hoisted.items()}
        for p in stage.delayed:
            src = history[p.source][t - p.delay] if t >= p.delay else start[p.source]
            _accumulate(acc, p, project(p, getval(src) if p.truncate else src, arrays))
        for level in stage.levels:
            for block in level:
                value = finish(block, acc.get(block.name), arrays, (B,))
                history[block.name].append(value)
                for p in after.get(block.name, ()):
                    _accumulate(acc, p, project(p, getval(value) if p.truncate else value, arrays))
    return {name: anp.stack(rows) for name, rows in history.items()}
