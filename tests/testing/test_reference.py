"""The reference interpreter itself, on tiny networks computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.graph.ir import INPUT, Edge, Graph, Node
from graphrnn.testing import instant_order, reference_run


def seq(*rows):
    """x of shape (T, 1, I) from T rows."""
    return np.array(rows, dtype=float)[:, None, :]


def test_product_node_multiplies_one_factor_per_edge():
    net = gr.loads("""
graphrnn: 1
inputs: {x: 2, u: 2}
outputs: {p: 2}
nodes:
  p: {size: 2, op: product}
edges:
  - {from: x, to: p, kind: identity}
  - {from: u, to: p, kind: fixed, weights: [2.0, 3.0]}
  - {from: x, to: p, kind: fixed, weights: -1.0, delay: 1}
""")
    x = seq([1, 2, 3, 4], [5, 6, 7, 8])
    out = reference_run(net.ir, net.init(0), x)
    # t=0: the delayed factor reads x's initial value, zeros
    # t=1: [5*7*2*(-1)*1, 6*8*3*(-1)*2]
    np.testing.assert_array_equal(out["p"][:, 0], [[0.0, 0.0], [-70.0, -288.0]])
    np.testing.assert_array_equal(out["x"][:, 0], [[1, 2], [5, 6]])
    np.testing.assert_array_equal(out["u"][:, 0], [[3, 4], [7, 8]])


def test_fixed_scalar_edge_scales_its_source():
    net = gr.loads("""
graphrnn: 1
inputs: {x: 3}
outputs: {y: 3}
nodes:
  y: {size: 3, bias: false}
edges:
  - {from: x, to: y, kind: fixed, weights: 0.5}
""")
    x = seq([2, -4, 6], [1, 0, -1])
    out = reference_run(net.ir, net.init(0), x)
    np.testing.assert_array_equal(out["y"][:, 0], [[1, -2, 3], [0.5, 0, -0.5]])


def test_delay_two_edge_reads_the_constant_initial_before_the_start():
    net = gr.loads("""
graphrnn: 1
inputs: {x: 1}
outputs: {y: 1}
nodes:
  s: {size: 1, bias: false, initial: 0.7}
  y: {size: 1, bias: false}
edges:
  - {from: x, to: s, kind: identity}
  - {from: s, to: s, kind: fixed, weights: 0.5, delay: 2}
  - {from: s, to: y, kind: identity, delay: 2}
""")
    x = seq([1.0], [2.0], [3.0], [4.0])
    out = reference_run(net.ir, net.init(0), x)
    # s_t = x_t + 0.5 s_{t-2}, s_{-2} = s_{-1} = 0.7
    s = [1 + 0.35, 2 + 0.35, 3 + 0.5 * 1.35, 4 + 0.5 * 2.35]
    np.testing.assert_allclose(out["s"][:, 0, 0], s, rtol=0, atol=1e-15)
    # y_t = s_{t-2}: the initial 0.7 at t = 0, 1
    np.testing.assert_allclose(out["y"][:, 0, 0], [0.7, 0.7, s[0], s[1]], rtol=0, atol=1e-15)


def test_learned_initial_bias_mask_broadcast_and_activation():
    net = gr.loads("""
graphrnn: 1
inputs: {x: 2}
outputs: {y: 2}
nodes:
  g: {size: 1, bias: false, initial: learned}
  y: {size: 2, activation: tanh}
edges:
  - {from: x, to: g, mask: [[1], [0]]}
  - {from: g, to: y, kind: broadcast, delay: 1}
  - {from: x, to: y, kind: diagonal}
""")
    params = {"g.initial": np.array([0.25]), "x->g": np.array([[2.0], [100.0]]),
              "x->y": np.array([0.5, -1.0]), "y.bias": np.array([0.1, 0.2])}
    assert set(params) == set(net.init(0))
    x = np.array([[[1.0, 3.0], [0.0, 1.0]], [[-1.0, 2.0], [4.0, 5.0]]])   # (T=2, B=2, 2)
    out = reference_run(net.ir, params, x)
    g = np.array([[[2.0], [0.0]], [[-2.0], [8.0]]])                      # the mask drops x[1]
    np.testing.assert_allclose(out["g"], g, rtol=0, atol=1e-15)
    g_prev = np.array([[[0.25], [0.25]], [[2.0], [0.0]]])
    want_y = np.tanh(g_prev + x * [0.5, -1.0] + [0.1, 0.2])
    np.testing.assert_allclose(out["y"], want_y, rtol=0, atol=1e-15)


def test_dense_edge_and_softmax_per_node():
    net = gr.loads("""
graphrnn: 1
inputs: {x: 2}
outputs: {y: 3}
nodes:
  y: {size: 3, activation: softmax, bias: false}
edges:
  - {from: x, to: y}
""")
    W = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
    x = seq([1.0, 2.0])
    out = reference_run(net.ir, {"x->y": W}, x)
    a = np.array([2.0, 4.0, -1.0])
    np.testing.assert_allclose(out["y"][0, 0], np.exp(a) / np.exp(a).sum(), rtol=1e-15, atol=1e-15)


def _graph(nodes, edges):
    return Graph(name="g", file="<test>", nodes={n.name: n for n in nodes}, edges=tuple(edges),
                 inputs={n.name: n.size for n in nodes if n.op == INPUT}, outputs={})


def test_evaluation_order_follows_delay_zero_edges_not_names():
    nodes = [Node("x", INPUT, 1), Node("a", "sum", 1), Node("b", "sum", 1)]
    edges = [Edge("x", "b", "identity"), Edge("b", "a", "identity"),
             Edge("a", "b", "identity", delay=1)]
    graph = _graph(nodes, edges)
    order = instant_order(graph)
    assert order.index("x") < order.index("b") < order.index("a")
    out = reference_run(graph, {}, seq([1.0], [10.0]))
    # b_t = x_t + a_{t-1}, a_t = b_t
    np.testing.assert_array_equal(out["b"][:, 0, 0], [1.0, 11.0])
    np.testing.assert_array_equal(out["a"][:, 0, 0], [1.0, 11.0])


def test_instantaneous_cycle_is_refused():
    nodes = [Node("x", INPUT, 1), Node("a", "sum", 1), Node("b", "sum", 1)]
    edges = [Edge("x", "a", "identity"), Edge("a", "b", "identity"), Edge("b", "a", "identity")]
    with pytest.raises(ValueError, match="instantaneous cycle"):
        reference_run(_graph(nodes, edges), {}, seq([1.0]))
