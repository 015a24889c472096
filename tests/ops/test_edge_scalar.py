"""The `scalar` edge kind: one learned number times the identity, on both engines and the reference.

    h_t = tanh(x_t W + g h_{t-1} + b),   h_{-1} = 0
    y_t = h_t V
    loss = mean over all elements of (y - target)^2
"""
from __future__ import annotations

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.testing import reference_run

SPEC = """graphrnn: 1
inputs: {x: 3}
outputs: {y: 2}
nodes:
  h: {size: 4, activation: tanh}
  y: {size: 2, bias: false}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1, kind: scalar}
  - {from: h, to: y}
"""
ENGINES = ("fused", "autograd")


def by_hand(p, x):
    """Outputs (T, B, 2) of the network above, one step at a time in numpy."""
    h = np.zeros((x.shape[1], 4))
    ys = []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ p["x->h"] + p["h->h@1"] * h + p["h.bias"])
        ys.append(h @ p["h->y"])
    return np.stack(ys)


def numeric_grads(p, x, target, eps=1e-6):
    """Central differences of the loss over every entry of every parameter."""
    def loss(q):
        return np.mean((by_hand(q, x) - target) ** 2)
    grads = {}
    for name, value in p.items():
        g = np.zeros(np.shape(value))
        for index in np.ndindex(g.shape):
            up, down = dict(p), dict(p)
            up[name] = np.array(value, dtype=float)
            down[name] = np.array(value, dtype=float)
            up[name][index] += eps
            down[name][index] -= eps
            g[index] = (loss(up) - loss(down)) / (2 * eps)
        grads[name] = g
    return grads


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(6, 2, 3)), rng.normal(size=(6, 2, 2))


def test_the_parameter_is_one_number_starting_at_one():
    net = gr.loads(SPEC)
    params = net.init(0)
    assert np.shape(params["h->h@1"]) == ()
    assert params["h->h@1"] == 1.0
    assert "h->h@1" in net.trainable
    given = gr.loads(SPEC.replace("kind: scalar}", "kind: scalar, weights: 0.5}")).init(0)
    assert given["h->h@1"] == 0.5
    drawn = gr.loads(SPEC.replace("kind: scalar}", "kind: scalar, init: {uniform: 0.1}}")).init(0)
    assert np.shape(drawn["h->h@1"]) == () and abs(drawn["h->h@1"]) <= 0.1


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_compute_the_hand_written_network(engine, data):
    x, _ = data
    net = gr.loads(SPEC, engine=engine)
    params = dict(net.init(3), **{"h->h@1": np.array(0.7)})
    np.testing.assert_allclose(net.run(params, x).y, by_hand(params, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_gradients_match_finite_differences(engine, data):
    x, target = data
    net = gr.loads(SPEC, engine=engine)
    params = dict(net.init(3), **{"h->h@1": np.array(-0.6)})
    value, grads = net.value_and_grad(params, x, target)
    assert value == pytest.approx(np.mean((by_hand(params, x) - target) ** 2), rel=1e-12)
    want = numeric_grads(params, x, target)
    assert set(grads) == set(want)
    for name in want:
        np.testing.assert_allclose(grads[name], want[name], rtol=1e-6, atol=1e-8, err_msg=name)


def test_the_reference_interpreter_agrees(data):
    x, _ = data
    net = gr.loads(SPEC)
    params = dict(net.init(5), **{"h->h@1": np.array(1.3)})
    trace, want = net.run(params, x), reference_run(net.ir, params, x)
    for node in ("h", "y"):
        np.testing.assert_allclose(trace[node], want[node], rtol=1e-12, atol=1e-12)


def test_the_plan_scales_the_source_elementwise():
    plan = str(gr.loads(SPEC).plan)
    assert "elementwise" in plan and "*s[0:4]" in plan


def test_a_shared_gain_ties_edges_of_different_sizes(data):
    text = SPEC.replace("  - {from: h, to: h, delay: 1, kind: scalar}\n",
                        "  - {from: h, to: h, delay: 1, kind: scalar, share: gain}\n"
                        "  - {from: y, to: y, delay: 1, kind: scalar, share: gain}\n")
    x, target = data
    nets = [gr.loads(text, engine=engine) for engine in ENGINES]
    params = dict(nets[0].init(1), gain=np.array(0.4))
    assert np.shape(params["gain"]) == ()
    grads = [net.grad(params, x, target) for net in nets]
    np.testing.assert_allclose(grads[0]["gain"], grads[1]["gain"], rtol=1e-10)


@pytest.mark.parametrize("edge, code, message", [
    ("{from: x, to: h, kind: scalar}", "GR106", "is `scalar` but the sizes differ (3 vs 4)"),
    ("{from: h, to: h, delay: 1, kind: scalar, mask: [[1]]}", "GR104", "masks apply to dense edges only"),
    ("{from: h, to: h, delay: 1, kind: scalar, init: orthogonal}", "GR112", "a `scalar` edge has a number"),
    ("{from: h, to: h, delay: 1, kind: scalar, weights: [1, 2, 3, 4]}", "GR106", "weights of shape (4,), expected ()"),
], ids=["sizes", "mask", "orthogonal", "weights-shape"])
def test_misuse_is_a_located_error(edge, code, message):
    text = SPEC.replace("{from: h, to: h, delay: 1, kind: scalar}", edge)
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, "s.yaml")
    assert info.value.code == code and message in info.value.message, str(info.value)
    assert str(info.value).startswith("s.yaml:")
