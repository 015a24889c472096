"""The temporal order problems (Hochreiter & Schmidhuber 1997, Experiment 6).

Source text: S. Hochreiter and J. Schmidhuber, "Long short-term memory",
Neural Computation 9(8):1735-1780, 1997, Section 5.6 (Tasks 6a and 6b),
Table 9 and the summary Tables 10-11.  Task 6a also appears as Experiment 2a of
Hochreiter & Schmidhuber, "LSTM can solve hard long time lag problems",
NIPS 9 (1996).
"""
from __future__ import annotations

import numpy as np

from .base import Batch, TestSetTask, _check_int, as_rng, one_hot

__all__ = ["TemporalOrder6a", "TemporalOrder6b", "SYMBOLS"]

#: the 8 input symbols, in the order of the 8 input units
SYMBOLS = ("E", "B", "X", "Y", "a", "b", "c", "d")
_E, _B, _X, _Y = 0, 1, 2, 3


class _TemporalOrder(TestSetTask):
    """Shared generator; subclasses give the relevant positions and the class names."""

    input_size, loss = 8, "mse"
    lengths = (100, 110)
    positions: tuple = ()
    classes: tuple = ()
    tolerance = 0.3

    def __init__(self, *, test_size: int = 2560, max_wrong: int = 3):
        self.test_size = _check_int("test_size", test_size)
        self.max_wrong = _check_int("max_wrong", max_wrong, low=0)
        self.max_average_error = self.train_average_error = 0.1
        self.output_size = len(self.classes)
        self._options = {"test_size": test_size, "max_wrong": max_wrong}
        self.criterion_text = (f"every output |error| < 0.3 at the end; test: at most {self.max_wrong} of "
                               f"{self.test_size} wrong and average mse < 0.1")

    def sample(self, rng, batch: int) -> Batch:
        rng = as_rng(rng)
        batch = _check_int("batch", batch)
        lo, hi = self.lengths
        lengths = rng.integers(lo, hi + 1, size=batch)
        steps = int(lengths.max())
        cols = np.arange(batch)
        symbols = rng.integers(4, 8, size=(steps, batch))          # distractors a, b, c, d
        symbols[0] = _E
        bits = rng.integers(0, 2, size=(len(self.positions), batch))  # 0: X, 1: Y
        for k, (first, last) in enumerate(self.positions):           # 1-based positions t_k
            t = rng.integers(first, last + 1, size=batch)
            symbols[t - 1, cols] = _X + bits[k]
        symbols[lengths - 1, cols] = _B
        x = one_hot(symbols, 8)
        x[np.arange(steps)[:, None] >= lengths[None, :]] = 0.0      # padding
        label = np.zeros(batch, dtype=int)
        for k in range(len(self.positions)):                          # X..X -> 0 (Q), Y..Y -> last
            label = 2 * label + bits[k]
        target = np.zeros((steps, batch, self.output_size))
        target[lengths - 1, cols] = one_hot(label, self.output_size)
        mask = np.zeros((steps, batch))
        mask[lengths - 1, cols] = 1.0
        return Batch(x, target, mask, lengths, {"label": label, "classes": self.classes})


class TemporalOrder6a(_TemporalOrder):
    """Temporal order, two relevant symbols: Hochreiter & Schmidhuber 1997, Section 5.6, Task 6a.

    **Input** (8 units, one-hot, order :data:`SYMBOLS` = E, B, X, Y, a, b, c,
    d): "The sequence starts with an E, ends with a B (the 'trigger symbol')
    and otherwise consists of randomly chosen symbols from the set {a, b, c, d}
    except for two elements at positions t1 and t2 that are either X or Y.
    The sequence length is randomly chosen between 100 and 110, t1 is randomly
    chosen between 10 and 20, and t2 is randomly chosen between 50 and 60."
    Positions are 1-based (position 1 is the E); all ranges inclusive (our
    reading; the paper does not say).

    **Output** (4 units, one-hot): the class, given at the last step (the B)
    only: X,X -> Q; X,Y -> R; Y,X -> S; Y,Y -> U (units in that order).
    ``mask`` is 1 at the last step only; padding at the end (mask 0).

    **Lag**: the last relevant input comes at least 40 steps before the end
    (the minimal lag of the summary Table 10); the two relevant inputs are at
    least 30 steps apart.

    **Criterion**: "The sequence is classified correctly if the final absolute
    error of all output units is below 0.3."  Training stop (:meth:`monitor`):
    "Training is stopped once the average training error falls below 0.1 and
    the 2000 most recent sequences were classified correctly" (ST3(0.1)).
    Test (:meth:`success`): "With a test set consisting of 2560 randomly chosen
    sequences, the average test set error was always below 0.1, and there were
    never more than 3 incorrectly classified sequences": solved iff at most
    ``max_wrong`` (default 3) of ``test_size`` are wrong and the average error
    is below 0.1.  Table 9: 1 of 2560 wrong after 31,390 sequences.

    Not verified: the measure of "average error" (we use the squared error at
    the end averaged over the output units and, in training, over the 2000
    most recent sequences).
    """

    name = "temporal_order_6a"
    positions = ((10, 20), (50, 60))
    classes = ("Q", "R", "S", "U")


class TemporalOrder6b(_TemporalOrder):
    """Temporal order, three relevant symbols: Hochreiter & Schmidhuber 1997, Section 5.6, Task 6b.

    **Input** (8 units, one-hot, as in :class:`TemporalOrder6a`): E first, B
    last, distractors from {a, b, c, d}, and X or Y at three positions: t1 in
    10..20, t2 in 33..43, t3 in 66..76 (1-based, inclusive); length 100..110.

    **Output** (8 units, one-hot, at the last step only): X,X,X -> Q;
    X,X,Y -> R; X,Y,X -> S; X,Y,Y -> U; Y,X,X -> V; Y,X,Y -> A; Y,Y,X -> B;
    Y,Y,Y -> C (units in that order).  Padding at the end (mask 0).

    **Lag**: the last relevant input comes at least 24 steps before the end
    (the minimal lag of the summary Table 10).

    **Criterion**: as Task 6a: correct if every output's final absolute error
    is below 0.3; training stop ST3(0.1); test: at most ``max_wrong``
    (default 3) of 2560 wrong, average error below 0.1.  Table 9: 2 of 2560
    wrong after 571,100 sequences.
    """

    name = "temporal_order_6b"
    positions = ((10, 20), (33, 43), (66, 76))
    classes = ("Q", "R", "S", "U", "V", "A", "B", "C")
