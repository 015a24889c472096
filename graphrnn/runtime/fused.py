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
from .fused_buffers import joint_key, product_into, slot_buffers, slot_layout
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


# -- forward and backward over the plan ---------------------------------------------

def forward(plan: Plan, arrays, x, state=None, records=None):
    """(values: block -> (T, B, W), tape: product block -> its factors, stateful block -> its
    steps' caches) in numpy; ``records`` collects what stateful kinds record (see unroll)."""
    T, B = x.shape[:2]
    values, tape = {INPUT_BLOCK: x}, {}
    dtype = x.dtype
    before = {name: start_rows(plan, arrays, state, name, B,
                               x.shape[2] if name == INPUT_BLOCK else plan.blocks[name].width, dtype)
              for name in plan.lookback}

    scratch = {}
    for stage in plan.stages:
        hoisted = {}
        for p in stage.hoisted:
            src = values[p.source]
            src = shift(src, p.delay, before[p.source]) if p.delay else src
            if p.runs is None and not any(t.block in hoisted for t in p.targets):
                product = src @ arrays[p.weight]   # the blocks' first contribution: their slots
                hoisted.update((t.block, product[..., t.start:t.stop]) for t in p.targets)
                if joint_key(p) is not None:
                    hoisted[joint_key(p)] = product
                continue
            for t in p.targets:
                if t.block not in hoisted:
                    hoisted[t.block] = np.zeros((T, B, plan.blocks[t.block].slot_width), dtype)
            contribute(hoisted, p, src, arrays, scratch)
        if not stage.loop:
            for block in stage.blocks():
                values[block.name], tape[block.name] = finish(block, hoisted.get(block.name), arrays, (T, B),
                                                              np.empty((T, B, block.width), dtype))
            continue
        blocks = stage.blocks()
        out = {b.name: np.empty((T, B, b.width), dtype) for b in blocks}
        kept = {b.name: [] for b in blocks if keeps_slots(b)}
        after = dict(stage.instant)
        carried = {b.name: initial_state(b, arrays, B, dtype) for b in blocks if OPS[b.op].stateful}
        layout = slot_layout(stage, [b for b in blocks if b.name not in hoisted])   # + hoisted's joint keys
        for t in range(T):
            slots = slot_buffers(layout, (B,), dtype, np.zeros)   # fresh: the tape keeps factors
            slots.update((name, rows[t]) for name, rows in hoisted.items())   # ours: not read again
            for p in stage.delayed:
                src = out[p.source][t - p.delay] if t >= p.delay else before[p.source][t - p.delay]
                contribute(slots, p, src, arrays, scratch)
            for level in stage.levels:
                for block in level:
                    if block.name in carried:
                        value, carried[block.name], record, cache = stateful_step(
                            block, slots[block.name], carried[block.name], arrays)
                        kept[block.name].append(cache)
                        if records is not None:
                            records.setdefault(block.name, []).append(record)
                        out[block.name][t] = value
                    else:
                        value, factors = finish(block, slots[block.name], arrays, (B,), out[block.name][t])
                        if factors is not None:
                            kept[block.name].append(factors)
                    for p in after.get(block.name, ()):
                        contribute(slots, p, out[block.name][t], arrays, scratch)
        values.update(out)
        tape.update(kept)
    return values, tape


def backward(plan: Plan, arrays, x, values, tape, g_values: dict, state=None, want_x: bool = True):
    """(gradients of the fused arrays, gradient of x or None) from the gradients of block values.

    Reads before the first step reach the nodes' ``initial`` values, unless
    the run continued a ``state``: that is data, and takes no gradient.
    ``want_x`` false: nobody differentiates x, so its gradient is not computed.
    """
    T, B = x.shape[:2]
    scratch = {}
    g_arrays = [np.zeros_like(a) for a in arrays]
    G = {name: (np.array(g_values[name], dtype=v.dtype) if name in g_values else np.zeros_like(v))
         for name, v in values.items() if name != INPUT_BLOCK or want_x}
    before = {name: start_rows(plan, arrays, state, name, B, values[name].shape[2], x.dtype)
              for name in plan.lookback}

    def to_initial(name):
        """Whether gradients of reads before the start belong to the block's initial value."""
        return name != INPUT_BLOCK and (state is None or name not in state)

    for stage in reversed(plan.stages):
        if stage.loop:
            g_slots = _loop_backward(stage, arrays, values, tape, G, g_arrays, B, before, to_initial, scratch)
        else:
            g_slots = {b.name: finish_vjp(b, values[b.name], tape[b.name], G[b.name], g_arrays)
                       for b in stage.blocks()}
        for p in stage.hoisted:
            src = values[p.source]
            src_in = shift(src, p.delay, before[p.source]) if p.delay else src
            g_src = None if p.truncate or p.source not in G else np.zeros_like(src_in)
            contribute_vjp(p, src_in, g_slots, arrays, g_arrays, g_src, scratch=scratch)
            if g_src is None:
                continue
            d = min(p.delay, T)
            G[p.source][:T - d] += g_src[d:]
            if d and to_initial(p.source):
                g_arrays[plan.blocks[p.source].initial] += g_src[:d].reshape(-1, g_src.shape[-1]).sum(axis=0)
    return g_arrays, G.get(INPUT_BLOCK)


def _loop_backward(stage, arrays, values, tape, G, g_arrays, B, before, to_initial, scratch):
    blocks = stage.blocks()
    T = len(values[blocks[0].name])
    g_slots = slot_buffers(slot_layout(stage, blocks), (T, B), values[blocks[0].name].dtype, np.empty)
    joint = [key for key in g_slots if isinstance(key, tuple)]
    g_start = {b.name: np.zeros((B, b.width), dtype=values[b.name].dtype) for b in blocks}
    after = dict(stage.instant)
    order = [b for level in reversed(stage.levels) for b in reversed(level)]
    g_carried = {b.name: (None, None) for b in blocks if OPS[b.op].stateful}
    for t in reversed(range(T)):
        here = {key: g_slots[key][t] for key in joint}   # filled by the blocks' finish_vjp below
        for block in order:
            name = block.name
            value = values[name][t]
            for p in after.get(name, ()):
                if not p.truncate:
                    contribute_vjp(p, value, here, arrays, g_arrays, G[name][t], False, scratch)
            if name in g_carried:
                here[name], g_carried[name] = stateful_step_vjp(block, value, tape[name][t], G[name][t],
                                                                 g_carried[name], g_arrays)
                g_slots[name][t] = here[name]
                continue
            factors = tape[name][t] if keeps_slots(block) else None
            here[name] = finish_vjp(block, value, factors, G[name][t], g_arrays, g_slots[name][t])
        for p in stage.delayed:
            if p.truncate:
                continue
            if t >= p.delay:
                src, g_src = values[p.source][t - p.delay], G[p.source][t - p.delay]
            else:
                src, g_src = before[p.source][t - p.delay], g_start[p.source]
            contribute_vjp(p, src, here, arrays, g_arrays, g_src, False, scratch)
    # the weights' gradients: one product over all steps per projection, not one per step
    for _, projections in stage.instant:
        for p in projections:
            contribute_vjp(p, values[p.source], g_slots, arrays, g_arrays, None, scratch=scratch)
    for p in stage.delayed:
        contribute_vjp(p, shift(values[p.source], p.delay, before[p.source]), g_slots, arrays, g_arrays, None,
                       scratch=scratch)
    for block in blocks:
        if to_initial(block.name):
            g_arrays[block.initial] += g_start[block.name].sum(axis=0)
        if block.name in g_carried and g_carried[block.name][0] is not None:
            learned = OPS[block.op].initial_state_vjp(dict(block.options), g_carried[block.name])
            for suffix, index in block.state_arrays:
                g_arrays[index] += learned[suffix]
    return g_slots


# -- node kinds with state (the NTM memory): their own numpy step and its backward pass --------

def initial_state(block: Block, arrays, B: int, dtype) -> tuple:
    learned = {suffix: arrays[index] for suffix, index in block.state_arrays}
    return tuple(np.asarray(a, dtype=dtype) for a in
                 OPS[block.op].initial_state(dict(block.options), learned, B, dtype))


def stateful_step(block: Block, slots, carried, arrays):
    """(value (B, width), new state, record, cache) of a stateful kind's block at one step."""
    raw = slots + arrays[block.bias] if block.bias is not None else slots
    value, carried, record, cache = OPS[block.op].fused_step(dict(block.options), raw, carried)
    return ACTIVATIONS[block.activation].fn(value), carried, record, cache


def stateful_step_vjp(block: Block, value, cache, g_value, g_carried, g_arrays):
    """(gradient of the block's slots (B, P), gradient of the state it started the step with)."""
    g_pre = ACTIVATIONS[block.activation].grad_from_output(value, g_value)
    g_raw, g_before = OPS[block.op].fused_step_vjp(dict(block.options), cache, g_pre, g_carried)
    if block.bias is not None:
        g_arrays[block.bias] += g_raw.sum(axis=0)
    return g_raw, g_before
