"""Emit stage for trees: run a Plan over a TreeBatch with autograd.numpy, level by level.

Rows are tree nodes in the batch's level order (see trees/batch.py); every
block value is (N, width).  The plan is the one sequences use, with tree
links in place of delays: a projection with a ``link`` (graph/ir.py Link)
reads its source at a child (``child``, its ``index``), pooled over the
children (``children``, its ``pool``) or at the parent (``parent``: always
hoisted, checks.py makes sure), and a node without that child (or a root)
reads the source's ``initial`` value.

- Non-recurrent stages and hoisted projections run for all N rows at once
  (a link there is one gather over the whole batch).
- A loop stage steps through the *groups* of a schedule.  With
  ``batching="level"`` a group is one height across the whole batch: one
  vectorised step per level, whatever the number of trees.  With
  ``batching="node"`` a group is one node: the plain recursive evaluation,
  kept as the oracle and as the baseline for the speed-up of level batching.

Everything is differentiable by autograd (float64 by default); ``truncate``
edges read their source through ``getval`` as in unroll.py.
"""
from __future__ import annotations

import autograd.numpy as anp
from autograd.tracer import getval

from ..graph.ir import Link
from ..plan.ir import INPUT_BLOCK, Plan
from ..plan.walk import PlanOps, walk_forward
from .unroll import contribute, finish

BATCHING = ("level", "node")


def gather(stacked, link: Link, table, rows: slice):
    """The ``link`` read of ``rows`` from ``stacked`` (1 + N, W): initial row 0, node r at r + 1.

    ``table`` is ``batch.link_table(link)``.  Returns (n, W), n = the rows' count.
    """
    index, weights = table
    if weights is None:
        return stacked[index[rows]]
    picked = stacked[index[rows]]                              # (n, A, W)
    return anp.sum(picked * weights[rows][:, :, None], axis=1)


class LevelHistory:
    """A block's values so far, stacked below its initial row, for gathers by row.

    ``stacked`` is (1 + rows so far, W): row 0 the initial value, node r at
    row r + 1.  It grows by one two-way concatenate per level (autograd's
    backward pass for one concatenate of n arrays costs O(n^2), so never
    one concatenate of all levels).
    """

    def __init__(self, initial_row):
        self.stacked, self.pending = initial_row, []

    def append(self, value) -> None:
        self.pending.append(value)

    def _flush(self):
        if self.pending:
            self.stacked = anp.concatenate([self.stacked] + self.pending, axis=0)
            self.pending = []
        return self.stacked

    def read(self, link: Link, table, rows: slice):
        return gather(self._flush(), link, table, rows)

    def all(self):
        return self._flush()[1:]


class NodeHistory:
    """A block's values so far, one (1, W) row per node, read child by child (no gathers)."""

    def __init__(self, initial_row, batch):
        self.initial, self.rows, self.batch = initial_row, [], batch

    def append(self, value) -> None:
        self.rows.append(value)

    def read(self, link: Link, table, rows: slice):
        r = rows.start
        kids = [int(c) for c in self.batch.children[r] if c >= 0]
        if link.kind == "children":
            if not kids:
                return self.initial
            total = self.rows[kids[0]]
            for c in kids[1:]:
                total = total + self.rows[c]
            return total / len(kids) if link.pool == "mean" else total
        k = link.index - 1
        return self.rows[kids[k]] if k < len(kids) else self.initial

    def all(self):
        return concatenate_rows(self.rows)


def concatenate_rows(parts: list, chunk: int = 32):
    """anp.concatenate of many (1, W) rows in chunks: autograd's backward pass for one
    concatenate of n arrays costs O(n^2), which would dominate node-by-node runs."""
    while len(parts) > 1:
        parts = [anp.concatenate(parts[i:i + chunk], axis=0) for i in range(0, len(parts), chunk)]
    return parts[0]


def initial_row(plan: Plan, arrays, name: str, dtype):
    """(1, W): what a missing child reads: the block's initial value, zeros for the inputs."""
    if name == INPUT_BLOCK:
        return anp.zeros((1, plan.input_width), dtype=dtype)
    return anp.reshape(arrays[plan.blocks[name].initial], (1, -1))


def unroll_tree(plan: Plan, arrays, batch, batching: str = "level") -> dict:
    """Every block's values (N, width) over the batch's rows, keyed by block name (and "input")."""
    ops = _TreeUnroll(plan, arrays, batch, batching)
    walk_forward(plan, ops)
    return ops.values


class _TreeUnroll(PlanOps):
    """The plan's operations over a TreeBatch in autograd.numpy, in the order of plan/walk.py;
    a loop stage's positions are the schedule's groups of rows (start, stop)."""

    def __init__(self, plan, arrays, batch, batching):
        self.plan, self.arrays, self.batch, self.batching = plan, plan.named(arrays), batch, batching
        self.N, self.dtype = batch.x.shape[0], getval(batch.x).dtype
        self.values = {INPUT_BLOCK: batch.x}
        if batching == "level":
            self.groups = list(batch.levels)
        else:
            self.groups = [(r, r + 1) for r in range(batch.size)]

    def positions(self, stage):
        return self.groups

    def begin_stage(self, stage):
        self.hoisted, self.per_group = {}, []

    def hoist(self, stage, p):
        src = self.values[p.source]
        if p.link is not None:
            stacked = anp.concatenate([initial_row(self.plan, self.arrays, p.source, self.dtype), src], axis=0)
            src = gather(stacked, p.link, self.batch.link_table(p.link), slice(0, self.N))
        src = getval(src) if p.truncate else src
        if stage.loop and self.batching == "node":
            # node by node, the projections too (x_r @ W per node): slicing a hoisted (N, .) product
            # per node would cost autograd a full-size zero array per slice in the backward pass
            self.per_group.append((p, src))
        else:
            contribute(self.hoisted, p, src, self.arrays)

    def finish_all(self, stage, block):
        self.values[block.name] = finish(block, self.hoisted.get(block.name), self.arrays, (self.N,))

    def begin_loop(self, stage):
        plan, arrays, dtype = self.plan, self.arrays, self.dtype
        if self.batching == "level":
            self.history = {b.name: LevelHistory(initial_row(plan, arrays, b.name, dtype)) for b in stage.blocks()}
        else:
            self.history = {b.name: NodeHistory(initial_row(plan, arrays, b.name, dtype), self.batch)
                            for b in stage.blocks()}
        self.tables = {p.link: self.batch.link_table(p.link) for p in stage.delayed}

    def begin_step(self, stage, group):
        start, stop = group
        self.acc = {name: part[start:stop] for name, part in self.hoisted.items()}
        for p, src in self.per_group:
            contribute(self.acc, p, src[start:stop], self.arrays)

    def read(self, p, group):
        src = self.history[p.source].read(p.link, self.tables[p.link], slice(*group))
        contribute(self.acc, p, getval(src) if p.truncate else src, self.arrays)

    def finish(self, block, group):
        value = finish(block, self.acc.get(block.name), self.arrays, (group[1] - group[0],))
        self.history[block.name].append(value)
        self.last = value

    def then(self, p, group):
        value = self.last   # the block just finished is the projection's source
        contribute(self.acc, p, getval(value) if p.truncate else value, self.arrays)

    def end_stage(self, stage):
        if stage.loop:
            self.values.update((name, h.all()) for name, h in self.history.items())
