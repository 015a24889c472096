"""A task's evaluation runs the network in batches that fit the memory budget: a test set too big
for one run is split (found with the NTM paper's LSTM baseline, whose 1,000-sequence N-gram test
in runs of 256 needed 6 GiB), and the outputs are those of one run over all of it."""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.errors import PlanError
from graphrnn.plan import limits
from graphrnn.tasks import make_task


@pytest.fixture
def small_budget():
    yield lambda nbytes: limits.set_memory_limit(nbytes)
    limits.set_memory_limit(None)


def test_largest_batch_is_the_most_a_run_may_take(small_budget):
    net = gr.load("lstm1997_adding")
    per_sequence, _ = limits.run_bytes(net.plan, 30, 1)
    small_budget(10 * per_sequence + 1)
    assert net.largest_batch(30) == 10
    params, x = net.init(0), np.full((30, 11, net.input_size), 0.5)
    net.run(params, x[:, :10])
    with pytest.raises(PlanError) as info:
        net.run(params, x)
    assert info.value.code == "GR108"
    small_budget(per_sequence // 2)
    assert net.largest_batch(30) == 1       # one sequence is always tried (and refused by run if too big)


def test_a_test_set_too_big_for_one_run_is_evaluated_in_smaller_ones(small_budget):
    task = make_task("adding", T=20, test_size=40)
    net = gr.load("lstm1997_adding")
    params = net.init(1)
    batch = task.sample(np.random.default_rng(0), 40)
    whole = np.asarray(net.run(params, batch.x).y)
    small_budget(7 * limits.run_bytes(net.plan, batch.x.shape[0], 1)[0])
    assert net.largest_batch(batch.x.shape[0]) == 7
    np.testing.assert_allclose(task.outputs(net, params, batch), whole, rtol=0, atol=1e-12)
    assert task.success(net, params, np.random.default_rng(3)).metrics is not None
