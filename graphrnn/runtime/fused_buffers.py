"""Where the fused passes keep slots and products: buffers shared by a projection's targets, and
products written into buffers reused for a whole pass.

Shapes: a slot space is lead + (slot_width,), lead being (T, B) for a
sequence stage's buffers or (B,) for one step's.
"""
from __future__ import annotations

import numpy as np

from ..plan.ir import Projection


def joint_key(p: Projection):
    """The key under which a slot dict may hold a matmul projection's targets side by side as one
    array (..., their widths summed, in ``p``'s column order: plan/check.py's invariant 9 says
    they tile its columns so), or None for a single target or an elementwise projection."""
    return tuple(t.block for t in p.targets) if len(p.targets) > 1 and p.runs is None else None


def product_into(scratch, a, b):
    """a @ b, into a buffer of ``scratch`` (a dict the caller keeps for one pass) when given."""
    if scratch is None:
        return a @ b
    key = (a.shape[:-1] + b.shape[-1:], a.dtype)
    buffer = scratch.get(key)
    if buffer is None:
        buffer = scratch[key] = np.empty(key[0], np.result_type(a, b))
    return np.matmul(a, b, out=buffer)


def slot_layout(stage, blocks) -> list:
    """``blocks`` in groups that share one slot buffer (see slot_buffers): the targets of a
    matmul projection of ``stage`` that takes its columns in order; the others alone."""
    wanted = {b.name: b for b in blocks}
    groups, placed = [], set()
    for p in stage.hoisted + stage.delayed + tuple(q for _, ps in stage.instant for q in ps):
        names = [t.block for t in p.targets]
        if joint_key(p) is not None and all(n in wanted and n not in placed for n in names):
            groups.append([wanted[n] for n in names])
            placed.update(names)
    return groups + [[b] for b in blocks if b.name not in placed]


def slot_buffers(layout, lead, dtype, make) -> dict:
    """block name -> its slot space lead + (slot_width,), from ``make`` (np.zeros, np.empty).

    A group of ``layout`` shares one buffer, its blocks side by side, held
    also under the group's joint_key, so that a projection's targets read as
    one array with no concatenation; the other blocks get buffers of their
    own, since numpy runs elementwise operations on contiguous arrays several
    times faster than on strided views.
    """
    views = {}
    for group in layout:
        if len(group) == 1:
            views[group[0].name] = make(lead + (group[0].slot_width,), dtype)
            continue
        joint, start = make(lead + (sum(b.slot_width for b in group),), dtype), 0
        views[tuple(b.name for b in group)] = joint
        for b in group:
            views[b.name] = joint[..., start:start + b.slot_width]
            start += b.slot_width
    return views
