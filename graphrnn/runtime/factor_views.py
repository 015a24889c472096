"""Which factors of a plan's blocks can be read where they lie instead of copied into slots.

A block's factor (its slot columns [k * width, (k + 1) * width)) that only plain runs fill --
identity edges that pass another block's values along, each covering the whole factor -- needs no
slots of its own: the generated numpy kernels (generated_numpy.py) read the source's columns in
place, and add them when several runs sum into one factor of a combiner that adds.
"""
from __future__ import annotations

from ..ops import OPS
from ..plan.ir import Plan


def factor_views(plan: Plan) -> dict:
    """(block, factor k) -> [(projection, run), ...] where factor k of a loop-stage block is the sum of
    plain runs' source columns (each covering the whole factor, no scale, no broadcast, nothing else
    writing those slots; one run for a product): such a factor is read where it lies instead of
    being copied into the block's slots (an identity edge that only passes values between blocks
    costs nothing, and a sum of them is one add)."""
    writers: dict = {}    # (block, k) -> [(projection, run)], None when a matmul or a hoisted run writes
    for stage in plan.stages:
        inside = list(stage.delayed) + [p for _, ps in stage.instant for p in ps]
        for p, hoisted in [(p, True) for p in stage.hoisted] + [(p, False) for p in inside]:
            for target in p.targets:
                block = plan.blocks[target.block]
                ks = range(block.factors)
                if p.runs is None or hoisted or not stage.loop:
                    writers.update(((block.name, k), None) for k in ks)
            for run in p.runs or ():
                w = plan.blocks[run.block].width
                for k in range(run.dst // w, (run.dst + run.n - 1) // w + 1):
                    if writers.get((run.block, k), []) is not None:
                        writers.setdefault((run.block, k), []).append((p, run))
    views = {}
    for (name, k), found in writers.items():
        block = plan.blocks[name]
        w = block.width
        if found is None or OPS[block.op].stateful or (len(found) > 1 and OPS[block.op].kernel == "multiply"):
            continue   # (a stateful kind's step takes its slots whole)
        if all(run.scale is None and not run.broadcast and run.dst == k * w and run.n == w for _, run in found):
            views[name, k] = found
    return views
