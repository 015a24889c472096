"""Surprise criteria: when a level's prediction counts as wrong, and what it predicted.

A predictor at time j has read its inputs up to j - 1 and outputs a
prediction ``y`` (shape (I,)) of its next input ``x`` (shape (I,)).  A
criterion says whether ``x`` is *unexpected* (an event that is passed up to
the next level) and what value the prediction stands for (``decode``).

Compression is lossless because ``decode(y) == x`` whenever ``x`` is not
unexpected, for every input the criterion accepts (``check_values``):

- ``ArgmaxSurprise``: inputs are one-hot symbols; unexpected iff
  ``argmax(y) != argmax(x)``; ``decode`` is the one-hot of ``argmax(y)``
  (ties go to the first index, as ``np.argmax`` does).
- ``ThresholdSurprise(θ)``: inputs are binary vectors; unexpected iff some
  unit is off by more than θ, ``max_i |y_i - x_i| > θ``; ``decode`` rounds
  (``y_i > 0.5``).  With θ < 0.5 an expected binary x is within θ < 0.5 of
  ``y`` in every unit, so rounding gives x back exactly.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..errors import RunError

__all__ = ["SurpriseCriterion", "ArgmaxSurprise", "ThresholdSurprise", "criterion_from_config"]


class SurpriseCriterion(ABC):
    """Decides which inputs a level failed to predict; see the module docstring."""

    @abstractmethod
    def surprised(self, prediction: np.ndarray, actual: np.ndarray) -> bool:
        """prediction, actual: (I,) -> whether ``actual`` is an event."""

    @abstractmethod
    def decode(self, prediction: np.ndarray) -> np.ndarray:
        """(I,) prediction -> (I,) the input it stands for."""

    def event_times(self, predictions, sequence) -> np.ndarray:
        """The steps of ``sequence`` (T, I) a predictor failed to predict, given its ``predictions``
        (T - 1, I) of x_1 .. x_{T-1}: (E,) int, increasing, starting with 0 (x_0 is never predicted)."""
        return np.array([0] + [t for t in range(1, len(sequence))
                               if self.surprised(predictions[t - 1], sequence[t])], dtype=int)

    #: what an input must be, and the fix when it is not (for GR131)
    codes: str
    codes_fix: str

    @abstractmethod
    def accepts(self, values: np.ndarray) -> np.ndarray:
        """(N,) bool: which rows of ``values`` (N, I) are inputs this criterion codes."""

    def check_values(self, values, what: str) -> None:
        """Raise RunError GR131 unless every row of ``values`` (N, I) is an input this criterion codes."""
        values = np.asarray(values)
        ok = self.accepts(values)
        if not np.all(ok):
            row = int(np.flatnonzero(~ok)[0])
            raise RunError("GR131", f"{what}: step {row} is not {self.codes} "
                           f"({np.round(values[row], 3).tolist()})", fix=self.codes_fix)

    @abstractmethod
    def config(self):
        """The YAML form: ``"argmax"`` or ``{"threshold": θ}``."""


class ArgmaxSurprise(SurpriseCriterion):
    """One-hot symbols; an event when the most active output is not the symbol that came."""

    def surprised(self, prediction, actual) -> bool:
        return int(np.argmax(prediction)) != int(np.argmax(actual))

    def decode(self, prediction):
        out = np.zeros(np.shape(prediction))
        out[int(np.argmax(prediction))] = 1.0
        return out

    codes = "a one-hot symbol"
    codes_fix = ("the argmax criterion compresses one-hot symbol sequences; use "
                 "`surprise: {threshold: 0.3}` for other binary vectors")

    def accepts(self, values):
        return np.all((values == 0.0) | (values == 1.0), axis=-1) & (values.sum(axis=-1) == 1.0)

    def config(self):
        return "argmax"

    def __repr__(self) -> str:
        return "ArgmaxSurprise()"


class ThresholdSurprise(SurpriseCriterion):
    """Binary vectors; an event when some unit's prediction is off by more than ``threshold`` (< 0.5)."""

    def __init__(self, threshold: float):
        threshold = float(threshold)
        if not 0.0 < threshold < 0.5:
            # with θ >= 0.5 an "expected" unit could round to the wrong bit: no longer lossless
            raise ValueError(f"threshold must be in (0, 0.5), got {threshold}")
        self.threshold = threshold

    def surprised(self, prediction, actual) -> bool:
        return bool(np.max(np.abs(np.asarray(prediction) - np.asarray(actual))) > self.threshold)

    def decode(self, prediction):
        return (np.asarray(prediction) > 0.5).astype(float)

    codes = "a binary vector"
    codes_fix = "the threshold criterion compresses 0/1 vectors without loss; binarise the inputs first"

    def accepts(self, values):
        return np.all((values == 0.0) | (values == 1.0), axis=-1)

    def config(self):
        return {"threshold": self.threshold}

    def __repr__(self) -> str:
        return f"ThresholdSurprise({self.threshold})"


def criterion_from_config(config) -> SurpriseCriterion:
    """``"argmax"`` or ``{"threshold": θ}`` (the hierarchy file's ``surprise:``) -> criterion."""
    if config == "argmax":
        return ArgmaxSurprise()
    if isinstance(config, dict) and set(config) == {"threshold"}:
        return ThresholdSurprise(config["threshold"])
    raise ValueError(f"unknown surprise criterion {config!r}; use `argmax` or `{{threshold: 0.3}}`")
