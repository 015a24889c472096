"""Collapse into chunker + automatizer: the chunker-state targets and the three-term loss, against oracles."""
from __future__ import annotations

import numpy as np
import pytest
from autograd import grad

import graphrnn as gr
from graphrnn.models import (CollapseSpec, ThresholdSurprise, automatizer_init, automatizer_loss, collapse_targets,
                             events_per_sequence, train_automatizer)
from graphrnn.train import Adam

from .helpers import compressor, elman, elman_hidden, elman_predictions

I, C, H = 3, 8, 5

def automatizer_net(hidden: int, name: str):
    """An automatizer with ``hidden`` units predicting the next input and the chunker's state."""
    return gr.loads(f"""
graphrnn: 1
name: {name}
inputs: {{x: {I}}}
outputs: {{next: {I}, chunker: {H}}}
nodes:
  h: {{size: {hidden}, activation: tanh}}
  next: {{size: {I}, activation: sigmoid}}
  chunker: {{size: {H}, activation: tanh}}
edges:
  - {{from: x, to: h}}
  - {{from: h, to: h, delay: 1}}
  - {{from: h, to: [next, chunker]}}
""", f"{name}.yaml")


AUTOMATIZER = automatizer_net(4, "auto")


def hierarchy(seed=0):
    return compressor([elman(I, I), elman(I + C, I, hidden=H, name="chunker")], seed, 3.0, "argmax", C)


def sample(rng, n):
    return [np.eye(I)[rng.integers(0, I, size=6)] for _ in range(n)]


@pytest.mark.parametrize("seed", range(3))
def test_chunker_targets_hold_between_events(seed):
    """Oracle: numpy loops for level 0's events and the chunker's hidden states, held between events."""
    hc = hierarchy(seed)
    x = np.eye(I)[np.random.default_rng(seed).integers(0, I, size=C)]
    y0 = elman_predictions(hc.levels[0].params, x)
    steps = [0] + [t for t in range(1, C) if np.argmax(y0[t - 1]) != np.argmax(x[t])]
    stream = np.concatenate([x[steps], np.eye(C)[steps]], axis=1)
    states = elman_hidden(hc.levels[1].params, stream)
    want = np.array([states[max(i for i, s in enumerate(steps) if s <= t)] for t in range(C)])
    np.testing.assert_allclose(collapse_targets(hc, x, "h"), want, rtol=0, atol=1e-12)


def numpy_loss(params, x, nxt, chunk, w_next, w_distill):
    """Oracle: the automatizer by a numpy loop, and the two mean squared errors."""
    T, B, _ = x.shape
    total_next = total_chunk = 0.0
    for b in range(B):
        h = np.zeros(4)
        for t in range(T):
            h = np.tanh(x[t, b] @ params["x->h"] + h @ params["h->h@1"] + params["h.bias"])
            y = 1 / (1 + np.exp(-(h @ params["h->next"] + params["next.bias"])))
            c = np.tanh(h @ params["h->chunker"] + params["chunker.bias"])
            total_next += np.mean((y - nxt[t, b]) ** 2)
            total_chunk += np.mean((c - chunk[t, b]) ** 2)
    return (w_next * total_next + w_distill * total_chunk) / (T * B)


def data(seed=0, T=5, B=2):
    rng = np.random.default_rng(seed)
    return rng.random((T, B, I)), rng.random((T, B, I)), rng.uniform(-1, 1, (T, B, H))


def test_loss_matches_a_numpy_loop():
    params = AUTOMATIZER.init(1)
    x, nxt, chunk = data()
    got = automatizer_loss(AUTOMATIZER, params, x, nxt, chunk, w_next=0.7, w_distill=1.3)
    assert got == pytest.approx(numpy_loss(params, x, nxt, chunk, 0.7, 1.3), rel=1e-12)


@pytest.mark.parametrize("w_next, w_distill", [(0.0, 1.0), (1.0, 0.5)])
def test_gradient_matches_finite_differences(w_next, w_distill):
    """Central differences in float64 on every parameter; the (0, 1) case is the distillation term alone."""
    params = AUTOMATIZER.init(2)
    x, nxt, chunk = data(3)
    g = grad(lambda p: automatizer_loss(AUTOMATIZER, p, x, nxt, chunk, w_next=w_next, w_distill=w_distill))(params)
    eps = 1e-6
    for name, value in params.items():
        for index in list(np.ndindex(value.shape))[:6]:
            plus, minus = dict(params), dict(params)
            plus[name], minus[name] = value.copy(), value.copy()
            plus[name][index] += eps
            minus[name][index] -= eps
            fd = (numpy_loss(plus, x, nxt, chunk, w_next, w_distill)
                  - numpy_loss(minus, x, nxt, chunk, w_next, w_distill)) / (2 * eps)
            assert abs(g[name][index] - fd) <= 1e-7 * max(1.0, abs(fd)), (name, index, g[name][index], fd)


def test_training_the_automatizer_lowers_its_loss():
    hc = hierarchy(1)
    spec = CollapseSpec(AUTOMATIZER, "h", 1.0, 1.0, 1.0)
    params, history = train_automatizer(hc, spec, sample, Adam(lr=0.05), sequences=400, batch=8)
    first, last = np.mean([v for _, v in history[:5]]), np.mean([v for _, v in history[-5:]])
    assert last < 0.7 * first
    assert set(params) == set(AUTOMATIZER.init(0))


def test_events_per_sequence_counts_surprises():
    params = AUTOMATIZER.init(4)
    x = np.eye(I)[[0, 1, 2, 2, 1]]
    y = np.asarray(AUTOMATIZER.run(params, x[:-1, None]).outputs["next"])[:, 0]
    want = 1 + sum(np.max(np.abs(y[t] - x[t + 1])) > 0.3 for t in range(4))
    assert events_per_sequence(AUTOMATIZER, params, ThresholdSurprise(0.3), x) == want


def test_gr133_collapse_of_a_single_level():
    hc = compressor([elman(I, I)], 0, 1.0, "argmax", 0)
    with pytest.raises(gr.RunError) as info:
        collapse_targets(hc, np.eye(I)[[0, 1]], "h")
    assert info.value.code == "GR133"


def test_automatizer_starts_from_level0():
    hc = hierarchy(5)
    level0 = hc.levels[0].params
    auto = AUTOMATIZER_FROM_LEVEL0
    params = automatizer_init(auto, hc.levels[0], seed=9)
    for name, source in [("x->h", "x->h"), ("h->h@1", "h->h@1"), ("h.bias", "h.bias"), ("h->next", "h->y"),
                         ("next.bias", "y.bias")]:
        assert np.array_equal(params[name], level0[source]), name
    fresh = auto.init(9)
    assert np.array_equal(params["h->chunker"], fresh["h->chunker"])
    # where the shapes differ (AUTOMATIZER has 4 hidden units, level 0 has 5) nothing is copied
    assert np.array_equal(automatizer_init(AUTOMATIZER, hc.levels[0], 9)["x->h"], AUTOMATIZER.init(9)["x->h"])


AUTOMATIZER_FROM_LEVEL0 = automatizer_net(5, "auto5")
