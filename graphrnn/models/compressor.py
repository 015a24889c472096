"""Schmidhuber's neural history compressor: compress a sequence into events per level, and back.

Level 0 reads the sequence x_0 .. x_{T-1} (each (I,)); at step j its
predictor has read x_0 .. x_{j-1} and predicts x_j.  The inputs it fails to
predict (by its surprise criterion; x_0 is always unexpected) are its
*events*, and only they go up: level k's input stream is the list of level
k-1's events, each value (I,) followed, with ``time_codes: C``, by the
one-hot code (C,) of its original time step.  So level k runs on a slower
time scale, only when something unexpected happened below.

The description of a sequence is its length, the *steps* of every level's
events (their positions in that level's input stream) and the *values* of the
top level's events.  :func:`reconstruct` rebuilds the sequence from these
alone, top-down: level K's stream is rebuilt by running predictor K and
taking its decoded prediction wherever no event was recorded; that stream is
the list of level K-1's event values, and so on down to level 0.

Why it is exact: compression and reconstruction run the same function
(:func:`_closed_loop`) step by step, one sequence at a time, so the
predictor sees the same inputs in the same order with the same arithmetic
(the same matrix shapes: no batch of another size that BLAS could round
differently); where no event was recorded the input fed back is
``criterion.decode(prediction)``, which equals the true input by the
criterion's definition (see surprise.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import RunError
from .surprise import SurpriseCriterion

__all__ = ["LevelEvents", "Compressed", "Level", "HistoryCompressor", "time_code"]


@dataclass(frozen=True, eq=False)
class LevelEvents:
    """The inputs one level failed to predict, for one sequence.

    ``steps`` (E,) int: positions in the level's own input stream (increasing,
    starting at 0); ``times`` (E,) int: the original time step of each;
    ``values`` (E, I): the inputs themselves.
    """

    steps: np.ndarray
    times: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True, eq=False)
class Compressed:
    """One sequence of ``length`` steps as the events of every level (``levels[k]``, bottom first).

    :func:`HistoryCompressor.reconstruct` reads only ``length``, every level's
    ``steps`` and the top level's ``values``.
    """

    length: int
    levels: tuple

    @property
    def top(self) -> LevelEvents:
        return self.levels[-1]


@dataclass
class Level:
    """One level: a compiled predictor Network, its parameters and its surprise criterion."""

    net: object
    params: dict
    criterion: SurpriseCriterion


def time_code(times, size: int) -> np.ndarray:
    """(N,) int time steps -> (N, size) one-hot rows; ``size`` 0 gives (N, 0)."""
    times = np.asarray(times, dtype=int)
    out = np.zeros((len(times), size))
    if size:
        out[np.arange(len(times)), times] = 1.0
    return out


def _closed_loop(level: Level, codes: np.ndarray, pick) -> tuple[np.ndarray, list[int]]:
    """Run one level's predictor over its stream, one step at a time, batch of one.

    ``codes`` (n, C): the time code of each position; ``pick(j, prediction)``
    returns ``(value (I,), is_event)`` for position j given the prediction of it
    (None at j = 0, where nothing has been read yet).  Returns the stream's values
    (n, I) as fed to the predictor and the positions that were events.
    """
    net, params = level.net, level.params
    state, prediction, values, steps = None, None, [], []
    for j in range(len(codes)):
        value, is_event = pick(j, prediction)
        values.append(value)
        if is_event:
            steps.append(j)
        if j + 1 < len(codes):   # the prediction of the next position; none is needed after the last
            x = np.concatenate([value, codes[j]])[None, None, :]
            trace = net.run(params, x, state=state)
            state, prediction = trace.state, np.asarray(trace.y)[0, 0]
    width = level.net.output_size
    return (np.array(values, dtype=float).reshape(len(values), width), steps)


class HistoryCompressor:
    """A stack of predictor levels (:class:`Level`, bottom first) and the time-code width.

    Level 0's predictor reads I = ``input_size`` units and outputs I; every
    higher level reads I + ``time_codes`` and outputs I (the next event's value).
    """

    def __init__(self, levels, time_codes: int = 0):
        self.levels = list(levels)
        self.time_codes = int(time_codes)
        self.input_size = self.levels[0].net.output_size
        for k, level in enumerate(self.levels):
            want = self.input_size + (self.time_codes if k else 0)
            if level.net.input_size != want or level.net.output_size != self.input_size:
                raise RunError("GR130", f"level {k} ({level.net.name}) reads {level.net.input_size} and "
                               f"outputs {level.net.output_size} units; it must read {want} and output "
                               f"{self.input_size}", fix="level 0 reads and predicts the input; higher "
                               "levels read the input plus the time code and predict the input")

    def _codes(self, k: int, times) -> np.ndarray:
        return time_code(times, self.time_codes if k else 0)

    def _check_sequence(self, sequence, index: int) -> np.ndarray:
        x = np.asarray(sequence, dtype=float)
        what = f"sequence {index}"
        if x.ndim != 2 or x.shape[1] != self.input_size or len(x) < 1:
            raise RunError("GR131", f"{what} has shape {x.shape}, expected (T, {self.input_size}) with T >= 1",
                           fix="give one (T, I) array per sequence (not time-major batches)")
        if self.time_codes and len(self.levels) > 1 and len(x) > self.time_codes:
            raise RunError("GR131", f"{what} has {len(x)} steps but the time code has only "
                           f"{self.time_codes} places", fix=f"set `time_codes: {len(x)}` or more")
        for level in self.levels:
            level.criterion.check_values(x, what)
        return x

    # -- compress ----------------------------------------------------------------------------------
    def compress_one(self, sequence, index: int = 0) -> Compressed:
        """(T, I) -> the events of every level."""
        stream = self._check_sequence(sequence, index)
        times = np.arange(len(stream))
        out = []
        for k, level in enumerate(self.levels):
            criterion = level.criterion

            def pick(j, prediction, stream=stream, criterion=criterion):
                actual = stream[j]
                if prediction is None or criterion.surprised(prediction, actual):
                    return actual, True
                return criterion.decode(prediction), False   # == actual: the same arithmetic as reconstruct

            _, steps = _closed_loop(level, self._codes(k, times), pick)
            steps = np.array(steps, dtype=int)
            events = LevelEvents(steps, times[steps], stream[steps])
            out.append(events)
            stream, times = events.values, events.times
        return Compressed(len(sequence), tuple(out))

    def compress(self, sequences) -> list[Compressed]:
        """A list of (T_b, I) sequences (or one (T, I) array) -> one :class:`Compressed` each."""
        if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
            sequences = [sequences]
        return [self.compress_one(s, b) for b, s in enumerate(sequences)]

    # -- reconstruct -------------------------------------------------------------------------------
    def _check_events(self, compressed: Compressed, index: int) -> None:
        what = f"compressed sequence {index}"
        if len(compressed.levels) != len(self.levels):
            raise RunError("GR132", f"{what} has {len(compressed.levels)} levels, the compressor "
                           f"{len(self.levels)}", fix="reconstruct with the compressor that compressed it")
        n = int(compressed.length)
        if n < 1:
            raise RunError("GR132", f"{what} has length {n}", fix="a sequence has at least one step")
        for k, events in enumerate(compressed.levels):
            steps = np.asarray(events.steps)
            if len(steps) == 0 or steps[0] != 0 or np.any(np.diff(steps) <= 0) or steps[-1] >= n:
                raise RunError("GR132", f"{what}, level {k}: event steps {steps.tolist()} must increase, "
                               f"start at 0 and stay below {n} (the length of the level's stream)",
                               fix="pass the Compressed that compress() returned, unchanged")
            n = len(steps)
        top = np.asarray(compressed.top.values)
        if top.shape != (n, self.input_size):
            raise RunError("GR132", f"{what}: the top level's values have shape {top.shape}, expected "
                           f"{(n, self.input_size)}", fix="one (I,) value per top-level event")

    def reconstruct_one(self, compressed: Compressed, index: int = 0) -> np.ndarray:
        """A :class:`Compressed` -> the (T, I) sequence, from ``length``, the steps and the top values."""
        self._check_events(compressed, index)
        lengths = [int(compressed.length)] + [len(e.steps) for e in compressed.levels]
        # the original time step of every position of every level's stream, bottom-up from the steps
        stream_times = [np.arange(lengths[0])]
        for events in compressed.levels[:-1]:
            stream_times.append(stream_times[-1][np.asarray(events.steps)])
        values = np.asarray(compressed.top.values, dtype=float)
        for k in reversed(range(len(self.levels))):
            level, steps = self.levels[k], np.asarray(compressed.levels[k].steps)
            at = {int(s): i for i, s in enumerate(steps)}

            def pick(j, prediction, at=at, values=values, criterion=level.criterion):
                if j in at:
                    return values[at[j]], True
                return criterion.decode(prediction), False

            values, _ = _closed_loop(level, self._codes(k, stream_times[k]), pick)
        return values

    def reconstruct(self, compressed) -> list[np.ndarray]:
        """A list of :class:`Compressed` (or one) -> the (T_b, I) sequences."""
        if isinstance(compressed, Compressed):
            compressed = [compressed]
        return [self.reconstruct_one(c, b) for b, c in enumerate(compressed)]

    # -- what each level sees ----------------------------------------------------------------------
    def level_streams(self, sequence) -> list[tuple[np.ndarray, np.ndarray]]:
        """(T, I) -> for every level, ``(times (n_k,), inputs (n_k, I + C_k))``: what it reads."""
        compressed = self.compress_one(sequence)
        x = np.asarray(sequence, dtype=float)
        out = [(np.arange(len(x)), x)]
        for k in range(1, len(self.levels)):
            below = compressed.levels[k - 1]
            out.append((below.times, np.concatenate([below.values, self._codes(k, below.times)], axis=1)))
        return out

    def __repr__(self) -> str:
        names = ", ".join(f"{lv.net.name}/{lv.criterion!r}" for lv in self.levels)
        return f"HistoryCompressor([{names}], time_codes={self.time_codes})"
