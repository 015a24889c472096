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
    x = batch.x
    N, dtype = x.shape[0], getval(x).dtype
    values = {INPUT_BLOCK: x}
    for stage in plan.stages:
        sources = []            # (projection, its source read for all N rows: linked, truncated)
        for p in stage.hoisted:
            src = values[p.source]
            if p.link is not None:
                stacked = anp.concatenate([initial_row(plan, arrays, p.source, dtype), src], axis=0)
                src = gather(stacked, p.link, batch.link_table(p.link), slice(0, N))
            sources.append((p, getval(src) if p.truncate else src))
        if stage.loop and batching == "node":
            # node by node, the projections too (x_r @ W per node): slicing a hoisted (N, .) product
            # per node would cost autograd a full-size zero array per slice in the backward pass
            values.update(_loop(plan, stage, None, sources, arrays, batch, batching, dtype))
            continue
        hoisted: dict = {}
        for p, src in sources:
            contribute(hoisted, p, src, arrays)
        if not stage.loop:
            for block in stage.blocks():
                values[block.name] = finish(block, hoisted.get(block.name), arrays, (N,))
            continue
        values.update(_loop(plan, stage, hoisted, (), arrays, batch, batching, dtype))
    return values


def _loop(plan, stage, hoisted, per_group, arrays, batch, batching, dtype) -> dict:
    """Step a loop stage through the schedule's groups; ``hoisted`` holds precomputed slot
    contributions (N, slots), ``per_group`` (projection, source (N, S)) pairs projected per group."""
    if batching == "level":
        groups = batch.levels
        history = {b.name: LevelHistory(initial_row(plan, arrays, b.name, dtype)) for b in stage.blocks()}
    else:
        groups = [(r, r + 1) for r in range(batch.size)]
        history = {b.name: NodeHistory(initial_row(plan, arrays, b.name, dtype), batch)
                   for b in stage.blocks()}
    tables = {p.link: batch.link_table(p.link) for p in stage.delayed}
    after = dict(stage.instant)
    for start, stop in groups:
        rows = slice(start, stop)
        acc = {name: part[start:stop] for name, part in (hoisted or {}).items()}
        for p, src in per_group:
            contribute(acc, p, src[start:stop], arrays)
        for p in stage.delayed:
            src = history[p.source].read(p.link, tables[p.link], rows)
            contribute(acc, p, getval(src) if p.truncate else src, arrays)
        for level in stage.levels:
            for block in level:
                value = finish(block, acc.get(block.name), arrays, (stop - start,))
                history[block.name].append(value)
                for p in after.get(block.name, ()):
                    contribute(acc, p, getval(value) if p.truncate else value, arrays)
    return {name: h.all() for name, h in history.items()}
