"""Every task's batches: time-major shapes, masks, padding, determinism, one-hot codes."""
import numpy as np
import pytest

from graphrnn.tasks import Batch

SYMBOLIC = {"embedded_reber", "continual_embedded_reber", "long_lag_2a", "long_lag_2b", "long_lag_2c",
            "temporal_order_6a", "temporal_order_6b"}


def test_shapes_and_masks(task):
    b = task.sample(np.random.default_rng(1), 7)
    assert isinstance(b, Batch)
    T = b.steps
    assert b.x.shape == (T, 7, task.input_size)
    assert b.target.shape == (T, 7, task.output_size)
    assert b.mask.shape == (T, 7) and b.lengths.shape == (7,)
    assert T == b.lengths.max() and b.lengths.min() >= 1
    assert set(np.unique(b.mask)) <= {0.0, 1.0}
    padding = np.arange(T)[:, None] >= b.lengths[None, :]
    assert not b.mask[padding].any(), "padding (at the end) has mask 0"
    assert not b.x[padding].any() and not b.target[padding].any()
    assert b.mask.sum(axis=0).min() >= 1, "every sequence has a target that counts"
    assert np.isfinite(b.x).all() and np.isfinite(b.target).all()


def test_same_seed_same_batch(task):
    a, b = task.sample(3, 5), task.sample(np.random.default_rng(3), 5)
    for name in ("x", "target", "mask", "lengths"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = task.sample(4, 5)
    assert a.x.shape != c.x.shape or not np.array_equal(a.x, c.x) or not np.array_equal(a.target, c.target) \
        or task.name == "long_lag_2a"   # 2a has only two sequences


def test_generator_is_advanced(task):
    rng = np.random.default_rng(0)
    a, b = task.sample(rng, 6), task.sample(rng, 6)
    if task.name not in ("long_lag_2a",):
        assert a.x.shape != b.x.shape or not np.array_equal(a.x, b.x)


def test_symbol_inputs_are_one_hot(task):
    if task.name not in SYMBOLIC:
        pytest.skip("real-valued inputs")
    b = task.sample(2, 9)
    real = np.arange(b.steps)[:, None] < b.lengths[None, :]
    assert set(np.unique(b.x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(b.x[real].sum(axis=-1), 1.0)


def test_targets_where_they_count_are_codes(task):
    b = task.sample(5, 9)
    counted = b.target[b.mask > 0]
    if task.name in SYMBOLIC - {"embedded_reber", "continual_embedded_reber"}:
        np.testing.assert_array_equal(counted.sum(axis=-1), 1.0)     # one-hot
    if task.name in ("embedded_reber", "continual_embedded_reber"):
        assert set(np.unique(counted)) <= {0.0, 1.0}
        assert counted.sum(axis=-1).min() >= 1 and counted.sum(axis=-1).max() <= 2


def test_batch_rejects_inconsistent_arrays():
    with pytest.raises(ValueError, match="inconsistent"):
        Batch(np.zeros((3, 2, 1)), np.zeros((3, 2, 1)), np.zeros((3, 3)), np.array([3, 3]))


def test_take_trims_to_the_longest(small):
    from graphrnn.tasks import make_task
    task = make_task("adding", **small["adding"])
    b = task.sample(0, 8)
    short = int(np.argmin(b.lengths))
    one = b.take(np.array([short]))
    assert one.steps == b.lengths[short] and one.size == 1
    np.testing.assert_array_equal(one.x[:, 0], b.x[:one.steps, short])


def test_take_keeps_the_info_aligned():
    from graphrnn.tasks import make_task
    task = make_task("embedded_reber", train_size=8, test_size=4)
    b = task.sample(0, 6)
    part = b.take(np.array([4, 1]))
    assert part.info["strings"] == [b.info["strings"][4], b.info["strings"][1]]
    assert part.steps == max(b.lengths[4], b.lengths[1])
