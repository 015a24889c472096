"""Training a history compressor level by level.

Level k learns to predict its next input: on a stream s_0 .. s_{n-1} (each
(W,) = value (I,) plus time code) it reads s_0 .. s_{n-2} and is trained on
the values of s_1 .. s_{n-1} with ``Network.value_and_grad`` and an optimizer
of :mod:`graphrnn.train.optimizers`.  Every ``evaluate_every`` sequences it
is tested on a fixed set of held-out sequences: its loss, and the number of
events it passes up (what a level is for: the fewer, the better).  A test
*improves* when the events are fewer than ever before or the loss is below
the best so far by ``min_improvement`` times the first test's loss (a
fraction of where the level started, not of the best: a saturating sigmoid
keeps lowering the loss by small fractions long after the level has learned
what it can, and must not keep it from freezing); after ``patience`` tests
in a row without improvement (or when the level's budget ``max_sequences``
is spent) the level is frozen, and level k+1 is trained on the events levels
0..k pass up for fresh sequences.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..train.step import training_step
from .compressor import HistoryCompressor, time_code

__all__ = ["LevelResult", "stream_batch", "level_streams", "train_level", "train_hierarchy"]


@dataclass
class LevelResult:
    """How one level's training ended: ``why`` is "plateau", "budget" or "stopped" (the callback)."""

    level: int
    sequences: int
    updates: int
    why: str
    best_loss: float
    history: list = field(default_factory=list)   # (sequences seen, held-out loss, held-out events) per test


def stream_batch(streams, output_size: int):
    """Streams (n_b, W) -> (x (T, B, W), target (T, B, I), mask (T, B)) with T = max n_b - 1.

    x holds each stream but its last element, target the values (first I
    units) of all but its first; padding at the end has mask 0.  Streams of
    one element (nothing to predict) keep a row of mask 0.
    """
    T = max(max(len(s) for s in streams) - 1, 1)
    W = streams[0].shape[1]
    x, target, mask = np.zeros((T, len(streams), W)), np.zeros((T, len(streams), output_size)), \
        np.zeros((T, len(streams)))
    for b, s in enumerate(streams):
        n = len(s) - 1
        x[:n, b], target[:n, b], mask[:n, b] = s[:-1], s[1:, :output_size], 1.0
    return x, target, mask


def level_streams(compressor: HistoryCompressor, k: int, sequences, memo: dict | None = None) -> list:
    """The input streams of level k for ``sequences``: (n, I + C) each (level 0: the sequences).

    ``memo`` caches per sequence: valid while levels 0..k-1 are frozen.
    """
    if k == 0:
        return [np.asarray(s, dtype=float) for s in sequences]
    below = HistoryCompressor(compressor.levels[:k], compressor.time_codes)
    out = []
    for s in sequences:
        key = np.asarray(s).tobytes() if memo is not None else None
        if key is not None and key in memo:
            out.append(memo[key])
            continue
        events = below.compress_one(s).top
        stream = np.concatenate([events.values, time_code(events.times, compressor.time_codes)], axis=1)
        if key is not None:
            memo[key] = stream
        out.append(stream)
    return out


def _held_out_loss(net, params, streams, kind) -> float:
    x, target, mask = stream_batch(streams, net.output_size)
    return float(net.loss(params, x, target, kind=kind, mask=mask)) if mask.any() else 0.0


def train_level(compressor: HistoryCompressor, k: int, sample, *, loss: str = "mse", optimizer,
                batch: int = 16, max_sequences: int = 20000, evaluate_every: int = 320, patience: int = 5,
                min_improvement: float = 0.01, seed: int = 0, validation: int = 16, stop=None,
                progress=None) -> LevelResult:
    """Train level k of ``compressor`` in place (its params are replaced); levels below stay frozen.

    ``sample(rng, n)`` gives n raw sequences (T_b, I); ``stop(sequences_seen)``,
    called after every evaluation, ends training early when it returns True.
    Raises TrainError GR301 when the loss or a gradient is not finite.
    """
    level = compressor.levels[k]
    net, params = level.net, dict(level.params)
    rng = np.random.default_rng([seed, k])
    memo = {}
    held_raw = sample(np.random.default_rng([seed, k, 1]), validation)
    held_out = level_streams(compressor, k, held_raw, memo)
    state = optimizer.init(params, names=net.trainable)
    seen = updates = stale = 0
    best, fewest, history, why = np.inf, np.inf, [], "budget"
    upto = HistoryCompressor(compressor.levels[:k + 1], compressor.time_codes)
    next_eval = evaluate_every
    while seen < max_sequences:
        x, target, mask = stream_batch(level_streams(compressor, k, sample(rng, batch), memo), net.output_size)
        if mask.any():   # a batch of one-element streams has nothing to predict: no update
            step = training_step(lambda p: (*net.value_and_grad(p, x, target, kind=loss, mask=mask), None),
                                 params, state, optimizer, updates, seen=seen, label=f"level {k}: ")
            params, state, updates = step.params, step.state, updates + 1
        seen += batch
        if seen >= next_eval:
            next_eval += evaluate_every
            current = _held_out_loss(net, params, held_out, loss) if any(len(s) > 1 for s in held_out) else 0.0
            level.params = params
            events = sum(len(c.top) for c in upto.compress(held_raw))
            history.append((seen, current, events))
            if progress:
                progress(k, seen, current, events)
            # frozen after `patience` tests with neither fewer events nor a clearly lower loss
            scale = history[0][1]
            if events < fewest or current < best - min_improvement * scale:
                stale = 0
            else:
                stale += 1
            best, fewest = min(best, current), min(fewest, events)
            if stop is not None and stop(seen):
                why = "stopped"
                break
            if stale >= patience:
                why = "plateau"
                break
    level.params = params
    return LevelResult(k, seen, updates, why, float(best), history)


def train_hierarchy(compressor: HistoryCompressor, sample, training: dict, *, losses=None, seed: int = 0,
                    stop=None, progress=None, optimizers=None) -> list[LevelResult]:
    """Train every level in turn (see :func:`train_level`); ``training`` is the hierarchy file's
    ``training:`` mapping with an ``optimizer`` already built under the key ``optimizer``;
    ``optimizers`` (one per level, e.g. ``[spec.optimizer(k) for k ...]``) overrides it.

    ``stop(level, sequences_seen_in_this_level)`` may end a level early.
    """
    results = []
    for k in range(len(compressor.levels)):
        level_stop = None if stop is None else (lambda seen, k=k: stop(k, seen))
        results.append(train_level(
            compressor, k, sample, loss=(losses[k] if losses else "mse"),
            optimizer=optimizers[k] if optimizers else training["optimizer"],
            batch=training["batch"], max_sequences=training["max_sequences"],
            evaluate_every=training["evaluate_every"], patience=training["patience"],
            min_improvement=training["min_improvement"], seed=seed, stop=level_stop, progress=progress))
    return results
