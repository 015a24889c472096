"""specs/elman.yaml against a hand-written numpy Elman network and hand-written BPTT.

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),   h_{-1} = 0
    y_t = sigmoid(h_t W_hy + b_y)
    loss = mean over all elements of (y - target)^2
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr

SPEC = Path(__file__).resolve().parents[2] / "specs" / "elman.yaml"
NAMES = ("x->h", "h->h@1", "h.bias", "h->y", "y.bias")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def elman_forward(p, x):
    """Hidden states (T, B, H) and outputs (T, B, O), one step at a time."""
    T, B, _ = x.shape
    W_xh, W_hh, b_h = p["x->h"], p["h->h@1"], p["h.bias"]
    W_hy, b_y = p["h->y"], p["y.bias"]
    h_prev = np.zeros((B, W_hh.shape[0]))
    hs, ys = [], []
    for t in range(T):
        h = np.tanh(x[t] @ W_xh + h_prev @ W_hh + b_h)
        y = sigmoid(h @ W_hy + b_y)
        hs.append(h)
        ys.append(y)
        h_prev = h
    return np.stack(hs), np.stack(ys)


def elman_bptt(p, x, target):
    """Loss and gradients of mean((y - target)^2), backpropagated through time by hand."""
    T, B, _ = x.shape
    hs, ys = elman_forward(p, x)
    W_hh, W_hy = p["h->h@1"], p["h->y"]
    loss = np.mean((ys - target) ** 2)
    dy = 2.0 * (ys - target) / ys.size
    do = dy * ys * (1.0 - ys)                   # through the sigmoid
    grads = {name: np.zeros_like(p[name]) for name in NAMES}
    da_next = np.zeros((B, W_hh.shape[0]))     # d loss / d pre-activation of h at t+1
    for t in reversed(range(T)):
        grads["h->y"] += hs[t].T @ do[t]
        grads["y.bias"] += do[t].sum(axis=0)
        dh = do[t] @ W_hy.T + da_next @ W_hh.T
        da = dh * (1.0 - hs[t] ** 2)            # through the tanh
        h_prev = hs[t - 1] if t > 0 else np.zeros_like(hs[0])
        grads["x->h"] += x[t].T @ da
        grads["h->h@1"] += h_prev.T @ da
        grads["h.bias"] += da.sum(axis=0)
        da_next = da
    return loss, grads


@pytest.fixture(scope="module")
def net():
    return gr.load(SPEC)


def _case(net, T, B, seed, perturb):
    rng = np.random.default_rng(seed)
    params = net.init(seed=0)
    if perturb:   # non-zero biases, so their paths are exercised too
        params = {k: v + rng.uniform(-0.3, 0.3, v.shape) for k, v in params.items()}
    x = rng.uniform(-1.0, 1.0, (T, B, 4))
    target = rng.uniform(0.0, 1.0, (T, B, 2))
    return params, x, target


def test_parameter_names(net):
    assert set(net.init(seed=0)) == set(NAMES)
    assert net.trainable == frozenset(NAMES)


@pytest.mark.parametrize("T,B,seed,perturb", [(1, 1, 0, False), (5, 3, 1, False), (7, 2, 2, True),
                                              (12, 4, 3, True)])
def test_outputs_match_hand_written_loop(net, T, B, seed, perturb):
    params, x, _ = _case(net, T, B, seed, perturb)
    hs, ys = elman_forward(params, x)
    trace = net.run(params, x)
    assert trace.y.shape == (T, B, 2)
    np.testing.assert_allclose(trace.y, ys, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace["h"], hs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("T,B,seed,perturb", [(1, 1, 0, False), (5, 3, 1, False), (7, 2, 2, True),
                                              (12, 4, 3, True)])
def test_gradients_match_hand_written_bptt(net, T, B, seed, perturb):
    params, x, target = _case(net, T, B, seed, perturb)
    want_loss, want = elman_bptt(params, x, target)
    np.testing.assert_allclose(net.loss(params, x, target, kind="mse"), want_loss, rtol=1e-12, atol=1e-12)
    got = net.grad(params, x, target, kind="mse")
    assert set(got) == set(NAMES)
    for name in NAMES:
        assert np.shape(got[name]) == np.shape(params[name]), name
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-10, err_msg=name)
