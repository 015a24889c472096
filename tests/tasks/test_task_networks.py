"""Every task's batches feed net.loss/net.grad of a small network; success() runs a real network."""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.tasks import Evaluation, make_task

SPEC = """graphrnn: 1
name: tiny_{I}_{O}
inputs: {{x: {I}}}
outputs: {{y: {O}}}
nodes:
  h: {{size: 3, activation: tanh}}
  y: {{size: {O}, activation: sigmoid}}
edges:
  - {{from: x, to: h}}
  - {{from: h, to: h, delay: 1}}
  - {{from: h, to: y}}
"""


def tiny(task):
    return gr.loads(SPEC.format(I=task.input_size, O=task.output_size))


def test_loss_accepts_the_batch(task):
    net = tiny(task)
    params = net.init(0)
    b = task.sample(0, 4)
    loss = net.loss(params, b.x, b.target, kind=task.loss, mask=b.mask)
    assert np.isfinite(loss) and loss > 0
    grads = net.grad(params, b.x, b.target, kind=task.loss, mask=b.mask)
    assert all(np.isfinite(g).all() for g in grads.values())


def test_masked_loss_ignores_the_padding(small):
    task = make_task("adding", **small["adding"])
    net = tiny(task)
    params = net.init(0)
    b = task.sample(0, 6)
    whole = net.loss(params, b.x, b.target, kind="mse", mask=b.mask)
    y = np.asarray(net.run(params, b.x).y)
    by_hand = np.mean((b.at_end(y) - b.at_end(b.target)) ** 2)
    assert abs(whole - by_hand) < 1e-12


def test_success_runs_a_network(task):
    net = tiny(task)
    ev = task.success(net, net.init(0), 0)
    assert isinstance(ev, Evaluation) and not ev.solved       # an untrained net solves nothing
    assert str(ev).startswith("not solved:")


def test_a_network_of_the_wrong_size_is_refused(small):
    task = make_task("temporal_order_6a", **small["temporal_order_6a"])
    net = gr.load("elman")
    with pytest.raises(ValueError, match="needs a network with 8 inputs and 4 outputs"):
        task.success(net, net.init(0), 0)


def test_continual_success_carries_the_state(small):
    task = make_task("continual_embedded_reber", **small["continual_embedded_reber"])
    net = tiny(task)
    params = net.init(0)
    ev = task.success(net, params, 0)
    assert 0 <= ev.metrics["min_run"] <= ev.metrics["mean_run"] <= task.max_symbols
    assert ev.metrics["streams"] == task.test_streams
