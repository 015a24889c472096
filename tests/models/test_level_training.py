"""Level-by-level training: batches of event streams, freezing on a plateau, frozen lower levels."""
from __future__ import annotations

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.models import level_streams, stream_batch, time_code, train_hierarchy, train_level
from graphrnn.train import SGD, Adam

from .helpers import compressor, elman

I, C = 3, 8


def sample(rng, n):
    """Sequences 'f, 2, 2, 2, g' over 3 symbols, f and g random 0 or 1: level 0 can learn the middle only."""
    ends = rng.integers(0, 2, size=(n, 2))
    return [np.eye(I)[[f, 2, 2, 2, g]] for f, g in ends]


def test_stream_batch_shifts_and_masks():
    a = np.arange(8.0).reshape(4, 2)
    b = np.arange(2.0).reshape(1, 2) + 100
    x, target, mask = stream_batch([a, b], output_size=1)
    assert x.shape == (3, 2, 2) and target.shape == (3, 2, 1)
    assert np.array_equal(x[:, 0], a[:-1]) and np.array_equal(target[:, 0, 0], a[1:, 0])
    assert mask[:, 0].tolist() == [1, 1, 1] and mask[:, 1].tolist() == [0, 0, 0]   # nothing to predict


def test_level_streams_are_the_events_of_the_levels_below():
    hc = compressor([elman(I, I), elman(I + C, I, name="q")], 2, 3.0, "argmax", C)
    seqs = sample(np.random.default_rng(0), 3)
    memo = {}
    for s, stream in zip(seqs, level_streams(hc, 1, seqs, memo)):
        events = hc.compress_one(s).levels[0]
        assert np.array_equal(stream, np.concatenate([events.values, time_code(events.times, C)], axis=1))
    assert len(memo) == len({s.tobytes() for s in seqs})
    assert np.array_equal(level_streams(hc, 0, seqs)[0], seqs[0])


def test_a_level_that_stops_improving_is_frozen():
    hc = compressor([elman(I, I)], 0, 1.0, "argmax", 0)
    before = dict(hc.levels[0].params)
    result = train_level(hc, 0, sample, optimizer=SGD(lr=1e-12), batch=4, max_sequences=10_000,
                         evaluate_every=8, patience=3, min_improvement=0.5)
    assert result.why == "plateau"
    assert result.sequences == 8 * 4           # first test sets the best, three more without progress
    assert len(result.history) == 4
    assert all(np.allclose(before[k], hc.levels[0].params[k], rtol=0, atol=1e-9) for k in before)


def test_training_lowers_the_loss_and_keeps_lower_levels_frozen():
    hc = compressor([elman(I, I), elman(I + C, I, name="q")], 1, 1.0, "threshold", C)
    training = {"optimizer": Adam(lr=0.05), "batch": 8, "max_sequences": 800, "evaluate_every": 80,
                "patience": 50, "min_improvement": 0.0}
    results = train_hierarchy(hc, sample, training, losses=["bce", "bce"])
    assert [r.why for r in results] == ["budget", "budget"]
    for r in results:
        assert r.history[-1][1] < r.history[0][1]
    level0 = dict(hc.levels[0].params)
    train_level(hc, 1, sample, optimizer=Adam(lr=0.05), batch=8, max_sequences=80, evaluate_every=80)
    assert all(np.array_equal(level0[k], hc.levels[0].params[k]) for k in level0)
    # after training level 0 predicts the middle symbols: they are no longer passed up
    events = hc.compress_one(np.eye(I)[[0, 2, 2, 2, 1]]).levels[0]
    assert events.steps.tolist() in ([0, 1, 4], [0, 4])


def test_stop_callback_ends_a_level():
    hc = compressor([elman(I, I)], 0, 1.0, "argmax", 0)
    result = train_level(hc, 0, sample, optimizer=Adam(lr=0.01), batch=4, max_sequences=400, evaluate_every=8,
                         stop=lambda seen: seen >= 16)
    assert result.why == "stopped" and result.sequences == 16


def test_non_finite_loss_is_gr301():
    hc = compressor([elman(I, I)], 0, 1.0, "argmax", 0)
    hc.levels[0].params["h.bias"] = np.full(5, np.nan)
    with pytest.raises(gr.TrainError) as info:
        train_level(hc, 0, sample, optimizer=SGD(lr=0.1), batch=2, max_sequences=4, evaluate_every=2)
    assert info.value.code == "GR301"
