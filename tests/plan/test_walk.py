"""plan/walk.py: the one order every engine walks a plan in.

Oracle: the dependencies written in the plan itself.  A recording engine
walks every library network's plan forward and backward; forward, every
value is produced before anything reads it (at the same position, or at
an earlier one through a delay); backward is the forward order reversed,
without the reads through truncated edges.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import graphrnn as gr
from graphrnn.plan.walk import FINISH, READ, THEN, PlanOps, step_program, step_program_back, walk_backward, \
    walk_forward

ROOT = Path(__file__).resolve().parents[2]
NETWORKS = [p.stem for p in sorted((ROOT / "specs").glob("*.yaml"))
            if "module" not in yaml.safe_load(p.read_text(encoding="utf-8"))]
POSITIONS = (0, 1, 2)


class Recorder(PlanOps):
    """Records (operation, stage index, position or None, name) for every call of the walk."""

    def __init__(self):
        self.events = []

    def positions(self, stage):
        return POSITIONS

    def _record(what):
        def record(self, *args):
            stage = args[0].index if hasattr(args[0], "levels") else None
            item, at = (args[1], None) if stage is not None else args
            self.events.append((what, getattr(item, "name", None) or _label(item), at))
        return record

    hoist = _record("hoist")
    finish_all = _record("finish_all")
    read = _record(READ)
    finish = _record(FINISH)
    then = _record(THEN)
    hoist_back = _record("hoist")
    finish_all_back = _record("finish_all")
    read_back = _record(READ)
    finish_back = _record(FINISH)
    then_back = _record(THEN)


def _label(p):
    return f"{p.source}@{p.delay}->" + ",".join(t.block for t in p.targets) + ("|T" if p.truncate else "")


@pytest.mark.parametrize("name", NETWORKS)
def test_forward_walk_produces_every_value_before_it_is_read(name):
    plan = gr.load(name).plan
    walk = Recorder()
    walk_forward(plan, walk)
    done = {("input", at) for at in POSITIONS} | {("input", None)}
    for stage in plan.stages:
        for p in stage.hoisted:          # hoisted projections read whole sequences of earlier stages
            assert (p.source, None) in done or all((p.source, at) in done for at in POSITIONS), (name, str(p))
        if not stage.loop:
            done |= {(b.name, None) for b in stage.blocks()}
            continue
        program = step_program(stage)
        for at in POSITIONS:
            for i in program:
                if i.what == FINISH:
                    done.add((i.item.name, at))
                elif i.what == THEN:
                    assert (i.item.source, at) in done, (name, str(i.item))
                else:   # a delayed read (or a tree link: children sit in earlier groups): an earlier
                    back = 1 if i.item.link is not None else i.item.delay   # position, or the initial value
                    assert back >= 1 and (at - back < 0 or (i.item.source, at - back) in done), (name, str(i.item))
        done |= {(b.name, None) for b in stage.blocks()}
    assert sum(1 for e in walk.events if e[0] == FINISH) == len(POSITIONS) * sum(
        len(s.blocks()) for s in plan.stages if s.loop)


@pytest.mark.parametrize("name", NETWORKS)
def test_backward_walk_is_the_forward_walk_reversed_without_truncated_reads(name):
    plan = gr.load(name).plan
    forward, backward = Recorder(), Recorder()
    walk_forward(plan, forward)
    walk_backward(plan, backward)
    truncated = {_label(p) for s in plan.stages for p in (*s.delayed, *(q for _, ps in s.instant for q in ps))
                 if p.truncate}
    expected = [e for e in reversed(forward.events) if not (e[0] in (READ, THEN) and e[1] in truncated)]
    assert backward.events == expected


def test_step_program_back_drops_only_truncated_projections():
    plan = gr.load("lstm1997_adding").plan
    stage = next(s for s in plan.stages if s.loop)
    forward, back = step_program(stage), step_program_back(stage)
    assert [i for i in reversed(forward) if i.what == FINISH or not i.item.truncate] == list(back)
    assert any(i.what == READ and i.item.truncate for i in forward)   # the 1997 net does truncate
