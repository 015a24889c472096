"""What every task shares: the Batch, the Evaluation, the Task base class and history monitors.

Arrays are time-major like the rest of graphrnn:

- ``Batch.x`` (T, B, I): the inputs,
- ``Batch.target`` (T, B, O): the wanted outputs,
- ``Batch.mask`` (T, B): 1.0 where the target counts (feeds ``net.loss(..., mask=)``),
- ``Batch.lengths`` (B,): each sequence's true length.

Sequences of different lengths in one batch are padded at the end: in the
padding ``x``, ``target`` and ``mask`` are 0, so a causal network's outputs
at a sequence's real steps do not depend on the padding, and the loss and
every criterion ignore it.

A task is judged in three ways, all from outputs ``y`` (T, B, O), so that a
criterion can be checked without a trained network (feed it ideal outputs):

- ``task.evaluate_outputs(batch, y) -> Evaluation``: the paper's criterion on
  one batch of outputs;
- ``task.success(net, params, rng) -> Evaluation``: the paper's test (draws or
  uses the paper's test set, runs the network, calls ``evaluate_outputs``);
- ``task.monitor() -> Criterion | None``: a stateful object for criteria
  about the training history ("the 2000 most recent sequences were
  processed correctly"); the training loop calls ``update(batch, y)`` after
  every batch and may stop when it returns True.  ``None`` where the paper
  judges success by a test only.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np
from autograd.tracer import getval

from ..errors import ConfigError

__all__ = ["Batch", "Evaluation", "Task", "Criterion", "RecentWindow", "as_rng", "pad", "one_hot"]


def as_rng(rng) -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator or an int seed, got {rng!r}")


def one_hot(index, size: int) -> np.ndarray:
    """Rows of the identity: ``one_hot([2, 0], 3)`` -> [[0, 0, 1], [1, 0, 0]] (float)."""
    return np.eye(size)[np.asarray(index, dtype=int)]


def pad(seqs: list[np.ndarray], width: int) -> np.ndarray:
    """Stack (L_b, width) arrays into (max L, B, width), zero-padded at the end."""
    T = max(len(s) for s in seqs)
    out = np.zeros((T, len(seqs), width))
    for b, s in enumerate(seqs):
        out[:len(s), b] = s
    return out


@dataclass(frozen=True, eq=False)
class Batch:
    """One batch of sequences, time-major; see the module docstring.

    ``info`` holds task-specific extras (e.g. the Reber strings, the class of
    each sequence); it is not needed by the loss.
    """

    x: np.ndarray
    target: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        T, B = self.x.shape[:2]
        if self.target.shape[:2] != (T, B) or self.mask.shape != (T, B) or self.lengths.shape != (B,):
            raise ValueError(f"inconsistent batch: x {self.x.shape}, target {self.target.shape}, "
                             f"mask {self.mask.shape}, lengths {self.lengths.shape}")

    @property
    def steps(self) -> int:
        return self.x.shape[0]

    @property
    def size(self) -> int:
        return self.x.shape[1]

    def at_end(self, a: np.ndarray) -> np.ndarray:
        """(T, B, ...) -> (B, ...): each sequence's value at its last real step."""
        return np.asarray(a)[self.lengths - 1, np.arange(self.size)]

    def take(self, index) -> "Batch":
        """The sequences ``index`` (an index array or slice along B), trimmed to their longest."""
        lengths = self.lengths[index]
        T = int(lengths.max())
        picked = np.arange(self.size)[index]

        def take(v):
            if isinstance(v, np.ndarray) and v.shape[:1] == (self.size,):
                return v[index]
            if isinstance(v, list) and len(v) == self.size:
                return [v[i] for i in np.atleast_1d(picked)]
            return v
        info = {k: take(v) for k, v in self.info.items()}
        return Batch(self.x[:T, index], self.target[:T, index], self.mask[:T, index], lengths, info)


@dataclass(frozen=True)
class Evaluation:
    """The verdict of a task's criterion.

    ``solved``: whether the criterion holds; ``metrics``: the numbers it was
    judged on (counts, errors); ``criterion``: the rule in words.  ``bool(ev)``
    is ``ev.solved``, so ``lambda net, p: task.success(net, p, 0)`` is a
    criterion for ``graphrnn.train.guess``.
    """

    solved: bool
    metrics: Mapping[str, float]
    criterion: str = ""

    def __bool__(self) -> bool:
        return bool(self.solved)

    def __str__(self) -> str:
        def fmt(v):
            if isinstance(v, (bool, np.bool_)):
                return str(bool(v))
            if isinstance(v, (int, np.integer)):
                return str(int(v))
            return f"{float(v):.4g}"
        numbers = ", ".join(f"{k} {fmt(v)}" for k, v in self.metrics.items())
        return f"{'solved' if self.solved else 'not solved'}: {numbers}" + \
            (f" [{self.criterion}]" if self.criterion else "")


class Criterion(ABC):
    """A criterion on the training history.

    ``update(batch, y) -> bool`` takes one training batch and the outputs the
    network produced for it (y (T, B, O); the sequences count in batch-column
    order) and returns True once the criterion holds.  ``reset()`` forgets
    the history; ``state_dict()``/``load_state_dict()`` save and restore it
    (plain lists and numbers, for checkpoints).
    """

    @abstractmethod
    def update(self, batch: Batch, y) -> bool:
        """Each subclass defines this."""

    @abstractmethod
    def reset(self) -> None:
        """Each subclass defines this."""

    @abstractmethod
    def state_dict(self) -> dict:
        """Each subclass defines this."""

    @abstractmethod
    def load_state_dict(self, state: dict) -> None:
        """Each subclass defines this."""


class RecentWindow(Criterion):
    """Over the ``window`` most recent training sequences, fewer than ``wrong_below`` were
    processed wrongly [and their average error is below ``max_average_error``].

    With ``wrong_below=1`` this is the 1997 paper's "the 2000 most recent
    sequences were processed correctly"; ``max_average_error`` adds "the
    average training error is below beta" (its ST3(beta), Table 11).  The
    criterion cannot hold before ``window`` sequences were seen.  Per
    sequence, correctness and error come from ``task.sequence_results``.
    """

    def __init__(self, task: "Task", window: int, wrong_below: int = 1,
                 max_average_error: float | None = None):
        self.task, self.window, self.wrong_below = task, int(window), int(wrong_below)
        self.max_average_error = max_average_error
        self.reset()

    def reset(self) -> None:
        self.correct: deque = deque(maxlen=self.window)
        self.errors: deque = deque(maxlen=self.window)
        self.seen = 0

    def update(self, batch: Batch, y) -> bool:
        correct, errors = self.task.sequence_results(batch, y)
        self.correct.extend(bool(c) for c in correct)
        self.errors.extend(float(e) for e in errors)
        self.seen += len(correct)
        return self.met

    @property
    def wrong(self) -> int:
        return len(self.correct) - sum(self.correct)

    @property
    def average_error(self) -> float:
        return float(np.mean(self.errors)) if self.errors else math.inf

    @property
    def met(self) -> bool:
        if len(self.correct) < self.window or self.wrong >= self.wrong_below:
            return False
        return self.max_average_error is None or self.average_error < self.max_average_error

    def state_dict(self) -> dict:
        return {"correct": list(self.correct), "errors": list(self.errors), "seen": self.seen}

    def load_state_dict(self, state: dict) -> None:
        self.reset()
        self.correct.extend(bool(c) for c in state["correct"])
        self.errors.extend(float(e) for e in state["errors"])
        self.seen = int(state["seen"])

    def __repr__(self) -> str:
        return (f"RecentWindow(window={self.window}, wrong_below={self.wrong_below}, "
                f"max_average_error={self.max_average_error}; seen {self.seen}, wrong {self.wrong})")


#: the largest count or length a task option may ask for (sequences, steps, symbols): past it a
#: task's data would not fit in memory anyway, and the error comes before anything is drawn
MAX_TASK_COUNT = 10_000_000


def _check_int(name: str, value, low: int = 1, high: int | None = None) -> int:
    high = (2 ** 63 - 1 if name.endswith("seed") else MAX_TASK_COUNT) if high is None else high
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high:,}, got {value!r}", name)
    return int(value)


def _check_float(name: str, value, low: float = 0.0, *, strict: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or (value <= low if strict else value < low):
        raise ConfigError(f"{name} must be a number {'>' if strict else '>='} {low}, got {value!r}", name)
    return float(value)


class Task(ABC):
    """A benchmark task: a generator of batches with its paper's success criterion.

    Subclasses set ``name`` (the registry key), ``input_size``,
    ``output_size``, ``loss`` (``"mse"``, ``"bce"`` or ``"xent"``, the kind
    to hand to ``net.loss``) and implement ``sample`` and
    ``sequence_results`` / ``evaluate_outputs`` / ``success`` / ``monitor``.
    """

    name: ClassVar[str] = ""
    input_size: int
    output_size: int
    loss: str = "mse"
    #: how ``sequence_results`` measures a sequence's error: "mse" or "mae"
    error_measure: str = "mse"
    #: how many sequences ``success`` runs through the network at once
    eval_batch: int = 256

    # -- data ---------------------------------------------------------------------
    @abstractmethod
    def sample(self, rng, batch: int) -> Batch:
        """Each subclass defines this."""

    # -- judging ------------------------------------------------------------------
    def sequence_results(self, batch: Batch, y) -> tuple[np.ndarray, np.ndarray]:
        """(correct (B,) bool, error (B,) float) per sequence: the paper's per-sequence rule, and
        the error at the sequence end averaged over the output units -- squared
        (``error_measure = "mse"``, the default) or absolute (``"mae"``)."""
        y = self._outputs_array(batch, y)
        err = batch.at_end(y) - batch.at_end(batch.target)
        per_unit = err ** 2 if self.error_measure == "mse" else np.abs(err)
        return self._end_correct(err), np.mean(per_unit, axis=-1)

    def _end_correct(self, err: np.ndarray) -> np.ndarray:
        """A sequence is right when every output's error at its end is below ``self.tolerance``."""
        return np.all(np.abs(err) < self.tolerance, axis=-1)

    @abstractmethod
    def evaluate_outputs(self, batch: Batch, y) -> Evaluation:
        """Each subclass defines this."""

    @abstractmethod
    def success(self, net, params, rng) -> Evaluation:
        """Each subclass defines this."""

    def monitor(self) -> Criterion | None:
        return None

    # -- helpers ------------------------------------------------------------------
    def check_net(self, net) -> None:
        """ValueError unless ``net`` reads ``input_size`` inputs and writes ``output_size`` outputs."""
        if (net.input_size, net.output_size) != (self.input_size, self.output_size):
            raise ValueError(f"task `{self.name}` needs a network with {self.input_size} inputs and "
                             f"{self.output_size} outputs; `{net.name}` has {net.input_size} and "
                             f"{net.output_size}")

    def outputs(self, net, params, batch: Batch) -> np.ndarray:
        """The network's outputs (T, B, O) for ``batch``, run ``eval_batch`` sequences at a time, or
        fewer where a run of that many would not fit the memory budget (``net.largest_batch``)."""
        self.check_net(net)
        largest = getattr(net, "largest_batch", None)      # a network-like object without a plan (an oracle) has none
        chunk = self.eval_batch if largest is None else min(self.eval_batch, largest(batch.x.shape[0]))
        parts = []
        for start in range(0, batch.size, chunk):
            cols = slice(start, start + chunk)
            parts.append(np.asarray(getval(net.run(params, batch.x[:, cols]).y), dtype=float))
        return np.concatenate(parts, axis=1)

    def _outputs_array(self, batch: Batch, y) -> np.ndarray:
        y = np.asarray(getval(y), dtype=float)
        if y.shape != batch.target.shape:
            raise ValueError(f"outputs of shape {y.shape}, expected {batch.target.shape} (time-major, "
                             f"like the batch's target)")
        return y

    def options(self) -> dict:
        """The options this task was made with (``make_task(task.name, **task.options())``)."""
        return dict(self._options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._options.items())})"

    _options: dict = {}


class TestSetTask(Task):
    """A task judged like the 1997 paper's Experiments 4-6: end-of-sequence targets, a
    per-sequence rule, a training stop on the recent history and a random test set.

    Subclasses set ``criterion_text`` and the thresholds and implement
    ``_end_correct``.
    """

    test_size: int = 2560
    max_wrong: int = 0
    max_average_error: float | None = None
    window: int = 2000
    wrong_below: int = 1
    train_average_error: float | None = None
    criterion_text: str = ""

    def evaluate_outputs(self, batch: Batch, y) -> Evaluation:
        """Solved iff at most ``max_wrong`` sequences are wrong [and the average end error
        (``error_measure``) is below ``max_average_error``]."""
        correct, errors = self.sequence_results(batch, y)
        y = self._outputs_array(batch, y)
        wrong = int(np.sum(~correct))
        diff = batch.at_end(y) - batch.at_end(batch.target)
        mse, mae = float(np.mean(diff ** 2)), float(np.mean(np.abs(diff)))
        average = float(np.mean(errors))
        solved = wrong <= self.max_wrong and \
            (self.max_average_error is None or average < self.max_average_error)
        return Evaluation(solved, {"wrong": wrong, "of": batch.size, "mse": mse, "mae": mae},
                          self.criterion_text)

    def success(self, net, params, rng) -> Evaluation:
        """Draw ``test_size`` fresh sequences from ``rng`` and judge the network's outputs on them."""
        batch = self.sample(as_rng(rng), self.test_size)
        return self.evaluate_outputs(batch, self.outputs(net, params, batch))

    def monitor(self) -> RecentWindow:
        """The paper's training stop (see the class docstring)."""
        return RecentWindow(self, self.window, self.wrong_below, self.train_average_error)
