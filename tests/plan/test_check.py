"""check_plan: every real plan keeps the invariants; a copy broken in one place raises GR117 naming it.

Each case of ``CASES`` corrupts a real plan with ``dataclasses.replace`` in one
place and returns (broken plan, the offending record's text, what the message
says is wrong); the numbers are those of check_plan's docstring.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
import yaml

import graphrnn as gr
from graphrnn.graph.ir import Link
from graphrnn.plan import check_plan, schedule
from graphrnn.plan.ir import Member, Target
from graphrnn.testing import load_plugin

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILES = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "examples").rglob("*.yaml"))


def kind_of(path: Path) -> str:
    """``network``, ``module``, ``hierarchy`` (whose levels are network files of their own here) or ``sweep``."""
    keys = set(yaml.safe_load(path.read_text(encoding="utf-8")))
    for kind in ("module", "hierarchy", "sweep"):
        if kind in keys:
            return kind
    return "network"


def module_user(name: str, over: str) -> str:
    """A network that uses the library module ``name`` once: input -> module -> y."""
    return (f"graphrnn: 1\nname: uses_{name}\nover: {over}\ninputs: {{x: 3}}\noutputs: {{y: 2}}\nnodes:\n"
            f"  cell: {{use: {name}}}\n  y: {{size: 2}}\nedges:\n  - {{from: x, to: cell}}\n"
            "  - {from: cell, to: y}\n")


@pytest.mark.parametrize("path", [p for p in SPEC_FILES if kind_of(p) in ("network", "module")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_keeps_the_invariants(path, registry):
    if path.parent.name == "custom_kind":
        load_plugin(path.parent / "kind.py")
    if kind_of(path) == "module":
        name = yaml.safe_load(path.read_text(encoding="utf-8"))["module"]
        net = gr.loads(module_user(name, "tree" if name.startswith("tree") else "sequence"))
    else:
        net = gr.load(path)
    assert check_plan(net.plan) is None


def test_build_plan_checks_the_plan_it_makes(monkeypatch):
    seen = []
    monkeypatch.setattr(schedule, "check_plan", seen.append)
    net = gr.load("elman")
    assert seen == [net.plan]


# -- corrupting real plans ------------------------------------------------------------------------

@cache
def plan_of(name: str):
    return gr.load(name).plan


def projections(plan, role: str):
    """(stage, projection) for each projection of ``role`` (hoisted, delayed, instant)."""
    for stage in plan.stages:
        ps = [p for _, group in stage.instant for p in group] if role == "instant" else getattr(stage, role)
        yield from ((stage, p) for p in ps)


def find(plan, role: str, text: str):
    """The projection of ``role`` whose text starts with ``text``."""
    return next(p for _, p in projections(plan, role) if str(p).startswith(text))


def swap_projection(plan, old, new):
    def swap(ps):
        return tuple(new if p is old else p for p in ps)
    return replace(plan, stages=tuple(replace(s, hoisted=swap(s.hoisted), delayed=swap(s.delayed),
                                              instant=tuple((b, swap(ps)) for b, ps in s.instant))
                                      for s in plan.stages))


def swap_block(plan, old, new):
    stages = tuple(replace(s, levels=tuple(tuple(new if b is old else b for b in level) for level in s.levels))
                   for s in plan.stages)
    return replace(plan, blocks={k: (new if b is old else b) for k, b in plan.blocks.items()}, stages=stages)


def swap_fused(plan, which: str, /, **changes):
    return replace(plan, fused=tuple(replace(f, **changes) if f.name == which else f for f in plan.fused))


def changed_block(spec: str, key: str, /, **changes):
    plan = plan_of(spec)
    new = replace(plan.blocks[key], **changes)
    return swap_block(plan, plan.blocks[key], new), str(new)


def changed_projection(spec: str, role: str, text: str, **changes):
    plan = plan_of(spec)
    old = find(plan, role, text)
    new = replace(old, **changes)
    return swap_projection(plan, old, new), str(new)


def changed_run(spec: str, role: str, text: str, **changes):
    old = find(plan_of(spec), role, text)
    return changed_projection(spec, role, text, runs=(replace(old.runs[0], **changes),) + old.runs[1:])


def changed_stage(spec: str, position: int, /, **changes):
    plan = plan_of(spec)
    stages = list(plan.stages)
    stages[position] = replace(stages[position], **changes)
    return replace(plan, stages=tuple(stages)), str(stages[position])


def moved(spec: str, text: str, role: str, to_stage: int, to_role: str):
    """The plan with projection ``text`` moved from ``role`` to ``to_role`` of stage ``to_stage``."""
    plan = plan_of(spec)
    p = find(plan, role, text)
    stages = []
    for s in plan.stages:
        s = replace(s, **{role: tuple(q for q in getattr(s, role) if q is not p)})
        if s.index == to_stage:
            s = replace(s, **{to_role: getattr(s, to_role) + (p,)})
        stages.append(s)
    return replace(plan, stages=tuple(stages)), str(p)


def relevelled(spec: str, stage_index: int, order: list):
    """Stage ``stage_index``'s levels put in ``order`` (indexes of the old levels), blocks relabelled."""
    plan = plan_of(spec)
    stage = plan.stages[stage_index]
    levels = tuple(tuple(replace(b, level=depth) for b in stage.levels[old]) for depth, old in enumerate(order))
    blocks = dict(plan.blocks)
    blocks.update((b.name, b) for level in levels for b in level)
    stages = list(plan.stages)
    stages[stage_index] = replace(stage, levels=levels)
    return replace(plan, blocks=blocks, stages=tuple(stages))


def fused_case(spec: str, index_of, **changes):
    """(plan with fused array ``index_of(plan)`` changed, the plan) for cases that then name their offender."""
    plan = plan_of(spec)
    return swap_fused(plan, index_of(plan), **changes), plan


def initial_shape():
    bad, plan = fused_case("elman", lambda p: p.blocks["B1"].initial, shape=(17,))
    return bad, str(plan.blocks["B1"]), "initial W[B1.initial] has shape (17,), expected (16,)"


def placement_outside():
    plan = plan_of("elman")
    p = find(plan, "hoisted", "input @")
    fused = plan.fused_by_name[p.weight]
    bad = swap_fused(plan, p.weight, placements=(replace(fused.placements[0], cols=(0, 17)),))
    return bad, str(p), "placement of `x->h` (dense, rows (0, 4), cols (0, 17)) does not fit"


def matmul_shape():
    plan = plan_of("elman")
    p = find(plan, "delayed", "B1@1")
    return swap_fused(plan, p.weight, shape=(16, 17)), str(p), "has shape (16, 17), expected (source width 16"


def scale_matrix():
    plan = plan_of("lstm1997_adding")
    p = find(plan, "delayed", "B4@1 elementwise")
    return swap_fused(plan, p.weight, shape=(4, 1)), str(p), "expected a vector"


def softmax_of_two():
    plan = plan_of("gru_stack")
    y = plan.blocks["B15"]
    new = replace(y, members=y.members + (Member("extra", 5, 6),), width=6)
    return swap_block(plan, y, new), str(new), "couples a node's units"


def unscheduled_block():
    plan = plan_of("elman")
    extra = replace(plan.blocks["B2"], name="B9")
    return replace(plan, blocks={**plan.blocks, "B9": extra}), str(extra), "is in no stage"


def scheduled_twice():
    plan = plan_of("elman")
    return changed_stage("elman", 1, levels=((plan.blocks["B2"], plan.blocks["B1"]),)) + ("schedules block `B1 = sum/tanh[16] (h)` a second time",)


def instant_filed_twice():
    plan = plan_of("lstm1997_adding")
    instant = plan.stages[0].instant
    return changed_stage("lstm1997_adding", 0, instant=instant + instant[:1]) + ("a block twice",)


def instant_misfiled():
    plan = plan_of("lstm1997_adding")
    (first, ps), rest = plan.stages[0].instant[0], plan.stages[0].instant[1:]
    bad, _ = changed_stage("lstm1997_adding", 0, instant=((first, ()),) + rest[:-1] + ((rest[-1][0], ps),))
    return bad, str(ps[0]), "must be filed under its source B1, a block of stage 0"


def instant_not_later():
    bad = relevelled("lstm1997_adding", 0, [0, 2, 1, 3, 4])   # B4 (level 2) before B3 (level 1)
    p = find(bad, "instant", "B3 elementwise -> B4")
    return bad, str(p), "is instant from level 2, but targets ['B4'] sit at level(s) [1]"


def level_mislabelled():
    return changed_block("elman", "B2", level=1) + ("sits at level 0 of stage 1 but says level 1",)


def node_block_wrong():
    plan = plan_of("elman")
    return (replace(plan, node_block={**plan.node_block, "h": ("B2", plan.node_block["h"][1])}),
            "node_block['h'] = ('B2', Member(node='h', start=0, stop=16))",
            "expected ('B1', Member(node='h', start=0, stop=16))")


def output_unknown():
    return replace(plan_of("elman"), outputs={"y": "nope"}), "output `y`", "names `nope`"


def lookback_case(lookback, offender_of, what):
    def case():
        plan = plan_of("elman")
        return replace(plan, lookback=lookback), offender_of(plan), what
    return case


CASES = {
    "1 inputs leave a gap": lambda: (replace(plan_of("elman"), inputs=(replace(plan_of("elman").inputs[0], start=1),)),
                                     "inputs x[1:4]", "do not lie side by side over the input width [0, 4)"),
    "2 block filed under another name": lambda: changed_block("elman", "B1", name="B7") + ("filed under the name `B1`",),
    "2 unregistered op": lambda: changed_block("elman", "B1", op="nope") + ("its op `nope` is not a registered node kind",),
    "3 members leave a gap": lambda: changed_block(
        "elman", "B1", members=(replace(plan_of("elman").blocks["B1"].members[0], stop=15),)) + ("members h[0:15]",),
    "4 stateful block without ports": lambda: changed_block("ntm_copy", "B7", ports=()) + ("stateful kind `memory`",),
    "4 ports on a plain block": lambda: changed_block("elman", "B1", ports=(("p", 0, 16),)) + ("is not stateful",),
    "4 softmax block of two nodes": softmax_of_two,
    "0 two fused arrays of one name": lambda: (
        swap_fused(plan_of("elman"), "B1.bias", name="B1.initial"), "B1.initial[16]", "shares its name"),
    "5 initial of the wrong shape": initial_shape,
    "5 bias names no array": lambda: changed_block("elman", "B1", bias="B9.bias") + (
        "bias 'B9.bias' names no fused array",),
    "5 state arrays the kind does not declare": lambda: changed_block(
        "ntm_copy", "B7", state_arrays=(("memory_initial", "B7.bias"),)) + ("state arrays have shapes",),
    "6 placement outside its array": placement_outside,
    "7 stage at the wrong position": lambda: changed_stage("elman", 1, index=4) + ("is at position 1",),
    "7 block in two levels": scheduled_twice,
    "7 block in no stage": unscheduled_block,
    "7 level mislabelled": level_mislabelled,
    "7 delayed projection in a stage without a loop": lambda: changed_stage(
        "elman", 1, delayed=plan_of("elman").stages[0].delayed) + ("only hoisted",),
    "8 unknown source": lambda: changed_projection("elman", "delayed", "B1@1", source="B9") + ("neither a block",),
    "8 unknown target": lambda: changed_projection(
        "elman", "delayed", "B1@1", targets=(Target("B9", 0, 16),)) + ("must be distinct blocks",),
    "8 weight index out of range": lambda: changed_projection(
        "elman", "delayed", "B1@1", weight="B1->B9") + ("weight 'B1->B9' names no fused array",),
    "9 weight of the wrong shape": matmul_shape,
    "9 target narrower than its slot space": lambda: changed_projection(
        "elman", "hoisted", "input @", targets=(Target("B1", 0, 15),)) + ("takes columns [0, 15)",),
    "9 targets overlap": lambda: changed_projection(
        "lstm1997_adding", "hoisted", "input @", targets=(Target("B1", 0, 4), Target("B2", 0, 4))) +
        ("do not lie side by side over [0, 8)",),
    "10 scale vector is a matrix": scale_matrix,
    "10 target not its whole slot space": lambda: changed_projection(
        "lstm1997_adding", "delayed", "B4@1 elementwise", targets=(Target("B4", 0, 3),)) +
        ("expected its whole slot space [0, 4)",),
    "10 run writes no target": lambda: changed_run(
        "lstm1997_adding", "delayed", "B4@1 elementwise", block="B5") + ("its runs write ['B5']",),
    "10 run reads outside the source": lambda: changed_run(
        "lstm1997_adding", "delayed", "B4@1 elementwise", src=1) + ("reads source columns [1, 5)",),
    "10 run writes outside the slot space": lambda: changed_run(
        "lstm1997_adding", "delayed", "B4@1 elementwise", dst=1) + ("writes columns outside B4's slot space",),
    "10 run's scales outside the scale vector": lambda: changed_run(
        "lstm1997_adding", "delayed", "B4@1 elementwise", scale=1) + ("takes scales outside W[B4@1->B4/elementwise]'s 4",),
    "11 hoisted from its own stage": lambda: moved("elman", "B1@1", "delayed", 0, "hoisted") +
        ("is hoisted, but its source B1 is computed in stage 0",),
    "11 delayed from an earlier stage": lambda: moved("elman", "input @", "hoisted", 0, "delayed") +
        ("is delayed, so its source input must be a block of stage 0",),
    "11 target in another stage": lambda: moved("elman", "B1 @", "hoisted", 0, "hoisted") +
        ("target B2 is a block of stage 1, not of stage 0",),
    "11 instant projections filed twice": instant_filed_twice,
    "11 instant projection filed under another block": instant_misfiled,
    "11 instant projection into an earlier level": instant_not_later,
    "12 tree link over sequences": lambda: changed_projection(
        "elman", "delayed", "B1@1", link=Link("child", 1)) + ("reads `child1`, a tree link, in a plan over sequences",),
    "12 delayed read with delay 0": lambda: changed_projection(
        "elman", "delayed", "B1@1", delay=0) + ("is delayed but reads with delay 0",),
    "12 delay over trees": lambda: changed_projection(
        "tree_lstm_classifier", "delayed", "B6@children", delay=1) + ("1 step(s) back in a plan over trees",),
    "12 parent read inside the loop": lambda: changed_projection(
        "tree_lstm_classifier", "delayed", "B6@children", link=Link("parent")) + ("not `parent`",),
    "12 child 0": lambda: changed_projection(
        "tree_lstm_classifier", "hoisted", "input@parent", link=Link("child", 0)) + ("no such tree link",),
    "12 instant projection with a link": lambda: changed_projection(
        "tree_lstm_classifier", "instant", "B6 @", link=Link("child", 1)) + ("must read its source as it is, not `child1` back",),
    "13 delayed read deeper than the lookback": lookback_case(
        {}, lambda plan: str(find(plan, "delayed", "B1@1")), "plan.lookback keeps 0 step(s) of it"),
    "13 lookback deeper than any read": lookback_case(
        {"B1": 2}, lambda plan: "plan.lookback {'B1': 2}", "are not the deepest delayed reads {'B1': 1}"),
    "13 lookback not a dict": lookback_case(None, lambda plan: "plan.lookback", "is None, not a dict"),
    "14 node_block entry in the wrong block": node_block_wrong,
    "14 output names no node": output_unknown,
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_invariant_names_the_offender(case):
    plan, offender, what = CASES[case]()
    with pytest.raises(gr.PlanError) as info:
        check_plan(plan)
    err = info.value
    assert err.code == "GR117" and err.fix, str(err)
    assert offender in err.message, str(err)
    assert what in err.message, str(err)


def test_every_invariant_has_a_case():
    """Each numbered invariant of check_plan's docstring is broken by some case above."""
    numbers = {int(m.group(1)) for m in re.finditer(r"^ {4}(\d+)\. ", check_plan.__doc__, re.MULTILINE)}
    assert numbers == {int(case.split()[0]) for case in CASES}
