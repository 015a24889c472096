"""Each success criterion accepts ideal ("oracle") outputs and rejects wrong ones; the monitors."""
from types import SimpleNamespace

import numpy as np
import pytest

from graphrnn.tasks import Evaluation, make_task


def wrong_copy(batch, cols=(0,)):
    """The ideal outputs with the last judged step of the sequences ``cols`` inverted (1 - target)."""
    y = batch.target.copy()
    for col in cols:
        t = int(np.flatnonzero(batch.mask[:, col])[-1])
        y[t, col] = 1.0 - batch.target[t, col]
    return y


def test_oracle_outputs_are_accepted(task):
    b = task.sample(0, 12)
    ev = task.evaluate_outputs(b, b.target)
    assert isinstance(ev, Evaluation) and ev.solved and bool(ev)
    assert str(ev).startswith("solved:") and "\n" not in str(ev)
    correct, error = task.sequence_results(b, b.target)
    assert correct.all() and np.allclose(error, 0.0)


def test_a_wrong_output_is_rejected(task):
    b = task.sample(0, 12)
    correct, _ = task.sequence_results(b, wrong_copy(b, cols=[3]))
    assert not correct[3] and correct[np.arange(12) != 3].all()
    tolerated = getattr(task, "max_wrong", 0)            # test-set tasks allow a few wrong sequences
    ev = task.evaluate_outputs(b, wrong_copy(b, cols=range(tolerated + 1)))
    assert not ev.solved and str(ev).startswith("not solved:")


def test_outputs_must_have_the_target_shape(task):
    b = task.sample(0, 4)
    with pytest.raises(ValueError, match="expected"):
        task.evaluate_outputs(b, b.target[:, :2])


def end_shifted(b, delta, cols):
    y = b.target.copy()
    y[b.lengths[cols] - 1, cols] += delta
    return y


@pytest.mark.parametrize("name, tol", [("adding", 0.04), ("multiplication", 0.04), ("delayed_xor", 0.3),
                                       ("temporal_order_6a", 0.3), ("long_lag_2b", 0.25),
                                       ("long_lag_2c", 0.2), ("parity", 0.1), ("latch", 0.1)])
def test_end_tolerances_are_the_papers(name, tol, small):
    task = make_task(name, **small[name])
    b = task.sample(0, 6)
    cols = np.arange(6)
    assert task.evaluate_outputs(b, end_shifted(b, 0.98 * tol, cols)).solved
    correct, _ = task.sequence_results(b, end_shifted(b, 1.02 * tol, cols[:1]))
    assert list(correct) == [False] + [True] * 5
    correct, _ = task.sequence_results(b, end_shifted(b, -1.02 * tol, cols[1:2]))
    assert list(correct) == [True, False] + [True] * 4


def test_long_lag_2a_is_judged_at_every_step():
    task = make_task("long_lag_2a", p=6)
    b = task.sample(0, 4)
    y = b.target.copy()
    y[2, 1, 3] += 0.24
    assert task.evaluate_outputs(b, y).solved
    y[2, 1, 3] += 0.02
    assert not task.evaluate_outputs(b, y).solved
    b2 = make_task("long_lag_2b", p=6).sample(0, 4)
    y2 = b2.target.copy()
    y2[2] = 0.5                                         # 2b: only the end counts
    assert make_task("long_lag_2b", p=6).evaluate_outputs(b2, y2).solved


def test_reber_criterion_is_most_active_units():
    task = make_task("embedded_reber", train_size=8, test_size=8)
    b = task.sample(0, 8)
    assert task.evaluate_outputs(b, 0.4 * b.target + 0.1).solved      # legal units most active
    y = b.target.copy()
    t = int(b.lengths[0]) - 1                            # predicting E: one legal symbol
    y[t, 0] = 1.0                                        # a tie with every other unit
    ev = task.evaluate_outputs(b, y)
    assert not ev.solved and ev.metrics["strings_wrong"] == 1 and ev.metrics["symbols_wrong"] == 1


def test_continual_reber_summed_squared_error():
    task = make_task("continual_embedded_reber", length=20)
    b = task.sample(0, 2)
    y = b.target.copy()
    y[5, 0, 0] += 0.69                                    # 0.476 < 0.49
    assert task.evaluate_outputs(b, y).solved
    y[5, 0, 1] += 0.2                                     # + 0.04: summed 0.516
    ev = task.evaluate_outputs(b, y)
    assert not ev.solved and ev.metrics["mean_run"] == (5 + 20) / 2
    assert not task.evaluate_outputs(b, np.full_like(y, 0.5)).solved   # no constant-output loophole


def test_at_most_max_wrong_of_the_test_set():
    task = make_task("adding", T=20, max_wrong=3)
    b = task.sample(0, 200)
    assert task.evaluate_outputs(b, end_shifted(b, 0.05, np.arange(3))).solved
    ev = task.evaluate_outputs(b, end_shifted(b, 0.05, np.arange(4)))
    assert not ev.solved and ev.metrics["wrong"] == 4 and ev.metrics["of"] == 200


def test_average_error_bound_and_its_measure():
    b = make_task("adding", T=20).sample(0, 50)
    y = end_shifted(b, 0.03, np.arange(50))              # all correct, squared error 0.0009
    assert make_task("adding", T=20).evaluate_outputs(b, y).solved
    ev = make_task("adding", T=20, error_measure="mae").evaluate_outputs(b, y)
    assert not ev.solved and ev.metrics["wrong"] == 0    # absolute error 0.03 >= 0.01


def test_multiplication_test_bounds_follow_n_seq():
    assert make_task("multiplication").max_wrong == 170
    assert make_task("multiplication", n_seq=13).max_wrong == 15
    assert make_task("multiplication", n_seq=50, max_wrong=60).max_wrong == 60


# -- monitors -------------------------------------------------------------------------------------

def feed(monitor, task, n, seed, wrong=(), delta=0.0, batch=250):
    rng, verdict = np.random.default_rng(seed), None
    for start in range(0, n, batch):
        b = task.sample(rng, min(batch, n - start))
        cols = np.array([c - start for c in wrong if start <= c < start + b.size], dtype=int)
        y = end_shifted(b, delta, np.arange(b.size)) if delta else b.target.copy()
        if len(cols):
            y = end_shifted(b, 0.5, cols) if not delta else y + end_shifted(b, 0.5, cols) - b.target
        verdict = monitor.update(b, y)
    return verdict


def test_recent_2000_processed_correctly():
    task = make_task("adding", T=20)
    m = task.monitor()
    assert feed(m, task, 1999, 0) is False, "fewer than 2000 seen"
    assert feed(m, task, 1, 1) is True
    assert feed(m, task, 10, 2, wrong=[4]) is False
    assert feed(m, task, 1990, 3) is False and m.wrong == 1
    assert feed(m, task, 10, 4) is True and m.seen == 4010
    saved = m.state_dict()
    other = task.monitor()
    other.load_state_dict(saved)
    assert other.met and other.seen == m.seen and list(other.correct) == list(m.correct)


def test_average_training_error_is_part_of_the_stop():
    task = make_task("adding", T=20, error_measure="mae")
    m = task.monitor()
    assert feed(m, task, 2000, 0, delta=0.03) is False    # all correct, average |error| 0.03
    m2 = make_task("adding", T=20).monitor()
    assert feed(m2, make_task("adding", T=20), 2000, 0, delta=0.03) is True


def test_multiplication_stop_counts_fewer_than_n_seq_wrong():
    task = make_task("multiplication", T=20, n_seq=13)
    m = task.monitor()
    assert feed(m, task, 2000, 0, wrong=range(12)) is True
    m = task.monitor()
    assert feed(m, task, 2000, 0, wrong=range(13)) is False


def test_long_lag_monitor_window_is_10000():
    task = make_task("long_lag_2b", p=4)
    m = task.monitor()
    assert m.window == 10_000
    b = task.sample(0, 9999)
    assert m.update(b, b.target) is False
    b = task.sample(1, 1)
    assert m.update(b, b.target) is True


def test_long_lag_2a_is_judged_by_its_test_not_by_a_window():
    """Table 2 reports success after 5,040 sequences on average, before a 10,000-sequence window
    could fill; the test itself runs two sequences."""
    assert make_task("long_lag_2a", p=4).monitor() is None
    assert make_task("long_lag_2c", p=4, q=4).monitor().window == 10_000


def test_tasks_without_history_criterion():
    assert make_task("embedded_reber", train_size=4, test_size=4).monitor() is None
    assert make_task("parity", min_length=5, max_length=6, train_size=4, test_size=4).monitor() is None


def test_continual_monitor_ends_the_stream_at_the_first_error():
    task = make_task("continual_embedded_reber", length=50, max_symbols=120)
    assert task.monitor() is None, "ending a stream is not a training-history criterion"
    m = task.stream_protocol()
    stream = task.stream(0, 2)
    b = stream.next(50)
    assert m.update(b, b.target) is False
    b = stream.next(50)
    y = b.target.copy()
    y[7, 1] = 1.0 - y[7, 1]
    assert m.update(b, y) is True and m.errored and list(m.run) == [100, 57]
    m.reset()
    for _ in range(2):
        b = stream.next(50)
        assert m.update(b, b.target) is False
    b = stream.next(50)
    assert m.update(b, b.target) is True, "max_symbols reached"
    other = task.stream_protocol()
    other.load_state_dict(m.state_dict())
    assert list(other.run) == [150, 150]


# -- success() end to end, with hand-written oracle "networks" ---------------------------------

class Oracle:
    """A stand-in for a Network whose outputs are computed by ``fn(x) -> y``."""

    name = "oracle"

    def __init__(self, task, fn):
        self.input_size, self.output_size, self.fn, self.calls = task.input_size, task.output_size, fn, 0

    def run(self, params, x, state=None):
        self.calls += 1
        return SimpleNamespace(y=self.fn(np.asarray(x)), state=None)


def adding_oracle(x):
    return (0.5 + np.cumsum(x[..., 0] * (x[..., 1] == 1.0), axis=0) / 4.0)[..., None]


def parity_oracle(x):
    return (np.cumsum(x[..., 0] > 0, axis=0) % 2).astype(float)[..., None]


def temporal_oracle(x):
    xy = x[..., 2:4]                                     # X, Y units
    seen = np.cumsum(xy.sum(-1), axis=0)
    first = np.argmax(xy.sum(-1) > 0, axis=0)
    second = np.argmax(seen >= 2, axis=0)
    cols = np.arange(x.shape[1])
    label = 2 * xy[first, cols, 1] + xy[second, cols, 1]
    return np.broadcast_to(np.eye(4)[label.astype(int)], x.shape[:2] + (4,))


def lag2a_oracle(x):
    T, B, P = x.shape
    y = np.zeros_like(x)
    y[:-1] = x[1:]
    y[-1] = x[0]
    return y


@pytest.mark.parametrize("name, options, fn", [
    ("adding", {"T": 20, "test_size": 300}, adding_oracle),
    ("parity", {"min_length": 20, "max_length": 30, "train_size": 10, "test_size": 10}, parity_oracle),
    ("temporal_order_6a", {"test_size": 300}, temporal_oracle),
    ("long_lag_2a", {"p": 5, "test_size": 1000}, lag2a_oracle),
])
def test_success_end_to_end(name, options, fn):
    task = make_task(name, **options)
    net = Oracle(task, fn)
    ev = task.success(net, None, 0)
    assert ev.solved, str(ev)
    bad = Oracle(task, lambda x: 1.0 - fn(x))
    assert not task.success(bad, None, 0).solved


def test_long_lag_2a_runs_only_the_distinct_sequences():
    task = make_task("long_lag_2a", p=5, test_size=10_000)
    net = Oracle(task, lag2a_oracle)
    task.eval_batch = 4
    ev = task.success(net, None, 0)
    assert ev.solved and ev.metrics["of"] == 10_000 and net.calls == 1


def test_long_lag_2a_test_counts_every_drawn_copy_of_a_wrong_sequence():
    """An oracle wrong only on the sequences that start with x: the test counts exactly the draws
    that start with x, as running all 10,000 would."""
    task = make_task("long_lag_2a", p=5, test_size=10_000)
    x_unit = task.p - 1

    def wrong_after_x(x):
        y = lag2a_oracle(x)
        y[-1, x[0, :, x_unit] == 1.0] = 0.5
        return y
    ev = task.success(Oracle(task, wrong_after_x), None, 3)
    drawn = task._symbols(np.random.default_rng(3), 10_000)
    assert ev.metrics["wrong"] == int(np.sum(drawn[0] == x_unit)) and 4000 < ev.metrics["wrong"] < 6000
    assert not ev.solved


def test_guessing_criterion_for_graphrnn_train_guess():
    task = make_task("parity", min_length=20, max_length=30, train_size=10, test_size=10)
    assert task.criterion()(Oracle(task, parity_oracle), None) is True
    assert task.criterion()(Oracle(task, lambda x: 1 - parity_oracle(x)), None) is False
    ev = task.success(Oracle(task, parity_oracle), None)
    assert ev.metrics["test_wrong"] == 0 and ev.metrics["train_wrong"] == 0
