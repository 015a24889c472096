"""The fused tree engine (runtime/fused_tree.py) against the autograd tree engine, its reference.

Oracles: values and gradients (of the parameter arrays and of the inputs)
equal to the autograd_tree engine's to 1e-10, on every tree spec shipped
and on hypothesis-drawn tree networks and trees, with losses at the roots
and at every node, level by level and node by node; central differences on
a tiny case.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
import yaml
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.runtime import ENGINES, TreeNetwork
from graphrnn.runtime.assemble import assemble
from graphrnn.testing.strategies import sane_params, specs, trees
from graphrnn.trees import TreeBatch, Vocabulary

ROOT = Path(__file__).resolve().parents[2]
BOOLEAN = Vocabulary(["T", "F", "and", "or", "xor"])
EXPRESSIONS = ["(and T (or F (xor T T)))", "F", "(xor (and T F) (or (and F F) T))", "(or T F)",
               "(and (or (xor F T) (and T T)) F)"]

# the tree_lstm module (specs/tree_lstm.yaml) in a network of its own: children of any number,
# a `parent:` read into its forget port, the module's output read at every node
TREE_LSTM = """
graphrnn: 1
name: tree_lstm_net
over: tree
inputs: {x: 5}
outputs: {y: 3}
nodes:
  cell: {use: tree_lstm, size: 3}
  y: {size: 3, bias: false}
edges:
  - {from: x, to: cell.in}
  - {from: x, to: cell.forget, parent: true}
  - {from: cell, to: y, kind: identity}
"""

# what the shipped specs leave out: truncated links, a learned initial value read by leaves,
# pooled means, diagonal and scalar links, parent reads into and after a loop, two loop stages
SINK = """
graphrnn: 1
name: sink
over: tree
inputs: {x: 2}
outputs: {y: 2}
nodes:
  e: {size: 2, activation: tanh}
  h: {size: 2, activation: tanh, initial: learned}
  g: {size: 2, activation: sigmoid}
  m: {size: 2, op: product}
  s: {size: 2, activation: tanh, initial: learned}
  y: {size: 2, activation: softmax}
edges:
  - {from: x, to: e}
  - {from: x, to: e, child: 1}
  - {from: e, to: h}
  - {from: h, to: h, child: 1}
  - {from: h, to: h, child: 2, kind: diagonal, truncate: true}
  - {from: s, to: g, children: sum}
  - {from: e, to: g}
  - {from: [g, h], to: m, kind: identity}
  - {from: m, to: s, kind: identity}
  - {from: s, to: s, children: mean, kind: scalar}
  - {from: h, to: y}
  - {from: s, to: y, children: mean, truncate: true}
  - {from: x, to: g, parent: true}
  - {from: e, to: y, parent: true}
"""

SHIPPED = ["tree_lstm_classifier", "recursive", str(ROOT / "examples" / "trees" / "boolean.yaml")]


def load(source: str) -> TreeNetwork:
    return gr.loads(source, "net.yaml") if "\n" in source else gr.load(source)


def on(net: TreeNetwork, engine: str) -> TreeNetwork:
    """The same compiled network on another engine."""
    return TreeNetwork(net.ir, net.plan, ENGINES[engine]())


def random_inputs(batch: TreeBatch, seed: int) -> TreeBatch:
    """The batch with real-valued inputs (N, I) instead of one-hot rows: every input weight counts."""
    return replace(batch, x=np.random.default_rng(seed).normal(size=batch.x.shape))


def assert_engines_agree(net: TreeNetwork, batch: TreeBatch, seed: int, batchings=("level",)) -> None:
    """fused_tree equals autograd_tree (level by level) through the Engine interface: every block's
    values, and the VJP (arrays and inputs) of random cotangents on every block."""
    rng = np.random.default_rng(seed)
    arrays = assemble(sane_params(net, seed), net.assembler)
    fused, reference = ENGINES["fused_tree"](), ENGINES["autograd_tree"]()
    want = reference.run(net.plan, arrays, batch)
    g_values = {name: rng.normal(size=np.shape(want[name])) for name in net.plan.blocks}
    g_arrays_want, g_x_want = reference.vjp(net.plan, arrays, batch, g_values)
    for batching in batchings:
        got = fused.run(net.plan, arrays, batch, batching=batching)
        for name in net.plan.blocks:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-10, err_msg=name)
        g_arrays, g_x = fused.vjp(net.plan, arrays, batch, g_values, batching=batching)
        for k, (u, v) in enumerate(zip(g_arrays, g_arrays_want)):
            np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-10, err_msg=f"{net.plan.fused[k]}, {batching}")
        np.testing.assert_allclose(g_x, g_x_want, rtol=1e-10, atol=1e-10, err_msg=f"inputs, {batching}")


def test_the_shipped_specs_are_all_here():
    """Every library spec over trees (or using the tree_lstm module) is checked below."""
    shipped = {p.stem for p in (ROOT / "specs").glob("*.yaml") if "over: tree" in p.read_text()
               or p.stem == "tree_lstm"}
    assert shipped == {"tree_lstm_classifier", "recursive", "tree_lstm"}


def test_it_is_the_default_for_trees_and_the_reference_is_asked_for_by_name():
    assert gr.load("recursive").engine.name == "fused_tree"
    assert gr.load("recursive", engine="autograd_tree").engine.name == "autograd_tree"


@pytest.mark.parametrize("source", SHIPPED + [TREE_LSTM, SINK], ids=lambda s: s.split("/")[-1][:20].strip())
def test_losses_and_gradients_equal_the_autograd_tree_engine(source):
    """At the roots (classes, xent) and at every node (mse): loss and every parameter's gradient."""
    net = load(source)
    assert net.engine.name == "fused_tree"
    reference = on(net, "autograd_tree")
    vocab = BOOLEAN if net.input_size == 5 else Vocabulary(["a", "b"])
    forest = EXPRESSIONS if net.input_size == 5 else ["(a (b a) (a b (b a b)))", "b", "(a a)"]
    batch = random_inputs(net.batch(forest, vocab), 1)
    params = sane_params(net, 2)
    rng = np.random.default_rng(3)
    cases = [dict(target=rng.integers(0, net.output_size, batch.batch), kind="xent"),
             dict(target=rng.normal(size=(batch.size, net.output_size)), kind="mse", at="nodes")]
    for case in cases:
        loss, grads = net.value_and_grad(params, batch, **case)
        want_loss, want = reference.value_and_grad(params, batch, **case)
        assert abs(loss - want_loss) <= 1e-12 * max(1.0, abs(want_loss))
        assert set(grads) == set(want)
        for name in want:
            np.testing.assert_allclose(grads[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)
    assert_engines_agree(net, batch, 4, batchings=("level", "node"))


def tree_network_texts():
    """A drawn sequence network (strategies.specs) turned into one over trees: a delay-1 edge
    reads child 1, delay 2 child 2, delay 3 the children pooled (sum or mean); some edges from
    the inputs read them at the parent."""
    @st.composite
    def draw_one(draw):
        doc = yaml.safe_load(draw(specs(max_nodes=3, max_size=3, max_delay=3, truncate=True)))
        doc["over"] = "tree"
        for edge in doc["edges"]:
            delay = edge.pop("delay", 0)
            if delay in (1, 2):
                edge["child"] = delay
            elif delay == 3:
                edge["children"] = draw(st.sampled_from(["sum", "mean"]))
            elif edge["from"] in doc["inputs"] and draw(st.booleans()):
                edge["parent"] = True
        return yaml.safe_dump(doc, sort_keys=False)
    return draw_one()


@settings(max_examples=40)
@given(text=tree_network_texts(), data=st.data(), seed=st.integers(0, 2**16))
def test_drawn_tree_networks_on_drawn_trees_equal_the_autograd_tree_engine(text, data, seed):
    net = gr.loads(text, "drawn.yaml")
    assert net.engine.name == "fused_tree"
    arity = 3 if net.max_arity is None else net.max_arity
    tokens = [f"t{i}" for i in range(net.input_size)]
    forest = data.draw(st.lists(trees(labels=tokens, max_children=arity, max_nodes=10), min_size=1, max_size=3))
    batch = random_inputs(net.batch(forest, Vocabulary(tokens)), seed)
    assert_engines_agree(net, batch, seed, batchings=("level", "node"))


def test_gradients_match_central_differences_on_a_tiny_case():
    """Every entry of every parameter and of the inputs, through the fused tree engine alone
    (untruncated: a truncated edge's gradient is not the derivative)."""
    net = load(SINK.replace(", truncate: true", ""))
    batch = random_inputs(net.batch(["(a (b a) (a b))", "b"], Vocabulary(["a", "b"])), 5)
    weights = {n: np.random.default_rng(6).normal(size=(batch.size, net.ir.nodes[n].size))
               for n in net.ir.nodes if n != "x"}

    def f(params, x):
        trace = net.run(params, replace(batch, x=x))
        return sum(anp.sum(anp.sin(trace[n]) * w) for n, w in weights.items())

    params = sane_params(net, 7)
    g_params, g_x = grad(f, (0, 1))(params, batch.x)
    entries = [(name, index) for name, value in params.items() for index in np.ndindex(value.shape)]
    entries += [(None, index) for index in np.ndindex(batch.x.shape)]
    eps = 1e-5
    for name, index in entries:
        moved = [({k: v.copy() for k, v in params.items()}, batch.x.copy()) for _ in range(2)]
        for (p, x), sign in zip(moved, (1, -1)):
            (x if name is None else p[name])[index] += sign * eps
        numeric = (f(*moved[0]) - f(*moved[1])) / (2 * eps)
        exact = (g_x if name is None else g_params[name])[index]
        assert abs(exact - numeric) <= 1e-6 * max(1.0, abs(numeric)), (name or "x", index)


def test_a_kind_without_a_backward_rule_runs_on_the_reference_and_fused_tree_is_gr115(registry):
    from graphrnn.ops import CombinerKind, register_op
    register_op(CombinerKind(name="square_tree_test", doc="y = act(s^2)", combine=lambda s: s[0] * s[0],
                             factor_per_edge=False, bias_default=False, allows_bias=False, needs_inputs=True))
    text = SINK.replace("e: {size: 2, activation: tanh}", "e: {size: 2, op: square_tree_test}")
    assert gr.loads(text, "net.yaml").engine.name == "autograd_tree"
    with pytest.raises(gr.PlanError) as info:
        gr.loads(text, "net.yaml", engine="fused_tree")
    assert info.value.code == "GR115" and "engine='autograd_tree'" in info.value.fix

