"""Random weight guessing (Schmidhuber & Hochreiter 1996) on a latch-like task."""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.train.guess import GuessResult, end_error_below, guess, guess_params

# One tanh unit that must hold the sign of the first input through noise,
# and a tanh output unit: like the paper's latch problem, variant II.
LATCH = """
graphrnn: 1
name: latch
inputs: {x: 1}
outputs: {y: 1}
nodes:
  h: {size: 1, activation: tanh}
  y: {size: 1, activation: tanh}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1}
  - {from: h, to: y}
"""

# every kind of parameter: masked dense, fixed (non-trainable), learned initial, no bias
MIXED = """
graphrnn: 1
name: mixed
inputs: {x: 2}
outputs: {y: 1}
nodes:
  h: {size: 2, activation: tanh, initial: learned}
  y: {size: 1, activation: tanh, bias: false}
edges:
  - {from: x, to: h, mask: [[1, 0], [0, 1]]}
  - {from: h, to: h, delay: 1, trainable: false, init: {uniform: 0.5}}
  - {from: h, to: y}
"""


@pytest.fixture(scope="module")
def latch():
    net = gr.loads(LATCH)
    rng = np.random.default_rng(0)
    T, B = 8, 16
    x = rng.normal(0.0, 0.2, size=(T, B, 1))
    sign = np.repeat([-1.0, 1.0], B // 2)
    x[0, :, 0] = sign
    return net, x, sign


def test_guessing_solves_the_latch_task_within_a_bounded_number_of_trials(latch):
    net, x, sign = latch
    criterion = end_error_below(x, sign, tol=0.1)
    result = guess(net, criterion, r=100.0, max_trials=1000, seed=0)
    assert isinstance(result, GuessResult)
    assert result.solved and 1 <= result.trials <= 100
    assert criterion(net, result.params)
    y_end = net.run(result.params, x).y[-1, :, 0]
    assert np.all(np.abs(y_end - sign) < 0.1)
    assert set(result.params) == set(net.params)


def test_the_trial_count_is_deterministic_for_a_seed(latch):
    net, x, sign = latch
    criterion = end_error_below(x, sign, tol=0.1)
    runs = [guess(net, criterion, r=100.0, max_trials=1000, seed=seed) for seed in (3, 3, 4)]
    assert runs[0].trials == runs[1].trials
    for name in net.params:
        np.testing.assert_array_equal(runs[0].params[name], runs[1].params[name])
    assert any(not np.array_equal(runs[0].params[n], runs[2].params[n]) for n in net.trainable)
    again = guess_params(net, runs[0].trials, r=100.0, seed=3)      # regenerate without replaying
    for name in net.params:
        np.testing.assert_array_equal(again[name], runs[0].params[name])


def test_exhausting_max_trials_reports_failure():
    net = gr.loads(LATCH)
    calls = []

    def never(net, params):
        calls.append(1)
        return False

    result = guess(net, never, r=1.0, max_trials=7, seed=0)
    assert result == GuessResult(trials=7, params=None, solved=False)
    assert len(calls) == 7


def test_every_trainable_parameter_is_redrawn_and_fixed_ones_are_kept():
    net = gr.loads(MIXED)
    base = net.init(5)
    seen = []

    def record(net, params):
        seen.append({k: np.array(v) for k, v in params.items()})
        return len(seen) == 3

    result = guess(net, record, r=2.0, max_trials=10, seed=5)
    assert result.solved and result.trials == 3 and len(seen) == 3
    assert net.trainable == {"x->h", "h.bias", "h.initial", "h->y"}
    for params in seen:
        np.testing.assert_array_equal(params["h->h@1"], base["h->h@1"])          # trainable: false
        assert params["x->h"][0, 1] == 0 and params["x->h"][1, 0] == 0           # masked entries
        for name in net.trainable:
            assert np.all(np.abs(params[name]) <= 2.0)
            assert not np.array_equal(params[name], base[name])                   # biases, initial too
    for name in net.trainable:                                                    # each trial is new
        assert not np.array_equal(seen[0][name], seen[1][name])
    np.testing.assert_array_equal(result.params["h.initial"], seen[2]["h.initial"])


def test_the_criterion_cannot_corrupt_later_trials():
    net = gr.loads(MIXED)

    def vandal(net, params):
        params["h->h@1"][0, 0] = 99.0
        return True

    with pytest.raises(ValueError):
        guess(net, vandal, r=1.0, max_trials=3)


@pytest.mark.parametrize("scheme", ["uniform", "normal", "spec"])
def test_init_schemes_are_deterministic(scheme):
    net = gr.loads(MIXED)
    a = guess_params(net, 2, r=0.5, seed=1, init_scheme=scheme)
    b = guess_params(net, 2, r=0.5, seed=1, init_scheme=scheme)
    c = guess_params(net, 3, r=0.5, seed=1, init_scheme=scheme)
    for name in net.params:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["x->h"], c["x->h"])
    assert a["x->h"][0, 1] == 0
    np.testing.assert_array_equal(a["h->h@1"], net.init(1)["h->h@1"])


def test_end_error_below_reads_each_sequence_at_its_own_end():
    net = gr.loads(LATCH)
    params = net.init(0)
    x = np.random.default_rng(1).normal(size=(5, 3, 1))
    y = net.run(params, x).y
    lengths = np.array([5, 2, 4])
    target = y[lengths - 1, np.arange(3), 0]
    assert end_error_below(x, target, tol=1e-9, lengths=lengths)(net, params)
    assert not end_error_below(x, target + 0.2, tol=0.1, lengths=lengths)(net, params)
    assert not end_error_below(x, target, tol=1e-9)(net, params)     # all read at step 5


@pytest.mark.parametrize("kwargs", [{"r": 0}, {"r": -1.0}, {"r": float("inf")}, {"max_trials": 0},
                                    {"init_scheme": "glorot"}])
def test_bad_arguments_are_refused(kwargs):
    net = gr.loads(LATCH)
    with pytest.raises(ValueError):
        guess(net, lambda net, params: True, **kwargs)


def test_a_criterion_returning_an_array_is_refused(latch):
    net, x, sign = latch
    with pytest.raises(ValueError, match="one bool"):
        guess(net, lambda net, params: net.run(params, x).y[-1, :, 0] > 0, max_trials=2)
