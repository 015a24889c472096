"""Truncated BPTT(k2; k1) against full BPTT and against chunk-by-chunk finite differences."""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.train.methods import value_and_grad

T, B = 10, 2


@pytest.fixture(scope="module")
def case():
    net = gr.load("lstm_2layer")
    params = net.init(0)
    rng = np.random.default_rng(0)
    return net, params, rng.normal(size=(T, B, net.input_size)), rng.uniform(size=(T, B, net.output_size))


def test_windows_that_reach_the_start_are_full_bptt(case):
    net, params, x, target = case
    loss, grads = net.value_and_grad(params, x, target)
    for k1, k2 in [(T, T), (3, T + 3), (4, 2 * T)]:   # every window reaches step 0
        l2, g2 = value_and_grad(net, params, x, target, method="tbptt", k1=k1, k2=k2)
        assert abs(loss - l2) < 1e-12
        for name in grads:
            np.testing.assert_allclose(g2[name], grads[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_chunked_tbptt_is_the_sum_of_chunk_gradients_with_the_state_held_fixed(case):
    net, params, x, target = case
    k = 4
    _, grads = value_and_grad(net, params, x, target, method="tbptt", k1=k)
    name, index, eps = "x->layer1.i", (1, 2), 1e-6
    numeric, state = 0.0, None
    for start in range(0, T, k):
        stop = min(start + k, T)
        share = (stop - start) / T   # the loss is a mean over all T steps
        up, down = dict(params), dict(params)
        up[name], down[name] = params[name].copy(), params[name].copy()
        up[name][index] += eps
        down[name][index] -= eps
        chunk = slice(start, stop)
        numeric += share * (net.loss(up, x[chunk], target[chunk], state=state)
                            - net.loss(down, x[chunk], target[chunk], state=state)) / (2 * eps)
        state = net.run(params, x[chunk], state=state).state
    assert abs(numeric - grads[name][index]) <= 1e-6 * max(abs(numeric), 1e-6)
    _, full = net.value_and_grad(params, x, target)
    assert not np.allclose(full[name], grads[name], rtol=1e-6)   # truncation changed something


def test_bad_window_sizes_are_refused(case):
    net, params, x, target = case
    with pytest.raises(gr.RunError) as info:
        value_and_grad(net, params, x, target, method="tbptt", k1=5, k2=2)
    assert info.value.code == "GR200"
