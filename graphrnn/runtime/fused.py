"""The fused engine: the whole unrolled plan as one autograd primitive.

The forward pass runs the plan in plain numpy and keeps what the backward
pass needs (block values, and the factors of product blocks); the backward
pass is BPTT over the plan, also in plain numpy, built from the rules
registered beside each node kind (``CombinerKind.combine_vjp``,
``StatefulKind.fused_step_vjp``) and activation
(``Activation.grad_from_output``).  To autograd the run is a single node, so
graphrnn stays an autograd citizen while paying numpy's cost per operation
instead of the tape's.

Shapes are those of unroll.py: time-major (T, B, width) per block.  The
run's registration with autograd (one primitive, a sparse cotangent over the
blocks) is fused_primitive.py.
"""
from __future__ import annotations

import numpy as np

from ..errors import PlanError
from ..ops import ACTIVATIONS, OPS
from ..plan.ir import INPUT_BLOCK, Block, Plan, Projection
from ..plan.walk import PlanOps, walk_backward, walk_forward
from .fused_buffers import joint_key, product_into, slot_buffers, slot_layout
from .fused_stateful import initial_state, stateful_record, stateful_step, stateful_step_vjp
from .state import start_rows


def fused_rules_hold(graph) -> bool:
    """True when every node's kind and activation has a backward rule for this engine."""
    try:
        check_rules(graph)
    except PlanError:
        return False
    return True


def check_rules(graph) -> None:
    """Raise PlanError when a node's kind or activation has no backward rule (fused and fused_tree)."""
    reference = "autograd_tree" if graph.over == "tree" else "autograd"
    for node in graph.nodes.values():
        if node.is_input:
            continue
        if not OPS[node.op].has_fused_rule:
            raise PlanError("GR115", f"node kind `{node.op}` (node `{node.name}`) has no backward rule "
                            "for the fused engine", loc=node.loc,
                            fix=f"register the kind with `combine_vjp=...`, or load with engine='{reference}'")
        if ACTIVATIONS[node.activation].grad_from_output is None:
            raise PlanError("GR115", f"activation `{node.activation}` (node `{node.name}`) has no "
                            "backward rule for the fused engine", loc=node.loc,
                            fix=f"register it with `grad_from_output=...`, or load with engine='{reference}'")


# -- the operations, forward and backward side by side ----------------------------

def factors_of(block: Block, slots):
    w = block.width
    return [slots] if block.factors == 1 else [slots[..., k * w:(k + 1) * w] for k in range(block.factors)]


def finish(block: Block, slots, arrays, lead, out=None):
    """(value, factors kept for backward or None).  With ``out`` (lead + (width,)) the value is
    written there and returned, and ``slots`` (the caller's scratch) may be overwritten."""
    if slots is None:
        slots = np.zeros(lead + (block.slot_width,), dtype=arrays[block.initial].dtype)
    factors = factors_of(block, slots)
    pre = OPS[block.op].combine(factors)
    kept = factors if keeps_slots(block) else None
    activation = ACTIVATIONS[block.activation]
    if out is None:
        if block.bias is not None:
            pre = pre + arrays[block.bias]
        return activation.fn(pre), kept
    if block.bias is not None:
        if pre is slots and kept is not None:
            pre = pre + arrays[block.bias]
        else:
            np.add(pre, arrays[block.bias], out=pre)
    activation.apply_into(pre, out)
    return out, kept


def keeps_slots(block: Block) -> bool:
    """Whether the backward pass needs the block's slots (or a stateful kind's step caches)."""
    return OPS[block.op].keeps_slots(block.factors)


def finish_vjp(block: Block, value, factors, g_value, g_arrays, out=None):
    """Gradient of a block's slot space (..., slot_width) from the gradient of its value;
    written into ``out`` (that shape) and returned when given."""
    activation = ACTIVATIONS[block.activation]
    product = keeps_slots(block)
    if out is None or product:
        g_pre = activation.grad_from_output(value, g_value)
    else:
        activation.grad_from_output_into(value, g_value, out)
        g_pre = out
    if block.bias is not None:
        g_arrays[block.bias] += g_pre.reshape(-1, block.width).sum(axis=0)
    if not product:
        return g_pre
    return np.concatenate(OPS[block.op].combine_vjp(factors, g_pre), axis=-1, out=out)


def contribute(slots: dict, p: Projection, src, arrays, scratch=None) -> None:
    """Add projection ``p`` of ``src`` (..., S) into the slot buffers, in place (the product of a
    matmul projection into a buffer of ``scratch``, see product_into).  ``slots``: block name ->
    (..., slot_width), and optionally joint_key(p) -> the targets' slots side by side."""
    weight = arrays[p.weight]
    if p.runs is None:
        out = product_into(scratch, src, weight)
        if len(p.targets) == 1:
            slots[p.targets[0].block] += out
        elif joint_key(p) in slots:
            slots[joint_key(p)] += out
        else:
            for t in p.targets:
                slots[t.block] += out[..., t.start:t.stop]
        return
    for run in p.runs:
        piece = src[..., run.src:run.src + 1] if run.broadcast else src[..., run.src:run.src + run.n]
        if run.scale is not None:
            piece = piece * weight[run.scale:run.scale + run.n]
        slots[run.block][..., run.dst:run.dst + run.n] += piece


def contribute_vjp(p: Projection, src, g_slots: dict, arrays, g_arrays, g_src, weights: bool = True,
                   scratch=None) -> None:
    """Accumulate the gradients of ``p``'s weights (unless ``weights`` is false) and, unless
    ``g_src`` is None, of its source (products into buffers of ``scratch``, see product_into).
    ``g_slots`` as contribute's ``slots``: a joint_key(p) entry spares the concatenation."""
    weight = arrays[p.weight]
    if p.runs is None:
        key = joint_key(p)
        if key is None:
            g_out = g_slots[p.targets[0].block]
        elif key in g_slots:
            g_out = g_slots[key]
        else:
            g_out = np.concatenate([g_slots[t.block] for t in p.targets], axis=-1)
        if weights:
            g_arrays[p.weight] += product_into(scratch, src.reshape(-1, src.shape[-1]).T,
                                               g_out.reshape(-1, g_out.shape[-1]))
        if g_src is not None:
            g_src += product_into(scratch, g_out, weight.T)
        return
    for run in p.runs:
        g_piece = g_slots[run.block][..., run.dst:run.dst + run.n]
        if run.scale is not None:
            piece = src[..., run.src:run.src + 1] if run.broadcast else src[..., run.src:run.src + run.n]
            if weights:
                g_arrays[p.weight][run.scale:run.scale + run.n] += (piece * g_piece).reshape(-1, run.n).sum(axis=0)
            g_piece = g_piece * weight[run.scale:run.scale + run.n]
        if g_src is None:
            continue
        if run.broadcast:
            g_src[..., run.src:run.src + 1] += g_piece.sum(axis=-1, keepdims=True)
        else:
            g_src[..., run.src:run.src + run.n] += g_piece


def shift(seq, delay, before):
    """seq (T, B, W) read ``delay`` back; before the start, rows of ``before`` (D, B, W)."""
    out = np.empty_like(seq)
    head, depth = min(delay, len(seq)), len(before)
    out[:head] = before[depth - delay:depth - delay + head]
    out[head:] = seq[:len(seq) - head]
    return out


# -- forward and backward over the plan (the order is plan/walk.py's) ------------------

def forward(plan: Plan, arrays, x, state=None, records=None):
    """(values: block -> (T, B, W), tape: product block -> its factors, stateful block -> its
    steps' caches) in numpy; ``records`` collects what stateful kinds record (see unroll)."""
    ops = _Forward(plan, arrays, x, state, records)
    walk_forward(plan, ops)
    return ops.values, ops.tape


class _Forward(PlanOps):
    def __init__(self, plan, arrays, x, state, records):
        arrays = plan.named(arrays)
        self.plan, self.arrays, self.records = plan, arrays, records
        self.T, self.B = x.shape[:2]
        self.dtype = x.dtype
        self.values, self.tape, self.scratch = {INPUT_BLOCK: x}, {}, {}
        self.before = {name: start_rows(plan, arrays, state, name, self.B,
                                        x.shape[2] if name == INPUT_BLOCK else plan.blocks[name].width, x.dtype)
                       for name in plan.lookback}

    def positions(self, stage):
        return range(self.T)

    def begin_stage(self, stage):
        self.hoisted = {}

    def hoist(self, stage, p):
        hoisted, arrays = self.hoisted, self.arrays
        src = self.values[p.source]
        src = shift(src, p.delay, self.before[p.source]) if p.delay else src
        if p.runs is None and not any(t.block in hoisted for t in p.targets):
            product = src @ arrays[p.weight]   # the blocks' first contribution: their slots
            hoisted.update((t.block, product[..., t.start:t.stop]) for t in p.targets)
            if joint_key(p) is not None:
                hoisted[joint_key(p)] = product
            return
        for t in p.targets:
            if t.block not in hoisted:
                hoisted[t.block] = np.zeros((self.T, self.B, self.plan.blocks[t.block].slot_width), self.dtype)
        contribute(hoisted, p, src, arrays, self.scratch)

    def finish_all(self, stage, block):
        self.values[block.name], self.tape[block.name] = finish(
            block, self.hoisted.get(block.name), self.arrays, (self.T, self.B),
            np.empty((self.T, self.B, block.width), self.dtype))

    def begin_loop(self, stage):
        blocks = stage.blocks()
        self.out = {b.name: np.empty((self.T, self.B, b.width), self.dtype) for b in blocks}
        self.kept = {b.name: [] for b in blocks if keeps_slots(b)}
        self.carried = {b.name: initial_state(b, self.arrays, self.B, self.dtype)
                        for b in blocks if OPS[b.op].stateful}
        self.layout = slot_layout(stage, [b for b in blocks if b.name not in self.hoisted])   # + joint keys

    def begin_step(self, stage, t):
        self.slots = slot_buffers(self.layout, (self.B,), self.dtype, np.zeros)   # fresh: the tape keeps factors
        self.slots.update((name, rows[t]) for name, rows in self.hoisted.items())   # ours: not read again

    def read(self, p, t):
        src = self.out[p.source][t - p.delay] if t >= p.delay else self.before[p.source][t - p.delay]
        contribute(self.slots, p, src, self.arrays, self.scratch)

    def finish(self, block, t):
        name = block.name
        if name in self.carried:
            value, self.carried[name], cache = stateful_step(block, self.slots[name], self.carried[name], self.arrays)
            self.kept[name].append(cache)
            if self.records is not None:
                self.records.setdefault(name, []).append(stateful_record(block, cache))
            self.out[name][t] = value
            return
        _, factors = finish(block, self.slots[name], self.arrays, (self.B,), self.out[name][t])
        if factors is not None:
            self.kept[name].append(factors)

    def then(self, p, t):
        contribute(self.slots, p, self.out[p.source][t], self.arrays, self.scratch)

    def end_stage(self, stage):
        if stage.loop:
            self.values.update(self.out)
            self.tape.update(self.kept)


def backward(plan: Plan, arrays, x, values, tape, g_values: dict, state=None, want_x: bool = True):
    """(gradients of the fused arrays, gradient of x or None) from the gradients of block values.

    Reads before the first step reach the nodes' ``initial`` values, unless
    the run continued a ``state``: that is data, and takes no gradient.
    ``want_x`` false: nobody differentiates x, so its gradient is not computed.
    """
    ops = _Backward(plan, arrays, x, values, tape, g_values, state, want_x)
    walk_backward(plan, ops)
    return plan.in_order(ops.g_arrays), ops.G.get(INPUT_BLOCK)


class _Backward(PlanOps):
    def __init__(self, plan, arrays, x, values, tape, g_values, state, want_x):
        arrays = plan.named(arrays)
        self.plan, self.arrays, self.values, self.tape, self.state = plan, arrays, values, tape, state
        self.T, self.B = x.shape[:2]
        self.scratch = {}
        self.g_arrays = {name: np.zeros_like(a) for name, a in arrays.items()}
        self.G = {name: (np.array(g_values[name], dtype=v.dtype) if name in g_values else np.zeros_like(v))
                  for name, v in values.items() if name != INPUT_BLOCK or want_x}
        self.before = {name: start_rows(plan, arrays, state, name, self.B, values[name].shape[2], x.dtype)
                       for name in plan.lookback}

    def to_initial(self, name):
        """Whether gradients of reads before the start belong to the block's initial value."""
        return name != INPUT_BLOCK and (self.state is None or name not in self.state)

    def positions(self, stage):
        return range(self.T)

    def begin_stage(self, stage):
        self.g_slots = {}

    def finish_all_back(self, stage, block):
        self.g_slots[block.name] = finish_vjp(block, self.values[block.name], self.tape[block.name],
                                              self.G[block.name], self.g_arrays)

    def hoist_back(self, stage, p):
        T, G = self.T, self.G
        src = self.values[p.source]
        src_in = shift(src, p.delay, self.before[p.source]) if p.delay else src
        g_src = None if p.truncate or p.source not in G else np.zeros_like(src_in)
        contribute_vjp(p, src_in, self.g_slots, self.arrays, self.g_arrays, g_src, scratch=self.scratch)
        if g_src is None:
            return
        d = min(p.delay, T)
        G[p.source][:T - d] += g_src[d:]
        if d and self.to_initial(p.source):
            self.g_arrays[self.plan.blocks[p.source].initial] += g_src[:d].reshape(-1, g_src.shape[-1]).sum(axis=0)

    def begin_loop(self, stage):
        blocks = stage.blocks()
        dtype = self.values[blocks[0].name].dtype
        self.g_slots = slot_buffers(slot_layout(stage, blocks), (self.T, self.B), dtype, np.empty)
        self.joint = [key for key in self.g_slots if isinstance(key, tuple)]
        self.g_start = {b.name: np.zeros((self.B, b.width), dtype=dtype) for b in blocks}
        self.g_carried = {b.name: (None, None) for b in blocks if OPS[b.op].stateful}

    def begin_step(self, stage, t):
        self.here = {key: self.g_slots[key][t] for key in self.joint}   # filled by the blocks' finish_back

    def then_back(self, p, t):
        contribute_vjp(p, self.values[p.source][t], self.here, self.arrays, self.g_arrays, self.G[p.source][t],
                       False, self.scratch)

    def finish_back(self, block, t):
        name = block.name
        if name in self.g_carried:
            self.here[name], self.g_carried[name] = stateful_step_vjp(
                block, self.values[name][t], self.tape[name][t], self.G[name][t], self.g_carried[name],
                self.g_arrays)
            self.g_slots[name][t] = self.here[name]
            return
        factors = self.tape[name][t] if keeps_slots(block) else None
        self.here[name] = finish_vjp(block, self.values[name][t], factors, self.G[name][t], self.g_arrays,
                                     self.g_slots[name][t])

    def read_back(self, p, t):
        if t >= p.delay:
            src, g_src = self.values[p.source][t - p.delay], self.G[p.source][t - p.delay]
        else:
            src, g_src = self.before[p.source][t - p.delay], self.g_start[p.source]
        contribute_vjp(p, src, self.here, self.arrays, self.g_arrays, g_src, False, self.scratch)

    def end_loop_back(self, stage):
        # the weights' gradients: one product over all steps per projection, not one per step
        arrays, g_arrays, g_slots, scratch = self.arrays, self.g_arrays, self.g_slots, self.scratch
        for _, projections in stage.instant:
            for p in projections:
                contribute_vjp(p, self.values[p.source], g_slots, arrays, g_arrays, None, scratch=scratch)
        for p in stage.delayed:
            contribute_vjp(p, shift(self.values[p.source], p.delay, self.before[p.source]), g_slots, arrays,
                           g_arrays, None, scratch=scratch)
        for block in stage.blocks():
            if self.to_initial(block.name):
                g_arrays[block.initial] += self.g_start[block.name].sum(axis=0)
            if block.name in self.g_carried and self.g_carried[block.name][0] is not None:
                learned = OPS[block.op].initial_state_vjp(dict(block.options), self.g_carried[block.name])
                for suffix, name in block.state_arrays:
                    g_arrays[name] += learned[suffix]
