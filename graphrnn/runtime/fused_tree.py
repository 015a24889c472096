"""The fused tree engine: a plan over a TreeBatch as one autograd primitive.

The forward pass runs the plan level by level in plain numpy (as tree.py
does with autograd.numpy) and keeps what the backward pass needs; the
backward pass is backpropagation through structure in numpy, from the
same rules the fused sequence engine uses (fused.py: ``finish_vjp`` from
``CombinerKind.combine_vjp`` and ``Activation.grad_from_output``,
``contribute_vjp`` for the projections' placements).  fused_primitive.py
registers the run with autograd (:class:`TreePasses` are its passes).

Rows are tree nodes in the batch's level order (trees/batch.py); every block
value is (N, width).  What a link reads, every block keeps *stacked*: a
(1 + N, width) array whose row 0 is the block's initial value (zeros for
the inputs) and row r + 1 is node r, so a read by ``batch.link_table(link)``
is one fancy index (``child``/``parent``) or a weighted sum over the padded
child table (``children``), and its gradient one scatter-add whose row 0
is the gradient of the initial value.

A loop stage steps through *groups* of rows: one height across the batch
(``batching="level"``) or one tree node (``"node"``); children always sit
in earlier rows, so a group reads only finished rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..plan.ir import INPUT_BLOCK, Plan
from .fused import contribute, contribute_vjp, factors_of, finish, finish_vjp, keeps_slots

__all__ = ["TreePasses", "tree_forward", "tree_backward", "groups_of"]


def groups_of(batch, batching: str) -> list:
    """The (start, stop) row ranges a loop stage steps through, children before parents."""
    if batching == "level":
        return list(batch.levels)
    return [(r, r + 1) for r in range(batch.size)]


# -- reads along tree links, forward and backward side by side ---------------------------

def gather(stacked, table, rows: slice):
    """The link read of ``rows`` from ``stacked`` (1 + N, W); ``table`` is ``batch.link_table(link)``.

    Returns (n, W), n the rows' count.
    """
    index, weights = table
    if weights is None:
        return stacked[index[rows]]
    return np.einsum("naw,na->nw", stacked[index[rows]], weights[rows])


def gather_vjp(g_stacked, link, table, rows: slice, g_read) -> None:
    """Scatter-add the gradient ``g_read`` (n, W) of a ``link`` gather into ``g_stacked`` (1 + N, W).

    A node is one parent's k-th child, so a ``child``/``children`` table
    names every row but row 0 (the initial value) at most once: those reads
    scatter by plain fancy indexing, and row 0 takes its sum apart.  Many
    children share a parent, so ``parent`` reads scatter with ``np.add.at``.
    """
    index, weights = table
    picked = index[rows]
    if link.kind == "parent":
        np.add.at(g_stacked, picked, g_read)
        return
    initial = g_stacked[0].copy()
    if weights is None:
        g_stacked[picked] += g_read
        initial += g_read[picked == 0].sum(axis=0)
    else:
        weights = weights[rows]
        for k in range(picked.shape[1]):
            g_stacked[picked[:, k]] += g_read * weights[:, k, None]
        initial += np.where(picked == 0, weights, 0.0).sum(axis=1) @ g_read
    g_stacked[0] = initial


def stacked_below(initial_row, values):
    """(1 + N, W): ``initial_row`` (1, W) on top of ``values`` (N, W)."""
    return np.concatenate([initial_row, values], axis=0)


def initial_row(plan: Plan, arrays, name: str, dtype):
    """(1, W): what a missing child (or a root's parent) reads: the initial value, zeros for inputs."""
    if name == INPUT_BLOCK:
        return np.zeros((1, plan.input_width), dtype=dtype)
    return np.reshape(arrays[plan.blocks[name].initial], (1, -1)).astype(dtype, copy=False)


# -- the passes ---------------------------------------------------------------------------

@dataclass
class TreeTape:
    """What the forward pass keeps for the backward pass.

    ``stacked``: block -> (1 + N, W) (initial row on top), for every block a
    link reads; ``factors``: product block -> its factors, each (N, W), over
    all rows; ``reads``: (stage, kind, k) -> the k-th hoisted (``"hoisted"``)
    or delayed (``"delayed"``) linked projection's gathered source (N, S).
    """

    stacked: dict = field(default_factory=dict)
    factors: dict = field(default_factory=dict)
    reads: dict = field(default_factory=dict)


def tree_forward(plan: Plan, arrays, x, batch, groups) -> tuple:
    """(values: block -> (N, W) and "input" -> x (N, I), TreeTape) in numpy.

    ``batch`` gives the links' tables; ``groups`` the loop stages' row
    ranges (:func:`groups_of`).
    """
    N, dtype = x.shape[0], x.dtype
    values, tape = {INPUT_BLOCK: x}, TreeTape()
    everything = slice(0, N)

    def stacked(name):
        if name not in tape.stacked:
            tape.stacked[name] = stacked_below(initial_row(plan, arrays, name, dtype), values[name])
        return tape.stacked[name]

    for stage in plan.stages:
        blocks = stage.blocks()
        slots = {b.name: np.zeros((N, b.slot_width), dtype) for b in blocks} if stage.loop else {}
        for k, p in enumerate(stage.hoisted):
            for t in p.targets:
                slots.setdefault(t.block, np.zeros((N, plan.blocks[t.block].slot_width), dtype))
            src = values[p.source]
            if p.link is not None:
                src = tape.reads[stage.index, "hoisted", k] = gather(
                    stacked(p.source), batch.link_table(p.link), everything)
            contribute(slots, p, src, arrays)
        if not stage.loop:
            for block in blocks:
                values[block.name], factors = finish(block, slots.get(block.name), arrays, (N,))
                if factors is not None:
                    tape.factors[block.name] = factors
            continue
        out = {}
        for block in blocks:
            out[block.name] = np.empty((1 + N, block.width), dtype)
            out[block.name][0] = initial_row(plan, arrays, block.name, dtype)[0]
            tape.stacked[block.name] = out[block.name]
            values[block.name] = out[block.name][1:]
        tables = [batch.link_table(p.link) for p in stage.delayed]
        reads = [np.empty((N, values[p.source].shape[1]), dtype) for p in stage.delayed]
        for k, read in enumerate(reads):
            tape.reads[stage.index, "delayed", k] = read
        after = dict(stage.instant)
        for start, stop in groups:
            rows = slice(start, stop)
            here = {name: part[rows] for name, part in slots.items()}   # views: sums land in slots
            for p, table, read in zip(stage.delayed, tables, reads):
                read[rows] = gather(out[p.source], table, rows)
                contribute(here, p, read[rows], arrays)
            for level in stage.levels:
                for block in level:
                    value, _ = finish(block, here[block.name], arrays, (stop - start,))
                    values[block.name][rows] = value
                    for p in after.get(block.name, ()):
                        contribute(here, p, value, arrays)
        for block in blocks:
            if keeps_slots(block):
                tape.factors[block.name] = factors_of(block, slots[block.name])
    return values, tape


def tree_backward(plan: Plan, arrays, x, values, tape: TreeTape, g_values: dict, batch, groups):
    """(gradients of the fused arrays, gradient of x (N, I)) from the gradients of block values.

    Every source's gradient is accumulated stacked, (1 + N, W): row 0 is
    what reached its initial value through reads of missing children (or
    of a root's parent), and goes to the block's ``initial`` array.
    """
    N = x.shape[0]
    g_arrays = [np.zeros_like(a) for a in arrays]
    g_stacked = {name: np.zeros((1 + N, v.shape[1]), v.dtype) for name, v in values.items()}
    G = {name: g[1:] for name, g in g_stacked.items()}
    for name, g in g_values.items():
        G[name] += g
    everything = slice(0, N)

    for stage in reversed(plan.stages):
        if stage.loop:
            g_slots = _loop_backward(stage, arrays, values, tape, G, g_stacked, g_arrays, batch, groups)
        else:
            g_slots = {b.name: finish_vjp(b, values[b.name], tape.factors.get(b.name), G[b.name], g_arrays)
                       for b in stage.blocks()}
        for k, p in enumerate(stage.hoisted):
            src = values[p.source] if p.link is None else tape.reads[stage.index, "hoisted", k]
            g_src = None if p.truncate else np.zeros_like(src)
            contribute_vjp(p, src, g_slots, arrays, g_arrays, g_src)
            if g_src is None:
                continue
            if p.link is None:
                G[p.source] += g_src
            else:
                gather_vjp(g_stacked[p.source], p.link, batch.link_table(p.link), everything, g_src)
    for name, block in plan.blocks.items():
        g_arrays[block.initial] += g_stacked[name][0]
    return g_arrays, G[INPUT_BLOCK]


def _loop_backward(stage, arrays, values, tape, G, g_stacked, g_arrays, batch, groups) -> dict:
    """The gradients of a loop stage's slot spaces, block -> (N, slot width), groups in reverse;
    its own links' reads scatter their gradients into ``g_stacked`` as they go."""
    blocks = stage.blocks()
    N = len(values[blocks[0].name])
    g_slots = {b.name: np.empty((N, b.slot_width), values[b.name].dtype) for b in blocks}
    after = dict(stage.instant)
    order = [b for level in reversed(stage.levels) for b in reversed(level)]
    tables = [batch.link_table(p.link) for p in stage.delayed]
    reads = [tape.reads[stage.index, "delayed", k] for k in range(len(stage.delayed))]
    for start, stop in reversed(groups):
        rows = slice(start, stop)
        here = {}
        for block in order:
            name = block.name
            value = values[name][rows]
            for p in after.get(name, ()):
                if not p.truncate:
                    contribute_vjp(p, value, here, arrays, g_arrays, G[name][rows], weights=False)
            factors = [f[rows] for f in tape.factors[name]] if keeps_slots(block) else None
            here[name] = g_slots[name][rows] = finish_vjp(block, value, factors, G[name][rows], g_arrays)
        for p, table, read in zip(stage.delayed, tables, reads):
            if p.truncate:
                continue
            g_read = np.zeros((stop - start, read.shape[1]), read.dtype)
            contribute_vjp(p, read[rows], here, arrays, g_arrays, g_read, weights=False)
            gather_vjp(g_stacked[p.source], p.link, table, rows, g_read)
    # the weights' gradients: one product over all rows per projection, not one per group
    for _, projections in stage.instant:
        for p in projections:
            contribute_vjp(p, values[p.source], g_slots, arrays, g_arrays, None)
    for p, read in zip(stage.delayed, reads):
        contribute_vjp(p, read, g_slots, arrays, g_arrays, None)
    return g_slots


class TreePasses:
    """The fused tree engine's passes over ``plan`` and one TreeBatch, for fused_primitive.run_fused.

    ``x`` is the batch's inputs (N, I); the batch gives the structure (link
    tables, levels); ``batching`` is ``"level"`` or ``"node"``.  Trees carry
    no state from run to run and node kinds with state do not run over
    them, so ``state`` and ``records`` are unused.
    """

    def __init__(self, plan: Plan, batch, batching: str = "level"):
        self.plan, self.batch, self.groups = plan, batch, groups_of(batch, batching)

    def forward(self, arrays, x, state=None, records=None, scratch=False):
        return tree_forward(self.plan, arrays, x, self.batch, self.groups)

    def backward(self, arrays, x, values, tape, g_values, state=None, want_x=True, scratch=False):
        g_arrays, g_x = tree_backward(self.plan, arrays, x, values, tape, g_values, self.batch, self.groups)
        return g_arrays, (g_x if want_x else None)
