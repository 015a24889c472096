"""Network.value_and_grad without a tape (the engine's passes and the loss's rule) against the same
engine differentiated by autograd's reverse pass through its primitive."""
from __future__ import annotations

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.runtime import generated

TWO_OUTPUTS = """graphrnn: 1
name: two_outputs
inputs: {x: 3}
outputs: {p: 2, q: 3}
nodes:
  h: {size: 4, activation: tanh, initial: learned}
  p: {size: 2, activation: sigmoid}
  q: {size: 3, activation: softmax}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1}
  - {from: h, to: [p, q]}
"""

ENGINES = ["fused"] + (["compiled"] if generated.available() else [])


def _through_the_tape(net, params, x, target, kind, mask):
    return net._taped(lambda p: net._loss_and_outputs(p, x, target, kind, mask, None), params)[:2]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["mse", "bce", "xent"])
def test_direct_gradients_equal_the_tape(engine, kind):
    net = gr.loads(TWO_OUTPUTS, engine=engine)
    params = net.init(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 2, 3))
    target = rng.uniform(size=(6, 2, 5))
    if kind == "xent":
        target = np.eye(5)[rng.integers(0, 5, (6, 2))]
    mask = rng.integers(0, 2, (6, 2)).astype(float)
    loss, grads = net.value_and_grad(params, x, target, kind, mask)
    want_loss, want = _through_the_tape(net, params, x, target, kind, mask)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-13)
    assert list(grads) == list(want)
    for name in want:
        np.testing.assert_allclose(grads[name], want[name], rtol=1e-12, atol=1e-15, err_msg=name)


@pytest.mark.parametrize("engine", ENGINES)
def test_repeated_calls_and_float32_agree(engine):
    net = gr.loads(TWO_OUTPUTS, engine=engine, dtype="float32")
    params = net.init(0)
    rng = np.random.default_rng(1)
    x, target = rng.normal(size=(4, 3, 3)), rng.uniform(size=(4, 3, 5))
    first = net.value_and_grad(params, x, target)
    again = net.value_and_grad(params, x, target)   # reused buffers must not leak into the result
    want = _through_the_tape(net, params, x, target, "mse", None)
    for grads in (first[1], again[1]):
        for name in want[1]:
            assert grads[name].dtype == np.float64
            np.testing.assert_allclose(grads[name], want[1][name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_untrainable_parameters_get_no_gradient():
    text = TWO_OUTPUTS.replace("{from: h, to: [p, q]}", "{from: h, to: [p, q], trainable: false}")
    net = gr.loads(text)
    grads = net.grad(net.init(0), np.ones((2, 1, 3)), np.zeros((2, 1, 5)))
    assert "h->p" in net.params and "h->p" not in net.trainable
    assert set(grads) == set(net.trainable) and "h->p" not in grads


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_parameters_are_the_located_errors_of_run(engine):
    net = gr.loads(TWO_OUTPUTS, engine=engine)
    x, target = np.ones((2, 1, 3)), np.zeros((2, 1, 5))
    wrong_shape = {**net.init(0), "h->h@1": np.zeros((4, 3))}
    with pytest.raises(gr.GraphRNNError) as err:
        net.value_and_grad(wrong_shape, x, target)
    assert err.value.code == "GR200" and "h->h@1" in str(err.value) and err.value.loc is not None
    missing = net.init(0)
    missing.pop("p.bias")
    with pytest.raises(gr.GraphRNNError) as err:
        net.value_and_grad(missing, x, target)
    assert err.value.code == "GR201" and "p.bias" in str(err.value)
    with pytest.raises(gr.GraphRNNError) as err:
        net.value_and_grad(net.init(0), x, np.zeros((2, 1, 4)))
    assert err.value.code == "GR200" and "target" in str(err.value)


@pytest.mark.parametrize("params", [[1.0, 2.0], None, "w"])
def test_parameters_that_are_no_dict_are_gr200(params):
    net = gr.loads(TWO_OUTPUTS)
    for call in (lambda: net.run(params, np.ones((2, 1, 3))),
                 lambda: net.value_and_grad(params, np.ones((2, 1, 3)), np.zeros((2, 1, 5)))):
        with pytest.raises(gr.GraphRNNError) as err:
            call()
        assert err.value.code == "GR200" and "net.init(seed)" in err.value.fix
