"""Collapsing a two-level hierarchy into an automatizer that absorbs the chunker.

Schmidhuber 1992, "collapsing the hierarchy": the chunker C (level 1) sees
only what the lowest level fails to predict; the automatizer A reads every
input and is trained on three terms at every step t of a sequence
x_0 .. x_{T-1} (A reads x_0 .. x_{T-2}):

    L = w_next    · ℓ(A.next_t,      x_{t+1})          its own next input (ℓ: mse or bce)
      + w_distill · mse(A.chunker_t, c_t)              the chunker's state (distillation)
      + w_target  · mse(A.target_t,  target_t)         external targets, when there are any

where mse is the mean over units and steps (``ops.losses.mse``) and c_t
is C's state (node ``chunker_state``) after the last event at or before t:
C is stepped only at events, so between them its state holds.  Learning c_t
gives A, at every step, a short-lag target that carries what C knows (here:
which first symbol came), so A can then predict what only C could before.

A is the lowest level grown a second head: :func:`automatizer_init` starts
it from level 0's weights (same names; level 0's output node becomes
``next``), so collapsing begins from what level 0 already predicts.
"""
from __future__ import annotations

import numpy as np
from autograd import value_and_grad

from ..errors import RunError
from ..ops.losses import LOSSES, mse
from ..train.step import training_step
from .compressor import HistoryCompressor, time_code

__all__ = ["collapse_targets", "hold_states", "automatizer_loss", "automatizer_gradient", "automatizer_init",
           "train_automatizer", "events_per_sequence"]


def collapse_targets(compressor: HistoryCompressor, sequence, chunker_state: str) -> np.ndarray:
    """(T, I) sequence -> (T, H): the chunker's state c_t after the last event at or before t."""
    if len(compressor.levels) < 2:
        raise RunError("GR133", "collapse needs a chunker: the compressor has one level",
                       fix="build the compressor from a hierarchy with two levels")
    chunker = compressor.levels[1]
    if chunker_state not in chunker.net.ir.nodes:
        raise RunError("GR133", f"chunker_state `{chunker_state}` is not a node of `{chunker.net.name}`",
                       fix="name one of: " + ", ".join(chunker.net.ir.nodes))
    events = HistoryCompressor(compressor.levels[:1]).compress_one(sequence).top
    stream = np.concatenate([events.values, time_code(events.times, compressor.time_codes)], axis=1)
    states = np.asarray(chunker.net.run(chunker.params, stream[:, None, :])[chunker_state])[:, 0]
    return hold_states(states, events.times, len(sequence))


def hold_states(states, times, length: int) -> np.ndarray:
    """The chunker's states after each event (E, H) at event times (E,) (increasing, times[0] = 0)
    -> (length, H): at every t the state after the last event at or before t."""
    last = np.searchsorted(np.asarray(times), np.arange(length), side="right") - 1
    return np.asarray(states)[last]


def automatizer_loss(net, params, x, next_target, chunker_target, mask=None, *, w_next=1.0, w_distill=1.0,
                     w_target=1.0, target=None, next_kind: str = "mse"):
    """The scalar loss of the module docstring; x (T, B, I), next_target (T, B, I),
    chunker_target (T, B, H), mask (T, B) or None, target (T, B, O) for the ``target`` output;
    ``next_kind`` the loss ℓ of the next-input term (``mse`` or ``bce``)."""
    outputs = net.run(params, x).outputs
    loss = w_next * LOSSES[next_kind](outputs["next"], next_target, mask) + \
        w_distill * mse(outputs["chunker"], chunker_target, mask)
    if target is not None:
        loss = loss + w_target * mse(outputs["target"], target, mask)
    return loss


def automatizer_gradient(net, x, chunk, *, w_next=1.0, w_distill=1.0, next_kind: str = "mse"):
    """The gradient function of :func:`graphrnn.train.step.training_step` for the automatizer on whole
    sequences x (T, B, I) with chunker targets chunk (T, B, H): A reads x_0 .. x_{T-2} and learns
    x_1 .. x_{T-1} and c_0 .. c_{T-2}.  Returns p -> (loss, trainable gradients, None)."""
    objective = value_and_grad(lambda p: automatizer_loss(
        net, p, x[:-1], x[1:], chunk[:-1], w_next=w_next, w_distill=w_distill, next_kind=next_kind))

    def gradient(p):
        value, grads = objective(p)
        return value, {n: g for n, g in grads.items() if n in net.trainable}, None
    return gradient


def automatizer_init(net, level0, seed: int = 0) -> dict:
    """Fresh automatizer parameters with level 0's copied in where names and shapes agree.

    Level 0's output node (``y`` in ``y.bias``, ``h->y``) is read as the
    automatizer's ``next``; the chunker head keeps its fresh initialisation.
    """
    params = dict(net.init(seed))
    out = next(iter(level0.net.outputs.values()))
    for name, value in level0.params.items():
        mapped = name.replace(f"->{out}", "->next") if "->" in name else \
            (f"next.{name[len(out) + 1:]}" if name.startswith(f"{out}.") else name)
        if mapped in params and np.shape(params[mapped]) == np.shape(value):
            params[mapped] = np.array(value, dtype=float)
    return params


def train_automatizer(compressor: HistoryCompressor, collapse, sample, optimizer, *, sequences: int = 5000,
                      batch: int = 16, seed: int = 0, params=None, memo: dict | None = None,
                      next_kind: str = "mse"):
    """Train ``collapse.net`` (a CollapseSpec's automatizer) with the frozen levels of ``compressor``.

    ``sample(rng, n)`` gives n equal-length (T, I) sequences; ``params`` default:
    :func:`automatizer_init` from level 0.  Returns (params, history of (sequences seen,
    loss)).  TrainError GR301 when the loss or a gradient is not finite.
    """
    net = collapse.net
    params = dict(automatizer_init(net, compressor.levels[0], seed) if params is None else params)
    memo = {} if memo is None else memo
    rng = np.random.default_rng([seed, 7])
    state = optimizer.init(params, names=net.trainable)
    history, seen, updates = [], 0, 0

    def targets(s):
        key = np.asarray(s).tobytes()
        if key not in memo:   # the levels are frozen: a sequence's chunker states never change
            memo[key] = collapse_targets(compressor, s, collapse.chunker_state)
        return memo[key]

    while seen < sequences:
        seqs = sample(rng, batch)
        x = np.stack(seqs, axis=1)
        chunk = np.stack([targets(s) for s in seqs], axis=1)
        gradient = automatizer_gradient(net, x, chunk, w_next=collapse.next, w_distill=collapse.distill,
                                        next_kind=next_kind)
        step = training_step(gradient, params, state, optimizer, updates, seen=seen, label="automatizer: ")
        params, state = step.params, step.state
        updates, seen = updates + 1, seen + batch
        history.append((seen, float(step.loss)))
    return params, history


def events_per_sequence(net, params, criterion, sequence, output: str = "next") -> int:
    """How many inputs of ``sequence`` (T, I) a network fails to predict (the first always counts).

    Runs the whole sequence at once and judges output ``output`` by ``criterion``:
    the automatizer alone as a one-level compressor.
    """
    x = np.asarray(sequence, dtype=float)
    y = np.asarray(net.run(params, x[:-1, None, :]).outputs[output])[:, 0]
    return len(criterion.event_times(y, x))
