"""The jointly trained collapsed system: A's events, C's streams and targets, both gradients, against numpy oracles."""
from __future__ import annotations

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.models import ArgmaxSurprise, ThresholdSurprise, load_hierarchy
from graphrnn.models.joint import (JointSystem, automatizer_events, describe, joint_batch, joint_from_hierarchy,
                                   train_joint)
from graphrnn.tasks import make_task
from graphrnn.train import SGD, Adam

from .helpers import elman, elman_hidden, elman_predictions, scaled
from .test_collapse import AUTOMATIZER, H, I, numpy_loss

T = 7            # sequence length = the time code's width
HERE = __import__("pathlib").Path(__file__).resolve().parents[2]


def system(seed=0, scale=3.0, **weights) -> JointSystem:
    """Confident random weights (scale 3): some inputs predicted, some not."""
    chunker = elman(I + T, I, hidden=H, name="chunker")
    return JointSystem(AUTOMATIZER, chunker, scaled(AUTOMATIZER, seed, scale), scaled(chunker, seed + 1, scale),
                       ArgmaxSurprise(), ArgmaxSurprise(), "h", T, **weights)


def sequences(seed=0, B=5):
    """x (T, B, I): one-hot symbols, mostly repeats (predictable), so event counts vary."""
    rng = np.random.default_rng(seed)
    symbols = np.cumsum(rng.random((T, B)) < 0.3, axis=0) % I
    return np.eye(I)[symbols]


def automatizer_outputs(params, x):
    """Oracle: A by a numpy loop over one sequence x (n, I) -> (next (n, I), chunker (n, H))."""
    h, nxt, chunk = np.zeros(4), [], []
    for t in range(len(x)):
        h = np.tanh(x[t] @ params["x->h"] + h @ params["h->h@1"] + params["h.bias"])
        nxt.append(1 / (1 + np.exp(-(h @ params["h->next"] + params["next.bias"]))))
        chunk.append(np.tanh(h @ params["h->chunker"] + params["chunker.bias"]))
    return np.array(nxt), np.array(chunk)


def oracle(js: JointSystem, x):
    """Per sequence: A's event steps, C's stream, and A's held chunker targets (T, H), by loops."""
    out = []
    for b in range(x.shape[1]):
        y, _ = automatizer_outputs(js.a_params, x[:-1, b])
        steps = [0] + [t for t in range(1, T) if np.argmax(y[t - 1]) != np.argmax(x[t, b])]
        stream = np.concatenate([x[steps, b], np.eye(T)[steps]], axis=1)
        states = elman_hidden(js.c_params, stream)
        held = np.array([states[max(i for i, s in enumerate(steps) if s <= t)] for t in range(T)])
        out.append((steps, stream, held))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_events_streams_and_targets_match_numpy_loops(seed):
    js, x = system(seed), sequences(seed)
    work, want = joint_batch(js, x), oracle(js, x)
    assert [list(t) for t in work.times] == [steps for steps, _, _ in want]
    assert {len(t) for t in work.times} != {1}          # the case is not trivial: some inputs are events
    for b, (_, stream, held) in enumerate(want):
        np.testing.assert_array_equal(work.streams[b], stream)
        np.testing.assert_allclose(work.chunk[:, b], held, rtol=0, atol=1e-12)
    assert [list(t) for t in automatizer_events(js, x)] == [steps for steps, _, _ in want]


def _check_against_fd(gradient, params, loss, entries=5, eps=1e-6):
    _, grads, _ = gradient(params)
    for name, value in params.items():
        for index in list(np.ndindex(value.shape))[:entries]:
            plus, minus = dict(params), dict(params)
            plus[name], minus[name] = value.copy(), value.copy()
            plus[name][index] += eps
            minus[name][index] -= eps
            fd = (loss(plus) - loss(minus)) / (2 * eps)
            assert abs(grads[name][index] - fd) <= 1e-7 * max(1.0, abs(fd)), (name, index, grads[name][index], fd)


def test_automatizer_gradient_matches_finite_differences():
    """A's objective with the held targets fixed: its next inputs and C's states, weights 0.7 and 1.3."""
    js, x = system(1, w_next=0.7, w_distill=1.3), sequences(1)
    chunk = np.stack([held for _, _, held in oracle(js, x)], axis=1)
    loss = lambda p: numpy_loss(p, x[:-1], x[1:], chunk[:-1], 0.7, 1.3)      # noqa: E731
    _check_against_fd(joint_batch(js, x).a_gradient, js.a_params, loss)


def test_chunker_gradient_matches_finite_differences():
    """C learns each event from the events before it: mean squared error over the predicted events."""
    js, x = system(2), sequences(2)
    streams = [stream for _, stream, _ in oracle(js, x)]

    def loss(p):
        errors = [np.mean((elman_predictions(p, s[:-1]) - s[1:, :I]) ** 2, axis=1) for s in streams if len(s) > 1]
        return np.sum(np.concatenate(errors)) / sum(len(e) for e in errors)
    work = joint_batch(js, x)
    assert work.c_gradient is not None
    _check_against_fd(work.c_gradient, js.c_params, loss)


def test_one_joint_update_is_each_nets_gradient_step():
    """Budget of one batch, SGD: each net moves by -lr times its gradient at the start weights."""
    js, x = system(3), sequences(3, B=4)
    before = joint_batch(js, x)
    a0, c0 = dict(js.a_params), dict(js.c_params)
    _, ga, _ = before.a_gradient(a0)
    _, gc, _ = before.c_gradient(c0)
    result = train_joint(js, lambda rng, n: [x[:, b] for b in range(n)], SGD(lr=0.1), SGD(lr=0.2), probe=[x[:, 0]],
                         budget=4, batch=4, evaluate_every=4)
    assert (result.sequences, result.updates, len(result.history)) == (4, 1, 1)
    for name in a0:
        np.testing.assert_allclose(js.a_params[name], a0[name] - 0.1 * ga[name], rtol=0, atol=1e-12)
    for name in c0:
        np.testing.assert_allclose(js.c_params[name], c0[name] - 0.2 * gc[name], rtol=0, atol=1e-12)


def test_describe_counts_a_and_c_events():
    js, x = system(4), sequences(4)
    for b, (steps, stream, _) in enumerate(oracle(js, x)):
        y = elman_predictions(js.c_params, stream[:-1])
        top = 1 + sum(np.argmax(y[j - 1]) != np.argmax(stream[j, :I]) for j in range(1, len(stream)))
        assert describe(js, [x[:, b]]) == [(len(steps), top)]


def test_joint_training_describes_a_short_lag_and_passes_c_fewer_inputs():
    """history_lag with lag 4: A and C from scratch; A's events fall from every input to a few."""
    task = make_task("history_lag", lag=4)
    chunker = elman(6 + 6, 6, hidden=4, name="chunker")
    auto = gr.loads(f"""
graphrnn: 1
name: auto
inputs: {{x: 6}}
outputs: {{next: 6, chunker: 4}}
nodes:
  h: {{size: 8, activation: tanh}}
  next: {{size: 6, activation: sigmoid}}
  chunker: {{size: 4, activation: tanh}}
edges:
  - {{from: x, to: h, init: {{uniform: 0.2}}}}
  - {{from: h, to: h, delay: 1, init: {{uniform: 0.2}}}}
  - {{from: h, to: [next, chunker], init: {{uniform: 0.2}}}}
""", "auto.yaml")
    js = JointSystem(auto, chunker, auto.init(0), chunker.init(1), ThresholdSurprise(0.3), ThresholdSurprise(0.3),
                     "h", 6, next_kind="bce", chunker_kind="bce")
    probe = [np.eye(6)[task.symbols([f])[0]] for f in (0, 1)]
    result = train_joint(js, task.sequences, Adam(lr=0.1), Adam(lr=0.03), probe=probe, budget=3200, batch=16,
                         evaluate_every=160, until="described")
    assert result.described_at is not None and result.described_at == result.sequences
    assert result.history[0][3] > 3 and result.history[-1][3] <= 3
    assert all(c == 1 for _, c in describe(js, probe))


def test_gr133_without_collapse():
    spec = load_hierarchy(HERE / "examples" / "history_compressor" / "lag20.yaml")
    js = joint_from_hierarchy(spec, 3)
    assert np.array_equal(js.a_params["x->h"], spec.collapse.net.init(3)["x->h"])
    spec.collapse = None
    with pytest.raises(gr.RunError) as info:
        joint_from_hierarchy(spec, 0)
    assert info.value.code == "GR133"
