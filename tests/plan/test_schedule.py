"""The planner's passes: stages, blocks, fused and hoisted projections."""
import numpy as np

import graphrnn as gr


def unit_level(n: int) -> str:
    names = [f"u{i}" for i in range(1, n + 1)]
    listed = "[" + ", ".join(names) + "]"
    nodes = "\n".join(f"  {u}: {{size: 1, activation: tanh}}" for u in names)
    return f"""graphrnn: 1
inputs: {{x: 3}}
outputs: {{u1: 1}}
nodes:
{nodes}
edges:
  - {{from: x, to: {listed}}}
  - {{from: {listed}, to: {listed}, delay: 1}}
"""


def test_unit_level_nodes_form_one_block_and_one_recurrent_matmul():
    plan = gr.loads(unit_level(12)).plan
    (stage,) = plan.stages
    assert stage.loop
    (level,) = stage.levels
    (block,) = level
    assert block.width == 12 and len(block.members) == 12
    assert len(stage.delayed) == 1 and len(stage.delayed[0].edges) == 144
    assert len(stage.hoisted) == 1 and stage.hoisted[0].source == "input"


def test_per_step_work_does_not_grow_with_units():
    small, large = gr.loads(unit_level(4)).plan, gr.loads(unit_level(20)).plan
    assert str(small).splitlines()[-1] == str(large).splitlines()[-1]


def test_edges_from_one_source_fuse_across_destination_blocks():
    net = gr.loads("""graphrnn: 1
inputs: {x: 2}
outputs: {y: 3}
nodes:
  i: {size: 3, activation: sigmoid}
  g: {size: 3, activation: tanh}
  y: {size: 3, op: product}
edges:
  - {from: x, to: [i, g]}
  - {from: y, to: [i, g], delay: 1}
  - {from: [i, g], to: y, kind: identity}
""")
    (stage,) = net.plan.stages
    assert len(stage.hoisted) == 1 and {t.block for t in stage.hoisted[0].targets} == {"B1", "B2"}
    assert len(stage.delayed) == 1 and len(stage.delayed[0].targets) == 2
    # y is a product of two factors: its slot space is twice its width
    y_block = net.plan.blocks[net.plan.node_block["y"][0]]
    assert y_block.factors == 2 and y_block.slot_width == 6


def test_feedforward_parts_run_outside_the_time_loop():
    plan = gr.load("stacked_elman").plan
    assert [s.loop for s in plan.stages] == [True, True, False]
    readout = plan.stages[2]
    assert readout.hoisted[0].source == plan.node_block["layer2.h"][0]


def test_plan_text_is_independent_of_yaml_order():
    text = unit_level(5)
    lines = text.splitlines()
    start = lines.index("nodes:") + 1
    shuffled = lines[:start] + lines[start:start + 5][::-1] + lines[start + 5:]
    assert str(gr.loads(text).plan) == str(gr.loads("\n".join(shuffled)).plan)


def test_hoisted_delayed_input_edge_reads_zeros_before_the_start():
    net = gr.loads("""graphrnn: 1
inputs: {x: 1}
outputs: {y: 1}
nodes:
  y: {size: 1, bias: false}
edges:
  - {from: x, to: y, delay: 2, weights: [[1.0]]}
""")
    x = np.arange(1.0, 6.0).reshape(5, 1, 1)
    y = net.run(net.init(0), x).y[:, 0, 0]
    assert np.allclose(y, [0, 0, 1, 2, 3])
