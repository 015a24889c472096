"""The Engine interface (runtime/engine.py): every registered engine honours it, the default is
chosen in one place, and the networks refuse data of the other structure."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.runtime import ENGINES, Engine, Network, TreeNetwork, engine_for
from graphrnn.runtime.assemble import assemble
from graphrnn.trees import TreeBatch, Vocabulary

TREES = ["(a (b c) a)", "(b a)", "c", "(a (a (b c b) c))"]


def network(over: str, engine: str):
    """A library network over ``over`` on ``engine``, float64."""
    return gr.load("recursive" if over == "tree" else "lstm_2layer", engine=engine)


def data_for(net, rng):
    """(data the engine runs over, its input array): x (T, B, I), or a TreeBatch and its x (N, I)."""
    if isinstance(net, TreeNetwork):
        batch = TreeBatch.of(TREES, Vocabulary(["a", "b", "c"] + [f"t{i}" for i in range(net.input_size - 3)]))
        return batch, batch.x
    x = rng.normal(size=(4, 3, net.input_size))
    return x, x


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_registered_engine_satisfies_the_interface(name):
    engine = ENGINES[name]()
    assert isinstance(engine, Engine) and engine.name == name and not inspect.isabstract(ENGINES[name])
    assert engine.over in ("sequence", "tree") and engine.backward
    net = network(engine.over, name)
    assert net.engine.name == name
    rng = np.random.default_rng(0)
    data, x = data_for(net, rng)
    arrays = assemble(net.init(1), net.assembler)
    records = {}
    values = engine.run(net.plan, arrays, data, np.float64, None, records)
    for block in net.plan.blocks:   # values[block] (the fused engine takes each out of its run when asked)
        assert np.shape(values[block])[-1] == net.plan.blocks[block].width
    # the vjp is the reverse of the run: <g, J dv> = <vjp(g), dv> along a random direction of the inputs
    g_values = {name: rng.normal(size=np.shape(values[name])) for name in net.plan.blocks}
    g_arrays, g_x = engine.vjp(net.plan, arrays, data, g_values)
    assert [np.shape(a) for a in g_arrays] == [np.shape(a) for a in arrays] and np.shape(g_x) == np.shape(x)
    direction, eps = rng.normal(size=np.shape(x)), 1e-6

    def inner(step):
        moved = engine.with_inputs(data, x + step * direction)
        out = engine.run(net.plan, arrays, moved, np.float64)
        return sum(np.sum(out[n] * g) for n, g in g_values.items())
    numeric = (inner(eps) - inner(-eps)) / (2 * eps)
    assert abs(numeric - np.sum(g_x * direction)) <= 1e-6 * max(1.0, abs(numeric))


def test_fused_and_autograd_engines_agree_through_the_interface():
    net = network("sequence", "fused")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 2, net.input_size))
    arrays = assemble(net.init(2), net.assembler)
    fused, reference = ENGINES["fused"](), ENGINES["autograd"]()
    a, b = fused.run(net.plan, arrays, x), reference.run(net.plan, arrays, x)
    for name in net.plan.blocks:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-12, err_msg=name)
    g_values = {name: rng.normal(size=np.shape(a[name])) for name in net.plan.blocks}
    (ga, gxa), (gb, gxb) = fused.vjp(net.plan, arrays, x, g_values), reference.vjp(net.plan, arrays, x, g_values)
    for k, (u, v) in enumerate(zip(ga, gb)):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12, err_msg=f"array {k}")
    np.testing.assert_allclose(gxa, gxb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("engine", ["fused_tree", "autograd_tree"])
def test_the_tree_engines_take_their_batching_as_an_option(engine):
    net = network("tree", engine)
    batch, _ = data_for(net, None)
    arrays = assemble(net.init(0), net.assembler)
    rng = np.random.default_rng(0)
    level = net.engine.run(net.plan, arrays, batch, batching="level")
    g_values = {name: rng.normal(size=np.shape(level[name])) for name in net.plan.blocks}
    by_level = net.engine.vjp(net.plan, arrays, batch, g_values, batching="level")
    by_node = net.engine.vjp(net.plan, arrays, batch, g_values, batching="node")
    for u, v in zip(by_level[0] + [by_level[1]], by_node[0] + [by_node[1]]):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    with pytest.raises(gr.RunError) as info:
        net.engine.run(net.plan, arrays, batch, batching="levels")
    assert info.value.code == "GR200" and "did you mean `level`?" in info.value.message


def test_the_default_engine_is_chosen_in_one_place_and_reported_truthfully():
    assert gr.load("elman").engine.name == "fused"
    assert gr.load("recursive").engine.name == "fused_tree"
    assert gr.load("ntm_copy").engine.name == "fused"
    net = gr.load("elman")
    assert engine_for(net.ir).name == "fused" and engine_for(net.ir, "autograd").name == "autograd"
    with pytest.raises(gr.RunError) as info:
        gr.load("elman", engine="jax")
    assert info.value.code == "GR200"
    with pytest.raises(gr.RunError) as info:
        gr.load("elman", engine="fsued")
    assert "did you mean `fused`?" in info.value.message


@pytest.mark.parametrize("spec, engine", [("recursive", "fused"), ("recursive", "autograd"), ("elman", "fused_tree"),
                                          ("elman", "autograd_tree")])
def test_an_engine_for_the_other_structure_is_gr124(spec, engine):
    with pytest.raises(gr.PlanError) as info:
        gr.load(spec, engine=engine)
    assert info.value.code == "GR124" and f"`{engine}` engine" in info.value.message


def test_networks_are_siblings_and_refuse_the_other_structure():
    seq, tree = gr.load("elman"), gr.load("recursive")
    assert not isinstance(tree, Network) and not isinstance(seq, TreeNetwork)
    with pytest.raises(gr.PlanError) as info:
        Network(tree.ir, tree.plan)
    assert info.value.code == "GR124"
    with pytest.raises(gr.PlanError) as info:
        TreeNetwork(seq.ir, seq.plan)
    assert info.value.code == "GR124"
    with pytest.raises(gr.PlanError) as info:
        Network(seq.ir, seq.plan, ENGINES["fused_tree"]())
    assert info.value.code == "GR124"


def test_a_treebatch_to_a_network_and_an_array_to_a_tree_network_are_gr200():
    seq, tree = gr.load("elman"), gr.load("recursive")
    batch = TreeBatch.of(["(a b)"], Vocabulary(["a", "b"] + [f"t{i}" for i in range(seq.input_size - 2)]))
    with pytest.raises(gr.RunError) as info:
        seq.run(seq.init(0), batch)
    assert info.value.code == "GR200" and "TreeBatch" in info.value.message
    with pytest.raises(gr.RunError) as info:
        tree.run(tree.init(0), np.zeros((3, 1, tree.input_size)))
    assert info.value.code == "GR200" and "runs over trees" in info.value.message


def test_both_sequence_engines_keep_the_same_records():
    net = gr.load("ntm_copy")
    x = np.random.default_rng(0).uniform(size=(5, 2, net.input_size))
    arrays = assemble(net.init(0), net.assembler)
    kept = {}
    for name in ("fused", "autograd"):
        kept[name] = {}
        ENGINES[name]().run(net.plan, arrays, x, np.float64, None, kept[name])
    assert kept["fused"] and kept["fused"].keys() == kept["autograd"].keys()
    for block, steps in kept["autograd"].items():
        assert len(steps) == 5
        for step_f, step_a in zip(kept["fused"][block], steps):
            for key in step_a:
                np.testing.assert_allclose(step_f[key], step_a[key], rtol=1e-10, atol=1e-13)
