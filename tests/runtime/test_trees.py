"""The level-batched tree engine: finite-difference gradients, batching, and sequences as chains.

Oracles: central differences (float64, relative error < 1e-6); a batch of
trees equals its trees run one by one; level batching equals node-by-node
evaluation; a chain-shaped tree equals the same network run over a sequence.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.runtime.tree_network import TreeNetwork
from graphrnn.testing.strategies import sane_params, trees
from graphrnn.trees import Tree, TreeBatch, Vocabulary, parse_sexpr

TOKENS = ("a", "b", "c")
VOCAB = Vocabulary(TOKENS)

# every tree feature at once: child:k and pooled links, a hoisted link (e reads its first child's
# input), parent links (into a loop stage and after it), two loop stages, a product node, a learned
# initial value, pooled reads after the loop
KITCHEN_SINK = """
graphrnn: 1
name: kitchen_sink
over: tree
inputs: {x: 3}
outputs: {y: 2}
nodes:
  e: {size: 2, activation: tanh}
  h: {size: 3, activation: tanh, initial: learned}
  g: {size: 3, activation: sigmoid}
  m: {size: 3, op: product}
  s: {size: 3, activation: tanh}
  y: {size: 2, activation: tanh}
edges:
  - {from: x, to: e}
  - {from: x, to: e, child: 1}
  - {from: e, to: h}
  - {from: h, to: h, child: 1}
  - {from: h, to: h, child: 2}
  - {from: s, to: g, children: sum}
  - {from: e, to: g}
  - {from: [g, h], to: m, kind: identity}
  - {from: m, to: s, kind: identity}
  - {from: s, to: s, children: mean, kind: diagonal}
  - {from: h, to: y}
  - {from: s, to: y, children: mean}
  - {from: x, to: g, parent: true}
  - {from: e, to: y, parent: true}
"""


@pytest.fixture(scope="module")
def sink():
    return gr.loads(KITCHEN_SINK, "sink.yaml")


def tree_lists(max_trees=3, **options):
    options.setdefault("labels", TOKENS)
    return st.lists(trees(**options), min_size=1, max_size=max_trees)


def node_loss(net, batch, seed, batching="level"):
    """A scalar of every node's value at every tree node, so every gradient path counts."""
    rng = np.random.default_rng(seed)
    weights = {n: rng.normal(size=(batch.size, net.ir.nodes[n].size)) for n in net.ir.nodes if n != "x"}

    def f(params):
        trace = net.run(params, batch, batching=batching)
        return sum(anp.sum(anp.sin(trace[n]) * w) for n, w in weights.items())
    return f


def central_difference(f, params, direction, eps=1e-5):
    plus = {k: v + eps * direction[k] for k, v in params.items()}
    minus = {k: v - eps * direction[k] for k, v in params.items()}
    return (f(plus) - f(minus)) / (2 * eps)


def test_types_and_parameter_names(sink):
    assert isinstance(sink, TreeNetwork)
    assert set(sink.init(0)) >= {"x->e@child1", "h->h@child1", "h->h@child2", "s->g@children.sum",
                                 "s->s@children.mean", "s->y@children.mean", "h.initial", "x->g@parent",
                                 "e->y@parent"}


def test_every_entry_of_the_gradient_matches_central_differences(sink):
    """Entry by entry on one fixed batch with leaves, 1-, 2- and 3-child nodes."""
    batch = sink.batch(["(a (b c) (c a (b a b)))", "b", "(c a)"], VOCAB)
    params = sane_params(sink, 3)
    f = node_loss(sink, batch, 0)
    analytic = grad(f)(params)
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            direction = {k: np.zeros_like(v) for k, v in params.items()}
            direction[name][index] = 1.0
            numeric[index] = central_difference(f, params, direction)
        scale = max(np.linalg.norm(numeric), np.linalg.norm(analytic[name]), 1e-3)
        assert np.linalg.norm(analytic[name] - numeric) / scale < 1e-6, name


@settings(max_examples=10)
@given(forest=tree_lists(max_children=3, max_nodes=12), seed=st.integers(0, 2**16))
def test_gradients_match_central_differences_on_random_trees(sink, forest, seed):
    """Directional central differences along a random direction of each parameter array."""
    batch = sink.batch(forest, VOCAB)
    params = sane_params(sink, seed)
    f = node_loss(sink, batch, seed)
    analytic = grad(f)(params)
    rng = np.random.default_rng(seed)
    for name, value in params.items():
        direction = {k: np.zeros_like(v) for k, v in params.items()}
        direction[name] = rng.normal(size=value.shape)
        exact = float(np.sum(analytic[name] * direction[name]))
        numeric = central_difference(f, params, direction)
        assert abs(exact - numeric) <= 1e-6 * max(abs(exact), abs(numeric), 1e-2), name


@settings(max_examples=15)
@given(forest=tree_lists(max_trees=4, max_children=3, max_nodes=16), seed=st.integers(0, 2**16))
def test_a_batch_equals_its_trees_one_by_one(sink, forest, seed):
    params = sane_params(sink, seed)
    batch = sink.batch(forest, VOCAB)
    together = sink.run(params, batch)
    per_tree = batch.per_tree(np.asarray(together.y_nodes))
    for b, tree in enumerate(forest):
        alone = sink.run(params, sink.batch([tree], VOCAB))
        np.testing.assert_allclose(together.y[b], alone.y[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(per_tree[b], alone.batch.per_tree(np.asarray(alone.y_nodes))[0],
                                   rtol=1e-12, atol=1e-14)


@settings(max_examples=10)
@given(forest=tree_lists(max_children=3, max_nodes=16), seed=st.integers(0, 2**16))
def test_level_batching_equals_node_by_node(sink, forest, seed):
    params = sane_params(sink, seed)
    batch = sink.batch(forest, VOCAB)
    level, node = sink.run(params, batch), sink.run(params, batch, batching="node")
    for name in sink.ir.nodes:
        np.testing.assert_allclose(level[name], node[name], rtol=1e-12, atol=1e-14, err_msg=name)
    g_level = grad(node_loss(sink, batch, seed))(params)
    g_node = grad(node_loss(sink, batch, seed, batching="node"))(params)
    for name in params:
        np.testing.assert_allclose(g_level[name], g_node[name], rtol=1e-10, atol=1e-12, err_msg=name)


GATED_SEQUENCE = """
graphrnn: 1
name: gated
inputs: {x: 2}
outputs: {y: 2}
nodes:
  z: {size: 3, activation: sigmoid}
  u: {size: 3, activation: tanh, initial: learned}
  keep: {size: 3, op: product}
  h: {size: 3, activation: tanh}
  y: {size: 2}
edges:
  - {from: x, to: [z, u]}
  - {from: h, to: [z, u], delay: 1}
  - {from: [z, u], to: keep, kind: identity}
  - {from: keep, to: h, kind: identity}
  - {from: h, to: h, delay: 1, kind: diagonal, truncate: true}
  - {from: u, to: h, delay: 1}
  - {from: h, to: y}
"""


@pytest.mark.parametrize("link", ["child: 1", "children: sum", "children: mean"])
@pytest.mark.parametrize("engine", ["fused", "autograd"])
def test_a_chain_tree_equals_the_same_network_over_a_sequence(link, engine):
    """Position t of the sequence is the chain node at height t; a leaf reads `initial` like t = 0."""
    seq = gr.loads(GATED_SEQUENCE, engine=engine)
    tree_net = gr.loads("over: tree\n" + GATED_SEQUENCE.replace("delay: 1", link))
    T, B = 5, 3
    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, B, 2))
    params = sane_params(seq, 7)
    tree_params = {k.replace("@1", "@" + tree_link(link)): v for k, v in params.items()}
    chain = parse_sexpr("(a " * (T - 1) + "a" + ")" * (T - 1))
    batch = TreeBatch.of([chain] * B, Vocabulary(["a"]))
    # rows are sorted by height, then tree: row t * B + b is position t of sequence b (time-major)
    batch = replace(batch, x=x.reshape(T * B, 2))
    assert set(tree_params) == set(tree_net.init(0))
    want = seq.run(params, x)
    got = tree_net.run(tree_params, batch)
    np.testing.assert_allclose(np.reshape(got.y_nodes, (T, B, 2)), want.y, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got.y, want.y[-1], rtol=1e-12, atol=1e-14)
    target = rng.normal(size=(T, B, 2))
    g_seq = seq.grad(params, x, target)
    g_tree = tree_net.grad(tree_params, batch, target.reshape(T * B, 2), at="nodes")
    for name, value in g_seq.items():
        np.testing.assert_allclose(g_tree[name.replace("@1", "@" + tree_link(link))], value,
                                   rtol=1e-9, atol=1e-12, err_msg=name)


def tree_link(link: str) -> str:
    return {"child: 1": "child1", "children: sum": "children.sum", "children: mean": "children.mean"}[link]


def test_loss_at_the_root_with_classes_and_at_every_node():
    net = gr.load("recursive")
    vocab = Vocabulary(["T", "F", "and", "or", "xor"])
    batch = net.batch(["(and T F)", "(or (xor T T) F)"], vocab)
    params = net.init(0)
    root = net.loss(params, batch, np.array([1, 0]), kind="xent")
    probs = np.asarray(net.run(params, batch).y)
    assert np.isclose(root, -np.mean(np.log(probs[[0, 1], [1, 0]])))
    nodes = net.loss(params, batch, np.zeros((batch.size, 2)), at="nodes")
    assert np.isclose(nodes, np.mean(np.asarray(net.run(params, batch).y_nodes) ** 2))


def test_leaves_read_the_initial_value_through_child_edges():
    net = gr.loads("""
graphrnn: 1
over: tree
inputs: {x: 1}
outputs: {h: 1}
nodes:
  h: {size: 1, initial: 0.5, bias: false}
edges:
  - {from: x, to: h, weights: 0.0}
  - {from: h, to: h, child: 1, weights: 2.0}
  - {from: h, to: h, child: 2, weights: 3.0}
""")
    batch = net.batch([Tree("a"), parse_sexpr("(a a)"), parse_sexpr("(a a a)")], Vocabulary(["a"]))
    y = np.asarray(net.run(net.init(0), batch).y)[:, 0]
    # a leaf: 2*0.5 + 3*0.5; one child: 2*leaf + 3*0.5 (no second child); two: 5*leaf
    leaf = 2.5
    np.testing.assert_allclose(y, [leaf, 2 * leaf + 1.5, 5 * leaf])


def test_deep_chains_run_without_recursion():
    net = gr.load("recursive")
    depth = 1500   # deeper than Python's recursion limit
    chain = parse_sexpr("(and " * depth + "T" + ")" * depth)
    batch = net.batch([chain], Vocabulary(["T", "F", "and", "or", "xor"]))
    assert batch.height == depth
    assert np.all(np.isfinite(net.run(net.init(0), batch).y))


def test_float32_runs_close_to_float64():
    net = gr.load("recursive")
    batch = net.batch(["(and T (or F T))", "F"], Vocabulary(["T", "F", "and", "or", "xor"]))
    params = net.init(1)
    np.testing.assert_allclose(net.run(params, batch, dtype="float32").y, net.run(params, batch).y, atol=1e-5)


def test_a_sequence_array_is_refused_with_the_fix():
    net = gr.load("recursive")
    with pytest.raises(gr.RunError) as info:
        net.run(net.init(0), np.zeros((3, 1, 5)))
    assert info.value.code == "GR200" and "TreeBatch" in info.value.fix


def test_a_vocabulary_of_the_wrong_width_is_refused():
    net = gr.load("recursive")
    with pytest.raises(gr.RunError) as info:
        net.batch(["(a b c)"], Vocabulary(["a", "b", "c"]))
    assert info.value.code == "GR200" and "3 wide" in info.value.message


def test_a_tree_batch_given_to_a_sequence_network_is_refused():
    net = gr.load("elman")
    batch = TreeBatch.of(["a"], Vocabulary(["a"] + [f"t{i}" for i in range(net.input_size - 1)]))
    with pytest.raises(gr.RunError) as info:
        net.run(net.init(0), batch)
    assert info.value.code == "GR200" and "over: tree" in info.value.fix


def test_a_module_with_delays_in_a_tree_network_points_into_the_module():
    """lstm.yaml reads `delay: 1`; used over trees, the error is located at that edge of the module."""
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads("graphrnn: 1\nover: tree\ninputs: {x: 2}\noutputs: {y: 3}\nnodes:\n"
                 "  cell: {use: lstm, size: 3}\n  y: {size: 3}\nedges:\n"
                 "  - {from: x, to: cell.in}\n  - {from: cell, to: y}\n", "net.yaml")
    assert info.value.code == "GR120"
    assert str(info.value.loc).startswith(str(Path(gr.compiler.find_library_spec("lstm"))) + ":")


def test_the_tree_lstm_module_in_a_sequence_network_is_refused():
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 3}\nnodes:\n"
                 "  cell: {use: tree_lstm, size: 3}\n  y: {size: 3}\nedges:\n"
                 "  - {from: x, to: cell.in}\n  - {from: cell, to: y}\n", "net.yaml")
    assert info.value.code == "GR120" and "tree_lstm.yaml" in str(info.value.loc)


def test_parent_links_read_the_parent_and_the_root_reads_initial():
    net = gr.loads("""
graphrnn: 1
over: tree
inputs: {x: 2}
outputs: {h: 2}
nodes:
  h: {size: 2, bias: false}
edges:
  - {from: x, to: h, parent: true, kind: identity}
  - {from: h, to: h, children: sum, weights: 0.0}
""")
    batch = net.batch(["(a b (a b))"], Vocabulary(["a", "b"]))
    h = batch.per_tree(np.asarray(net.run(net.init(0), batch)["h"]))[0]   # preorder: a b a b
    np.testing.assert_array_equal(h, [[0, 0], [1, 0], [1, 0], [1, 0]])
