"""RTRL (forward sensitivities) and full BPTT: two algorithms, one gradient."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.train.methods import value_and_grad
from graphrnn.testing import inputs_for, params_for, specs


@settings(max_examples=20)
@given(data=st.data())
def test_rtrl_equals_bptt_on_random_networks(data):
    net = gr.loads(data.draw(specs(max_nodes=3, max_size=2, truncate=True), label="spec"))
    params = data.draw(params_for(net), label="params")
    x = data.draw(inputs_for(net, max_steps=4, max_batch=2), label="x")
    rng = np.random.default_rng(data.draw(st.integers(0, 999), label="seed"))
    target = rng.uniform(-1, 1, size=(x.shape[0], x.shape[1], net.output_size))
    mask = (rng.uniform(size=x.shape[:2]) < 0.7).astype(float)
    loss, grads = net.value_and_grad(params, x, target, mask=mask)
    loss_r, grads_r = value_and_grad(net, params, x, target, mask=mask, method="rtrl")
    assert abs(loss - loss_r) <= 1e-10 * max(1.0, abs(loss))
    for name in grads:
        np.testing.assert_allclose(grads_r[name], grads[name], rtol=1e-8, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("name", ["jordan", "lstm1997_8-4-2x2"])
def test_rtrl_equals_bptt_on_library_networks(name):
    net = gr.load(name)
    params = net.init(2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 2, net.input_size))
    target = rng.uniform(size=(4, 2, net.output_size))
    for kind in ("mse", "bce"):
        _, grads = net.value_and_grad(params, x, target, kind=kind)
        _, grads_r = value_and_grad(net, params, x, target, kind=kind, method="rtrl")
        for p in grads:
            np.testing.assert_allclose(grads_r[p], grads[p], rtol=1e-8, atol=1e-12, err_msg=p)
