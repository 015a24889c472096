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
from ..plan.walk import PlanOps, walk_backward, walk_forward
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
    all rows; ``reads``: (stage index, projection) -> a linked projection's
    gathered source (N, S).
    """

    stacked: dict = field(default_factory=dict)
    factors: dict = field(default_factory=dict)
    reads: dict = field(default_factory=dict)


def tree_forward(plan: Plan, arrays, x, batch, groups) -> tuple:
    """(values: block -> (N, W) and "input" -> x (N, I), TreeTape) in numpy.

    ``batch`` gives the links' tables; ``groups`` the loop stages' row
    ranges (:func:`groups_of`).
    """
    ops = _TreeForward(plan, arrays, x, batch, groups)
    walk_forward(plan, ops)
    return ops.values, ops.tape


class _TreeForward(PlanOps):
    """The fused tree forward pass in the order of plan/walk.py; positions are row groups."""

    def __init__(self, plan, arrays, x, batch, groups):
        self.plan, self.arrays, self.batch, self.groups = plan, plan.named(arrays), batch, groups
        self.N, self.dtype = x.shape[0], x.dtype
        self.values, self.tape = {INPUT_BLOCK: x}, TreeTape()

    def stacked(self, name):
        tape = self.tape
        if name not in tape.stacked:
            tape.stacked[name] = stacked_below(initial_row(self.plan, self.arrays, name, self.dtype),
                                               self.values[name])
        return tape.stacked[name]

    def positions(self, stage):
        return self.groups

    def begin_stage(self, stage):
        N, dtype = self.N, self.dtype
        self.slots = {b.name: np.zeros((N, b.slot_width), dtype) for b in stage.blocks()} if stage.loop else {}

    def hoist(self, stage, p):
        for t in p.targets:
            self.slots.setdefault(t.block, np.zeros((self.N, self.plan.blocks[t.block].slot_width), self.dtype))
        src = self.values[p.source]
        if p.link is not None:
            src = self.tape.reads[stage.index, p] = gather(self.stacked(p.source), self.batch.link_table(p.link),
                                                           slice(0, self.N))
        contribute(self.slots, p, src, self.arrays)

    def finish_all(self, stage, block):
        self.values[block.name], factors = finish(block, self.slots.get(block.name), self.arrays, (self.N,))
        if factors is not None:
            self.tape.factors[block.name] = factors

    def begin_loop(self, stage):
        N, dtype, tape = self.N, self.dtype, self.tape
        self.out = {}
        for block in stage.blocks():
            self.out[block.name] = np.empty((1 + N, block.width), dtype)
            self.out[block.name][0] = initial_row(self.plan, self.arrays, block.name, dtype)[0]
            tape.stacked[block.name] = self.out[block.name]
            self.values[block.name] = self.out[block.name][1:]
        self.tables = {p: self.batch.link_table(p.link) for p in stage.delayed}
        for p in stage.delayed:
            tape.reads[stage.index, p] = np.empty((N, self.values[p.source].shape[1]), dtype)
        self.stage = stage

    def begin_step(self, stage, group):
        self.rows = slice(*group)
        self.here = {name: part[self.rows] for name, part in self.slots.items()}   # views: sums land in slots

    def read(self, p, group):
        read = self.tape.reads[self.stage.index, p]
        read[self.rows] = gather(self.out[p.source], self.tables[p], self.rows)
        contribute(self.here, p, read[self.rows], self.arrays)

    def finish(self, block, group):
        value, _ = finish(block, self.here[block.name], self.arrays, (group[1] - group[0],))
        self.values[block.name][self.rows] = value

    def then(self, p, group):
        contribute(self.here, p, self.values[p.source][self.rows], self.arrays)

    def end_stage(self, stage):
        if stage.loop:
            for block in stage.blocks():
                if keeps_slots(block):
                    self.tape.factors[block.name] = factors_of(block, self.slots[block.name])


def tree_backward(plan: Plan, arrays, x, values, tape: TreeTape, g_values: dict, batch, groups):
    """(gradients of the fused arrays, gradient of x (N, I)) from the gradients of block values.

    Every source's gradient is accumulated stacked, (1 + N, W): row 0 is
    what reached its initial value through reads of missing children (or
    of a root's parent), and goes to the block's ``initial`` array.
    """
    ops = _TreeBackward(plan, arrays, x, values, tape, g_values, batch, groups)
    walk_backward(plan, ops)
    for name, block in plan.blocks.items():
        ops.g_arrays[block.initial] += ops.g_stacked[name][0]
    return plan.in_order(ops.g_arrays), ops.G[INPUT_BLOCK]


class _TreeBackward(PlanOps):
    """Backpropagation through structure in the order of plan/walk.py; a loop stage's own links'
    reads scatter their gradients into ``g_stacked`` (block -> (1 + N, W)) as they go."""

    def __init__(self, plan, arrays, x, values, tape, g_values, batch, groups):
        self.plan, self.arrays, self.values, self.tape, self.batch, self.groups = \
            plan, plan.named(arrays), values, tape, batch, groups
        self.N = x.shape[0]
        self.g_arrays = {name: np.zeros_like(a) for name, a in self.arrays.items()}
        self.g_stacked = {name: np.zeros((1 + self.N, v.shape[1]), v.dtype) for name, v in values.items()}
        self.G = {name: g[1:] for name, g in self.g_stacked.items()}
        for name, g in g_values.items():
            self.G[name] += g

    def positions(self, stage):
        return self.groups

    def begin_stage(self, stage):
        self.g_slots = {}

    def finish_all_back(self, stage, block):
        self.g_slots[block.name] = finish_vjp(block, self.values[block.name], self.tape.factors.get(block.name),
                                              self.G[block.name], self.g_arrays)

    def hoist_back(self, stage, p):
        src = self.values[p.source] if p.link is None else self.tape.reads[stage.index, p]
        g_src = None if p.truncate else np.zeros_like(src)
        contribute_vjp(p, src, self.g_slots, self.arrays, self.g_arrays, g_src)
        if g_src is None:
            return
        if p.link is None:
            self.G[p.source] += g_src
        else:
            gather_vjp(self.g_stacked[p.source], p.link, self.batch.link_table(p.link), slice(0, self.N), g_src)

    def begin_loop(self, stage):
        self.g_slots = {b.name: np.empty((self.N, b.slot_width), self.values[b.name].dtype)
                        for b in stage.blocks()}
        self.tables = {p: self.batch.link_table(p.link) for p in stage.delayed}
        self.stage = stage

    def begin_step(self, stage, group):
        self.rows, self.here = slice(*group), {}

    def then_back(self, p, group):
        contribute_vjp(p, self.values[p.source][self.rows], self.here, self.arrays, self.g_arrays,
                       self.G[p.source][self.rows], weights=False)

    def finish_back(self, block, group):
        name, rows = block.name, self.rows
        factors = [f[rows] for f in self.tape.factors[name]] if keeps_slots(block) else None
        self.here[name] = self.g_slots[name][rows] = finish_vjp(block, self.values[name][rows], factors,
                                                                self.G[name][rows], self.g_arrays)

    def read_back(self, p, group):
        read = self.tape.reads[self.stage.index, p]
        g_read = np.zeros((group[1] - group[0], read.shape[1]), read.dtype)
        contribute_vjp(p, read[self.rows], self.here, self.arrays, self.g_arrays, g_read, weights=False)
        gather_vjp(self.g_stacked[p.source], p.link, self.tables[p], self.rows, g_read)

    def end_loop_back(self, stage):
        # the weights' gradients: one product over all rows per projection, not one per group
        for _, projections in stage.instant:
            for p in projections:
                contribute_vjp(p, self.values[p.source], self.g_slots, self.arrays, self.g_arrays, None)
        for p in stage.delayed:
            contribute_vjp(p, self.tape.reads[stage.index, p], self.g_slots, self.arrays, self.g_arrays, None)


class TreePasses:
    """The fused tree engine's passes over ``plan`` and one TreeBatch, for fused_primitive.run_fused.

    ``x`` is the batch's inputs (N, I); the batch gives the structure (link
    tables, levels); ``batching`` is ``"level"`` or ``"node"``.  Trees carry
    no state from run to run and node kinds with state do not run over
    them, so ``state`` and ``records`` are unused.
    """

    def __init__(self, plan: Plan, batch, batching: str = "level"):
        self.plan, self.batch, self.groups = plan, batch, groups_of(batch, batching)

    def forward(self, arrays, x, state=None, records=None, scratch=False, keep=True):
        return tree_forward(self.plan, arrays, x, self.batch, self.groups)

    def backward(self, arrays, x, values, tape, g_values, state=None, want_x=True, scratch=False):
        g_arrays, g_x = tree_backward(self.plan, arrays, x, values, tape, g_values, self.batch, self.groups)
        return g_arrays, (g_x if want_x else None)
