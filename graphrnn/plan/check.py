"""The plan's invariants, checked: :func:`check_plan` (the plan's counterpart of JAX's jaxpr checker).

:func:`build_plan` calls it on every plan it makes, so an engine never runs a
plan whose shapes, indexes or schedule contradict each other; code that
rewrites a plan (``dataclasses.replace``) can call it again.  A broken
invariant is a bug in the planner or in the rewrite, never in the spec: it
raises PlanError GR117, whose message prints the offending input, block,
projection or stage (their ``str``, as ``graphrnn show SPEC --plan`` prints
them) and what is wrong with it.

The checks only read the plan's records (no arrays are built): linear in
blocks, members, projections, runs and placements.
"""
from __future__ import annotations

import numpy as np

from ..errors import PlanError
from ..ops import ACTIVATIONS, OPS
from .ir import INPUT_BLOCK, Block, Plan, Projection, Stage

FIX = ("this is a bug in the planner (graphrnn/plan/schedule.py) or in code that rewrote the plan, "
       "not in the spec: report it with the spec that was loaded")

POOLS = ("sum", "mean")


def broken(subject, what: str):
    """Raise GR117 for ``subject`` (a Block, a Projection with its place, a Stage, or a text)."""
    if isinstance(subject, Stage):       # a stage prints on several lines: what is wrong comes first
        raise PlanError("GR117", f"stage {subject.index}: {what}\n{subject}", fix=FIX)
    if isinstance(subject, Block):
        text = f"block `{subject}`"
    elif isinstance(subject, tuple):          # (projection, its stage, role, owner): see projections_of
        projection, stage, role, owner = subject
        text = f"projection `{projection}` (stage {stage.index}, {role}" + (f" after {owner})" if owner else ")")
    else:
        text = str(subject)
    raise PlanError("GR117", f"{text}: {what}", fix=FIX)


def tiles(spans, stop: int) -> bool:
    """Whether the (start, stop) ``spans`` are non-empty and lie side by side, in order, over [0, stop)."""
    at = 0
    for start, end in spans:
        if start != at or end <= start:
            return False
        at = end
    return at == stop


def check_plan(plan: Plan) -> None:
    """Raise PlanError GR117 when ``plan`` breaks one of its invariants; return None when it keeps all.

    Widths are column counts of the (..., width) values the engines compute;
    W[name] is the fused array of that name.  The invariants:

    1. Inputs: ``plan.inputs`` lie side by side over [0, input_width), in order.
    2. Blocks: each is filed under its own name (not ``"input"``); its op and
       activation are registered; width >= 1, factors >= 1.
    3. Members lie side by side over [0, width), in order.
    4. Slot space: a block of a stateful kind has one member, one factor and
       ports lying side by side over [0, slot_width); a block of any other
       kind has no ports (its slot space is factors x width); a block whose
       activation couples a node's units (softmax) has one member.
    0. Fused arrays have distinct names (blocks and projections refer to
       them by name).
    5. Block arrays: ``initial`` names a (width,) fused array; ``bias`` is None
       or a (width,) one ((slot_width,) for a block with ports, whose bias
       spans its ports); ``state_arrays`` are exactly the kind's
       ``state_params`` suffixes, each a fused array of that shape.
    6. Placements: every placement lies inside its fused array (a window of
       rows x cols in a 2-D array, a diagonal window square; cols of a 1-D
       one), and a dense placement's mask has the window's shape.
    7. Stages: stage i is ``plan.stages[i]``; all stages run over the same
       structure (``sequence`` or ``tree``); every block sits in exactly one
       level of one stage and nothing else does, ``block.level`` being the
       index of that level; a stage without a loop has a single level and
       only hoisted projections (it is computed for all positions at once).
    8. Projections name existing blocks: the source is a block or the input
       block, the targets are blocks, each named once, and the weight
       names a fused array.
    9. A matmul projection's weight array is (source width, sum of the
       targets' slot widths) and its targets' column ranges lie side by
       side over [0, cols), in order, each as wide as its block's slot space.
    10. An elementwise projection's weight array is a 1-D scale vector; each
        target spans its block's whole slot space [0, slot_width); every run
        writes a target and every target gets a run; a run of n >= 1 reads
        [src, src + n) (a broadcast run: [src]) inside the source's width,
        writes [dst, dst + n) inside its block's slot space, and its scales
        [scale, scale + n) lie inside the scale vector.
    11. Schedule: a hoisted projection's source is the input or a block of
        an earlier stage; a delayed projection (loop stages only) reads a
        block of its own stage; an instant projection is filed under its
        source, a block of its stage (each block files them once), with a
        delay of 0 and no tree link;
        every projection's targets are blocks of the stage it is in, and an
        instant projection's targets sit at later levels than its source,
        so a block only reads instant projections of blocks at lower levels.
    12. Structure: over sequences no projection has a tree link and a
        delayed projection has delay >= 1; over trees no projection has a
        delay, a delayed projection reads a ``child`` (index >= 1) or the
        ``children`` (pooled by sum or mean), and a ``parent`` link is only
        hoisted (the parent is computed after the node).
    13. Lookback: ``plan.lookback`` is a dict; every projection read d >= 1
        steps back finds lookback[source] >= d; each entry names a block
        or the input and is exactly the largest delay it is read with.
    14. Names: ``node_block`` maps every input and every member of every
        block (and nothing else) to (its block, its Member); every output
        names a node of ``node_block``.
    """
    seen = set()
    for fused in plan.fused:
        if fused.name in seen:
            broken(f"fused array `{fused}`", "shares its name with another fused array")
        seen.add(fused.name)
    check_inputs(plan)
    for name, block in plan.blocks.items():
        check_block(plan, name, block)
    level_of = check_stages(plan)
    for stage in plan.stages:
        for p, role, owner in projections_of(stage):
            check_projection(plan, p, (p, stage, role, owner))
            check_schedule(stage, p, role, owner, level_of)
    check_lookback(plan)
    check_names(plan)


def check_inputs(plan: Plan) -> None:
    if not tiles([(m.start, m.stop) for m in plan.inputs], plan.input_width):
        broken(f"inputs {', '.join(f'{m.node}[{m.start}:{m.stop}]' for m in plan.inputs)}",
               f"do not lie side by side over the input width [0, {plan.input_width})")


def fused_array(plan: Plan, name, subject, role: str):
    found = plan.fused_by_name.get(name) if isinstance(name, str) else None
    if found is None:
        broken(subject, f"its {role} {name!r} names no fused array")
    return found


def fused_shape(plan: Plan, name, subject, role: str) -> tuple:
    return tuple(fused_array(plan, name, subject, role).shape)


def check_block(plan: Plan, name: str, block: Block) -> None:
    if block.name != name or name == INPUT_BLOCK:
        broken(block, f"is filed under the name `{name}`" + (", the input block's" if name == INPUT_BLOCK else ""))
    if block.op not in OPS:
        broken(block, f"its op `{block.op}` is not a registered node kind")
    if block.activation not in ACTIVATIONS:
        broken(block, f"its activation `{block.activation}` is not registered")
    if block.width < 1 or block.factors < 1:
        broken(block, f"width {block.width} and factors {block.factors} must both be >= 1")
    if not tiles([(m.start, m.stop) for m in block.members], block.width):
        broken(block, "its members " + ", ".join(f"{m.node}[{m.start}:{m.stop}]" for m in block.members) +
               f" do not lie side by side over its width [0, {block.width})")
    kind = OPS[block.op]
    if kind.stateful:
        if len(block.members) != 1 or block.factors != 1 or not block.ports:
            broken(block, f"a block of the stateful kind `{block.op}` must be one node with one factor "
                   f"and ports (it has {len(block.members)} node(s), {block.factors} factor(s), "
                   f"{len(block.ports)} port(s))")
        if not tiles([(a, b) for _, a, b in block.ports], block.slot_width):
            broken(block, f"its ports {block.ports} do not lie side by side over its slot space")
    elif block.ports:
        broken(block, f"has ports {block.ports}, but its kind `{block.op}` is not stateful")
    if ACTIVATIONS[block.activation].per_node and len(block.members) != 1:
        broken(block, f"activation `{block.activation}` couples a node's units, so its block must be "
               f"one node, not {len(block.members)}")
    if fused_shape(plan, block.initial, block, "initial") != (block.width,):
        broken(block, f"its initial W[{block.initial}] has shape {fused_shape(plan, block.initial, block, '')}, "
               f"expected ({block.width},)")
    bias_width = block.slot_width if block.ports else block.width
    if block.bias is not None and fused_shape(plan, block.bias, block, "bias") != (bias_width,):
        broken(block, f"its bias W[{block.bias}] has shape {fused_shape(plan, block.bias, block, '')}, "
               f"expected ({bias_width},)")
    expected = {suffix: tuple(shape) for suffix, (shape, _) in kind.state_params(dict(block.options)).items()} \
        if kind.stateful else {}
    got = {suffix: fused_shape(plan, index, block, f"state array `{suffix}`") for suffix, index in block.state_arrays}
    if got != expected or len(got) != len(block.state_arrays):
        broken(block, f"its state arrays have shapes {got}, expected {expected} (the kind's state_params)")


def check_placements(plan: Plan, name: str, subject) -> None:
    fused = fused_array(plan, name, subject, "weight")
    shape = tuple(fused.shape)
    for p in fused.placements:
        c0, c1 = p.cols
        if p.rows:
            r0, r1 = p.rows
            ok = (len(shape) == 2 and 0 <= r0 < r1 <= shape[0] and 0 <= c0 < c1 <= shape[1]
                  and (p.how == "dense" or r1 - r0 == c1 - c0)
                  and (p.mask is None or np.shape(p.mask) == (r1 - r0, c1 - c0)))
        else:
            ok = len(shape) == 1 and 0 <= c0 < c1 <= shape[0]
        if not ok:
            broken(subject, f"W[{name}]'s placement of `{p.param or 'a constant'}` ({p.how}, rows {p.rows}, "
                   f"cols {p.cols}) does not fit inside W[{name}]{list(shape)}")


def check_stages(plan: Plan) -> dict:
    """{block name: (stage index, level index)} after checking invariant 7."""
    level_of = {}
    overs = {stage.over for stage in plan.stages}
    for position, stage in enumerate(plan.stages):
        if stage.index != position:
            broken(stage, f"is at position {position} of plan.stages")
        if len(overs) > 1 or stage.over not in ("sequence", "tree"):
            broken(stage, f"runs over `{stage.over}`, but the plan's stages run over {sorted(overs)}")
        if not stage.loop and (len(stage.levels) != 1 or stage.delayed or stage.instant):
            broken(stage, "is computed all at once (no loop), so it must have one level and only hoisted "
                   f"projections (it has {len(stage.levels)} level(s), {len(stage.delayed)} delayed and "
                   f"{sum(len(ps) for _, ps in stage.instant)} instant projection(s))")
        filed = [name for name, _ in stage.instant]
        if len(set(filed)) != len(filed):
            broken(stage, f"files instant projections under {filed}: a block twice")
        for depth, level in enumerate(stage.levels):
            for block in level:
                if block.name in level_of:
                    broken(stage, f"schedules block `{block}` a second time")
                if plan.blocks.get(block.name) is not block:
                    broken(stage, f"schedules block `{block}`, which is not plan.blocks[{block.name!r}]")
                if block.level != depth:
                    broken(block, f"sits at level {depth} of stage {stage.index} but says level {block.level}")
                level_of[block.name] = (stage.index, depth)
    missing = [name for name in plan.blocks if name not in level_of]
    if missing:
        broken(f"block `{plan.blocks[missing[0]]}`", "is in no stage")
    return level_of


def projections_of(stage: Stage):
    """(projection, role, owner) for every projection of ``stage``: role ``hoisted``, ``delayed``
    or ``instant``; owner the block an instant projection is filed under, else None."""
    for p in stage.hoisted:
        yield p, "hoisted", None
    for p in stage.delayed:
        yield p, "delayed", None
    for name, ps in stage.instant:
        for p in ps:
            yield p, "instant", name


def source_width(plan: Plan, name: str) -> int:
    return plan.input_width if name == INPUT_BLOCK else plan.blocks[name].width


def check_projection(plan: Plan, p: Projection, subject: tuple) -> None:
    if p.source != INPUT_BLOCK and p.source not in plan.blocks:
        broken(subject, f"its source `{p.source}` is neither a block nor the input block")
    names = [t.block for t in p.targets]
    if not names or len(set(names)) != len(names) or any(n not in plan.blocks for n in names):
        broken(subject, f"its targets {names} must be distinct blocks of the plan")
    shape = fused_shape(plan, p.weight, subject, "weight")
    width = source_width(plan, p.source)
    slot = {t.block: plan.blocks[t.block].slot_width for t in p.targets}
    if p.runs is None:
        if shape != (width, sum(slot.values())):
            broken(subject, f"its weight W[{p.weight}] has shape {shape}, expected (source width {width}, "
                   f"sum of the targets' slot widths {sum(slot.values())})")
        for t in p.targets:
            if t.stop - t.start != slot[t.block]:
                broken(subject, f"target {t.block} takes columns [{t.start}, {t.stop}) but its slot space "
                       f"is {slot[t.block]} wide")
        if not tiles([(t.start, t.stop) for t in p.targets], shape[1]):
            broken(subject, f"its targets' columns {[(t.start, t.stop) for t in p.targets]} do not lie side "
                   f"by side over [0, {shape[1]})")
    else:
        if len(shape) != 1:
            broken(subject, f"its scale vector W[{p.weight}] has shape {shape}, expected a vector")
        for t in p.targets:
            if (t.start, t.stop) != (0, slot[t.block]):
                broken(subject, f"target {t.block} spans [{t.start}, {t.stop}), expected its whole slot "
                       f"space [0, {slot[t.block]})")
        if {run.block for run in p.runs} != set(names):
            broken(subject, f"its runs write {sorted({run.block for run in p.runs})}, its targets are {names}")
        for run in p.runs:
            reads = run.src + (1 if run.broadcast else run.n)
            if run.n < 1 or run.src < 0 or reads > width:
                broken(subject, f"run `{run}` reads source columns [{run.src}, {reads}) outside the "
                       f"source's width {width}")
            if run.dst < 0 or run.dst + run.n > slot[run.block]:
                broken(subject, f"run `{run}` writes columns outside {run.block}'s slot space "
                       f"[0, {slot[run.block]})")
            if run.scale is not None and not 0 <= run.scale <= run.scale + run.n <= shape[0]:
                broken(subject, f"run `{run}` takes scales outside W[{p.weight}]'s {shape[0]}")
    check_placements(plan, p.weight, subject)


def check_schedule(stage: Stage, p: Projection, role: str, owner, level_of: dict) -> None:
    subject = (p, stage, role, owner)
    source_stage, source_level = level_of.get(p.source, (-1, -1))
    for t in p.targets:
        if level_of[t.block][0] != stage.index:
            broken(subject, f"target {t.block} is a block of stage {level_of[t.block][0]}, not of "
                   f"stage {stage.index}")
    if role == "hoisted" and source_stage >= stage.index:
        broken(subject, f"is hoisted, but its source {p.source} is computed in stage {source_stage}, "
               "not in an earlier one")
    if role == "delayed" and source_stage != stage.index:
        broken(subject, f"is delayed, so its source {p.source} must be a block of stage {stage.index}, "
               f"not of stage {source_stage}")
    if role == "instant":
        if owner != p.source or source_stage != stage.index:
            broken(subject, f"is instant, so it must be filed under its source {p.source}, a block of "
                   f"stage {stage.index}")
        if p.delay or p.link is not None:
            broken(subject, f"is instant, so it must read its source as it is, not `{p.link or p.delay}` back")
        late = [t.block for t in p.targets if level_of[t.block][1] <= source_level]
        if late:
            broken(subject, f"is instant from level {source_level}, but targets {late} sit at level(s) "
                   f"{sorted({level_of[b][1] for b in late})}, not later ones")
    if stage.over == "sequence":
        if p.link is not None:
            broken(subject, f"reads `{p.link}`, a tree link, in a plan over sequences")
        if role == "delayed" and p.delay < 1:
            broken(subject, "is delayed but reads with delay 0")
        return
    if p.delay:
        broken(subject, f"reads {p.delay} step(s) back in a plan over trees")
    link = p.link
    if role == "delayed" and (link is None or link.kind == "parent"):
        broken(subject, f"is delayed over trees, so it must read a child or the children, not `{link}`")
    if link is not None and (link.kind not in ("child", "children", "parent")
                             or (link.kind == "child" and link.index < 1)
                             or (link.kind == "children" and link.pool not in POOLS)):
        broken(subject, f"reads `{link}`: no such tree link")


def check_lookback(plan: Plan) -> None:
    if not isinstance(plan.lookback, dict):
        broken("plan.lookback", f"is {plan.lookback!r}, not a dict")
    deepest = {}
    for stage in plan.stages:
        for p, role, owner in projections_of(stage):
            if p.delay:
                if plan.lookback.get(p.source, 0) < p.delay:
                    broken((p, stage, role, owner), f"reads {p.source} {p.delay} step(s) back, but plan.lookback keeps "
                           f"{plan.lookback.get(p.source, 0)} step(s) of it")
                deepest[p.source] = max(deepest.get(p.source, 0), p.delay)
    if plan.lookback != deepest:
        extra = {k: v for k, v in plan.lookback.items() if deepest.get(k) != v}
        broken(f"plan.lookback {plan.lookback}", f"entries {extra} are not the deepest delayed reads {deepest}")


def check_names(plan: Plan) -> None:
    expected = {m.node: (INPUT_BLOCK, m) for m in plan.inputs}
    for block in plan.blocks.values():
        expected.update((m.node, (block.name, m)) for m in block.members)
    if plan.node_block != expected:
        node = next(n for n in sorted({*plan.node_block, *expected}) if plan.node_block.get(n) != expected.get(n))
        broken(f"node_block[{node!r}] = {plan.node_block.get(node, 'missing')}",
               f"expected {expected.get(node, 'no entry')} (the block whose members list the node)")
    for output, node in plan.outputs.items():
        if node not in plan.node_block:
            broken(f"output `{output}`", f"names `{node}`, which is no node of the plan")
