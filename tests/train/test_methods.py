"""The gradient-method table (train/methods.py): dispatch and its located refusals.

That each method computes the right gradient is tested beside it: full BPTT
equals truncated BPTT with windows reaching the start (test_tbptt.py) and
RTRL (test_rtrl.py).
"""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.train.methods import GRADIENT_METHODS, value_and_grad
from graphrnn.trees import TreeBatch, Vocabulary


@pytest.fixture(scope="module")
def case():
    net = gr.load("elman")
    rng = np.random.default_rng(0)
    return net, net.init(0), rng.normal(size=(5, 2, net.input_size)), rng.uniform(size=(5, 2, net.output_size))


def refused(*args, **kwargs):
    with pytest.raises(gr.RunError) as info:
        value_and_grad(*args, **kwargs)
    assert info.value.code == "GR200" and info.value.fix
    return info.value


def test_the_table_names_the_three_methods():
    assert list(GRADIENT_METHODS) == ["bptt", "tbptt", "rtrl"]


def test_bptt_is_the_networks_own_gradient(case):
    net, params, x, target = case
    loss, grads = value_and_grad(net, params, x, target, "bce", method="bptt")
    l2, g2 = net.value_and_grad(params, x, target, "bce")
    assert loss == l2 and all(np.array_equal(grads[k], g2[k]) for k in g2)
    state = net.run(params, x[:2]).state
    loss, _ = value_and_grad(net, params, x[2:], target[2:], state=state)
    assert loss == net.loss(params, x[2:], target[2:], state=state)


def test_an_unknown_method_is_refused_with_a_suggestion(case):
    err = refused(*case, method="rtlr")
    assert "did you mean `rtrl`?" in err.message and "'tbptt'" in err.fix


def test_options_a_method_does_not_take_are_refused(case):
    err = refused(*case, method="rtrl", k1=3)
    assert "`k1`" in err.message
    assert "initial state" in refused(*case, method="tbptt", k1=2, state={}).message
    assert "k1=None" in refused(*case, method="tbptt").message   # k1 is required


def test_methods_that_carry_state_run_sequences_only():
    net = gr.load("recursive")
    batch = TreeBatch.of(["(a b)", "c"], Vocabulary(["a", "b", "c", "d", "e"]))
    params, target = net.init(0), np.array([0, 1])
    assert "over trees" in refused(net, params, batch, target, "xent", method="tbptt", k1=1).message
    assert "over trees" in refused(net, params, batch, target, "xent", method="rtrl").message
    loss, grads = value_and_grad(net, params, batch, target, "xent", at="root")
    assert loss == net.loss(params, batch, target, "xent") and grads.keys() == net.trainable
