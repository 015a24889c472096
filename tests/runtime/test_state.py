"""Carrying state across runs: chunks of a sequence run one after another equal the whole run."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.testing import inputs_for, params_for, specs


@pytest.mark.parametrize("engine", ["fused", "autograd"])
@given(data=st.data())
def test_chunks_with_carried_state_equal_the_whole_run(engine, data):
    net = gr.loads(data.draw(specs(), label="spec"), engine=engine)
    params = data.draw(params_for(net))
    x = data.draw(inputs_for(net, max_steps=7))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, len(x) - 1)), max_size=3), label="cuts")))
    whole = net.run(params, x)
    state, pieces = None, []
    for start, stop in zip([0] + cuts, cuts + [len(x)]):
        if start >= stop:
            continue
        trace = net.run(params, x[start:stop], state=state)
        pieces.append(trace)
        state = trace.state
    for node in net.ir.nodes:
        np.testing.assert_allclose(np.concatenate([p[node] for p in pieces]), whole[node], rtol=1e-12,
                                   atol=1e-12, err_msg=node)
    for name, rows in whole.state.items():
        np.testing.assert_allclose(state[name], rows, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("engine", ["fused", "autograd"])
def test_gradient_treats_the_carried_state_as_data(engine):
    net = gr.load("jordan", engine=engine)
    params = net.init(0)
    x = np.random.default_rng(0).normal(size=(6, 2, 4))
    target = np.random.default_rng(1).uniform(size=(3, 2, 3))
    state = net.run(params, x[:3]).state
    grads = net.grad(params, x[3:], target, state=state)
    eps = 1e-6
    for name in ("x->h", "h->y", "s->h"):
        for index in [(0, 0), (1, 2)]:
            up, down = dict(params), dict(params)
            up[name], down[name] = params[name].copy(), params[name].copy()
            up[name][index] += eps
            down[name][index] -= eps
            numeric = (net.loss(up, x[3:], target, state=state) - net.loss(down, x[3:], target, state=state)) / (2 * eps)
            assert abs(numeric - grads[name][index]) <= 1e-6 * max(abs(numeric), 1e-6), (name, index)


def test_a_state_of_another_batch_size_is_refused():
    net = gr.load("elman")
    params = net.init(0)
    state = net.run(params, np.zeros((2, 3, 4))).state
    with pytest.raises(gr.RunError) as info:
        net.run(params, np.zeros((2, 1, 4)), state=state)
    assert info.value.code == "GR200"
