"""compress / reconstruct: exact for any sequence whatever the weights; events against a numpy oracle."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphrnn.models import ArgmaxSurprise, Compressed, LevelEvents, ThresholdSurprise

from .helpers import compressor, elman, elman_predictions

I, C = 3, 10        # symbols / units, time-code places (longest sequence)
NETS = [elman(I, I, name="level0")] + [elman(I + C, I, name=f"level{k}") for k in (1, 2)]
FLAT = [elman(I, I, name="flat")]   # higher levels without time codes read I units
PLAIN = [NETS[0], elman(I, I, name="plain1"), elman(I, I, name="plain2")]


@st.composite
def setups(draw):
    criterion = draw(st.sampled_from(["argmax", "threshold"]))
    T = draw(st.integers(1, C))
    if criterion == "argmax":
        x = np.eye(I)[draw(st.lists(st.integers(0, I - 1), min_size=T, max_size=T))]
    else:
        x = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=I, max_size=I), min_size=T,
                                   max_size=T)), dtype=float)
    levels = draw(st.integers(1, 3))
    codes = draw(st.booleans())
    nets = (NETS if codes else PLAIN)[:levels]
    # large weights give confident, often right-by-chance predictions: events are then sparse
    hc = compressor(nets, draw(st.integers(0, 10_000)), draw(st.sampled_from([0.1, 1.0, 5.0, 30.0])),
                    criterion, C if codes else 0)
    return hc, x


@given(setups())
def test_reconstruction_is_exact_for_any_sequence_and_weights(setup):
    hc, x = setup
    packed = hc.compress_one(x)
    assert np.array_equal(hc.reconstruct_one(packed), x)
    # reconstruction reads only the length, the steps and the top level's values
    blank = Compressed(packed.length, tuple(
        LevelEvents(e.steps, np.zeros_like(e.times), e.values if k == len(packed.levels) - 1
                    else np.full_like(e.values, 7.0)) for k, e in enumerate(packed.levels)))
    assert np.array_equal(hc.reconstruct_one(blank), x)


@given(setups())
def test_each_level_reads_the_events_of_the_level_below(setup):
    hc, x = setup
    packed = hc.compress_one(x)
    stream, times = x, np.arange(len(x))
    for events in packed.levels:
        assert events.steps[0] == 0                        # the first input is never predicted
        assert np.array_equal(events.values, stream[events.steps])
        assert np.array_equal(events.times, times[events.steps])
        stream, times = events.values, events.times
    for k, (t, inputs) in enumerate(hc.level_streams(x)[1:], start=1):
        below = packed.levels[k - 1]
        assert np.array_equal(t, below.times) and np.array_equal(inputs[:, :I], below.values)
        if hc.time_codes:
            assert np.array_equal(np.argmax(inputs[:, I:], axis=1), below.times)


def oracle_events(params, x, criterion) -> list[int]:
    """Event steps of one level by a direct numpy loop: x_0, and every x_t its prediction misses."""
    y = elman_predictions(params, x)
    steps = [0]
    for t in range(1, len(x)):
        if criterion == "argmax":
            wrong = np.argmax(y[t - 1]) != np.argmax(x[t])
        else:
            wrong = np.max(np.abs(y[t - 1] - x[t])) > 0.3
        if wrong:
            steps.append(t)
    return steps


@pytest.mark.parametrize("criterion", ["argmax", "threshold"])
@pytest.mark.parametrize("seed", range(4))
def test_level0_events_match_a_numpy_loop(criterion, seed):
    hc = compressor(NETS[:1], seed, 3.0, criterion, 0)
    rng = np.random.default_rng(seed)
    x = np.eye(I)[rng.integers(0, I, size=C)] if criterion == "argmax" else \
        rng.integers(0, 2, size=(C, I)).astype(float)
    events = hc.compress_one(x).levels[0]
    assert events.steps.tolist() == oracle_events(hc.levels[0].params, x, criterion)


def test_a_perfect_predictor_passes_up_only_the_first_input():
    """Weights that copy the input predict a constant sequence: one event."""
    hc = compressor(FLAT, 0, 0.0, "argmax", 0)
    params = hc.levels[0].params
    params["x->h"] = np.eye(I, 5) * 10.0
    params["h->y"] = np.eye(5, I) * 10.0
    x = np.eye(I)[[1] * 6]
    packed = hc.compress_one(x)
    assert packed.levels[0].steps.tolist() == [0]
    assert np.array_equal(hc.reconstruct_one(packed), x)


def test_criteria_decode_what_they_accept():
    y = np.array([0.1, 0.8, 0.6])
    assert ArgmaxSurprise().decode(y).tolist() == [0, 1, 0]
    assert not ArgmaxSurprise().surprised(y, np.array([0, 1.0, 0]))
    assert ThresholdSurprise(0.45).decode(y).tolist() == [0, 1, 1]
    assert ThresholdSurprise(0.45).surprised(y, np.array([0, 1.0, 0]))      # 0.6 is 0.6 off
    assert not ThresholdSurprise(0.45).surprised(y, np.array([0, 1.0, 1]))
    with pytest.raises(ValueError):
        ThresholdSurprise(0.5)


def test_compress_and_reconstruct_lists():
    hc = compressor(NETS[:2], 1, 2.0, "argmax", C)
    xs = [np.eye(I)[[0, 1, 2, 0]], np.eye(I)[[2, 2]]]
    assert all(np.array_equal(a, b) for a, b in zip(hc.reconstruct(hc.compress(xs)), xs))
