"""Each generator encodes its paper's task exactly (markers, positions, classes, targets)."""
import itertools

import numpy as np
import pytest

from graphrnn.tasks import make_task
from graphrnn.tasks.temporal_order import SYMBOLS as TO_SYMBOLS


@pytest.mark.parametrize("name", ["adding", "multiplication", "delayed_xor"])
def test_marked_pairs(name):
    T = 20
    task = make_task(name, T=T)
    b = task.sample(0, 3000)
    cols = np.arange(b.size)
    assert b.lengths.min() == T and b.lengths.max() == T + T // 10
    for col in range(b.size):
        L = b.lengths[col]
        values, marker = b.x[:L, col, 0], b.x[:L, col, 1]
        marked = np.flatnonzero(marker == 1.0)
        assert len(marked) == 2
        first, second = b.info["first"][col], b.info["second"][col]
        assert set(marked) == {first, second} and 0 <= first < 10 and 0 <= second < T // 2
        expect = np.zeros(L)
        expect[0] = expect[L - 1] = -1.0
        expect[marked] = 1.0
        np.testing.assert_array_equal(marker, expect)
        assert b.mask[:, col].sum() == 1 and b.mask[L - 1, col] == 1
    ends = b.at_end(b.target)[:, 0]
    x1, x2 = b.x[b.info["first"], cols, 0], b.x[b.info["second"], cols, 0]
    at0 = (b.info["first"] == 0) | (b.info["second"] == 0)
    assert at0.any(), "the rare case (index 0 marked) occurs in 3000 draws"
    if name == "adding":
        assert (np.abs(b.x[..., 0]) <= 1).all()
        np.testing.assert_allclose(ends, 0.5 + (x1 + x2) / 4.0)
        assert (b.x[0, at0, 0] == 0.0).all(), "X set to zero when the first pair is marked"
        assert ends.min() >= 0.0 and ends.max() <= 1.0
    elif name == "multiplication":
        assert (b.x[..., 0] >= 0).all() and (b.x[..., 0] <= 1).all()
        np.testing.assert_allclose(ends, x1 * x2)
        assert (b.x[0, at0, 0] == 1.0).all(), "X set to 1.0 when the first pair is marked"
    else:
        real = np.arange(b.steps)[:, None] < b.lengths[None, :]
        assert set(np.unique(b.x[..., 0][real])) == {-1.0, 1.0}
        np.testing.assert_array_equal(ends, (x1 != x2).astype(float))
        assert 0.4 < ends.mean() < 0.6


@pytest.mark.parametrize("name, windows, classes", [
    ("temporal_order_6a", [(10, 20), (50, 60)], "QRSU"),
    ("temporal_order_6b", [(10, 20), (33, 43), (66, 76)], "QRSUVABC"),
])
def test_temporal_order(name, windows, classes):
    task = make_task(name)
    b = task.sample(0, 400)
    assert b.lengths.min() >= 100 and b.lengths.max() <= 110
    assert task.output_size == len(classes)
    rules = {}
    for col in range(b.size):
        L = b.lengths[col]
        seq = "".join(TO_SYMBOLS[i] for i in b.x[:L, col].argmax(axis=-1))
        assert seq[0] == "E" and seq[-1] == "B"
        where = [i + 1 for i, s in enumerate(seq) if s in "XY"]    # 1-based positions
        assert len(where) == len(windows)
        assert all(lo <= t <= hi for t, (lo, hi) in zip(where, windows))
        assert set(seq[1:-1]) - set("XY") <= set("abcd")
        label = classes[int(b.target[L - 1, col].argmax())]
        np.testing.assert_array_equal(b.target[L - 1, col], np.eye(len(classes))[classes.index(label)])
        rules.setdefault("".join(seq[t - 1] for t in where), set()).add(label)
    order = ["".join(p) for p in itertools.product("XY", repeat=len(windows))]   # XX.., XY.., in order
    assert {k: v.pop() for k, v in rules.items() if len(v) == 1} == dict(zip(order, classes))


def test_long_lag_2a_has_two_sequences():
    p = 8
    task = make_task("long_lag_2a", p=p)
    b = task.sample(0, 200)
    seqs = {tuple(s) for s in b.info["symbols"]}
    assert seqs == {tuple([p - 1] + list(range(p - 1)) + [p - 1]), tuple([p] + list(range(p - 1)) + [p])}
    assert b.x.shape == (p, 200, p + 1) and b.mask.all()
    np.testing.assert_array_equal(b.x[1:], b.target[:-1])           # predict the next input
    np.testing.assert_array_equal(b.target[-1], b.x[0])              # ... and finally the first one


def test_long_lag_2b_random_middle():
    p = 8
    task = make_task("long_lag_2b", p=p)
    b = task.sample(0, 300)
    first = b.x[0].argmax(-1)
    assert set(first) == {p - 1, p}
    middle = b.x[1:].argmax(-1)
    assert middle.max() < p - 1 and len(np.unique(middle)) == p - 1
    np.testing.assert_array_equal(b.target[-1].argmax(-1), first)
    np.testing.assert_array_equal(b.x[1:], b.target[:-1])


def test_long_lag_2c():
    p, q = 6, 12
    task = make_task("long_lag_2c", p=p, q=q)
    assert (task.input_size, task.output_size) == (p + 4, 2)
    b = task.sample(0, 2000)
    e, start, x = p, p + 1, p + 2
    assert b.lengths.min() >= q + 3
    # full sequences are q + k + 4 long; the generator's mean is q + 13 (input: one less)
    assert abs(b.lengths.mean() + 1 - (q + 13)) < 1.0
    for col in range(b.size):
        L = b.lengths[col]
        sym = b.x[:L, col].argmax(-1)
        assert sym[0] == start and sym[1] in (x, x + 1) and sym[-1] == e
        assert (sym[2:-1] < p).all(), "distractors in between, no e before the end"
        np.testing.assert_array_equal(b.target[L - 1, col], np.eye(2)[sym[1] - x])
        assert b.mask[:, col].sum() == 1


def test_parity():
    task = make_task("parity", min_length=30, max_length=40, train_size=20, test_size=10)
    for b in (task.train, task.test, task.sample(0, 15)):
        for col in range(b.size):
            L = b.lengths[col]
            assert 30 <= L <= 40
            bits = b.x[:L, col, 0]
            assert set(np.unique(bits)) <= {-1.0, 1.0}
            assert b.target[L - 1, col, 0] == (np.sum(bits == 1.0) % 2)
    assert task.train.info["classes"].sum() == 10, "50/50 classes"
    noisy = make_task("parity", min_length=30, max_length=40, train_size=20, test_size=10, noise=0.2)
    real = np.arange(noisy.train.steps)[:, None] < noisy.train.lengths[None, :]
    v = noisy.train.x[..., 0][real]
    assert (np.abs(np.abs(v) - 1.0) <= 0.2).all() and not set(np.unique(v)) <= {-1.0, 1.0}


def test_latch():
    task = make_task("latch", min_length=50, max_length=60, train_size=200, test_size=10)
    b = task.train
    first = b.x[0, :, 0]
    assert set(np.unique(first)) == {-1.0, 1.0} and first.sum() == 0
    np.testing.assert_array_equal(b.at_end(b.target)[:, 0], first)          # targets 1.0 / -1.0
    real = np.arange(b.steps)[:, None] < b.lengths[None, :]
    real[0] = False
    noise = b.x[..., 0][real]
    assert abs(noise.mean()) < 0.02 and abs(noise.var() - 0.2) < 0.02      # N(0, variance 0.2)
    logistic = make_task("latch", min_length=50, max_length=60, train_size=10, test_size=10,
                         targets=(1.0, 0.0))
    assert set(np.unique(logistic.train.at_end(logistic.train.target))) == {0.0, 1.0}
    quiet = make_task("latch", min_length=50, max_length=60, train_size=200, test_size=10, noise_std=0.1)
    real = np.arange(quiet.train.steps)[:, None] < quiet.train.lengths[None, :]
    real[0] = False
    assert abs(quiet.train.x[..., 0][real].std() - 0.1) < 0.005   # the other reading: std 0.1


def test_guessing_sets_are_drawn_on_first_use_and_the_same_as_drawn_at_once():
    # checking an experiment's options draws nothing: ten million sequences only cost when used
    huge = make_task("parity", train_size=10_000_000, max_length=10_000_000)
    assert huge._sets is None
    lazy = make_task("latch", min_length=20, max_length=30, train_size=12, test_size=6, data_seed=3)
    test_first = lazy.test                                 # the test set first: the same draws
    rng = np.random.default_rng(3)
    train, test = lazy._balanced(rng, 12), lazy._balanced(rng, 6)
    np.testing.assert_array_equal(lazy.train.x, train.x)
    np.testing.assert_array_equal(test_first.x, test.x)
    assert lazy.train is lazy.train                        # drawn once
