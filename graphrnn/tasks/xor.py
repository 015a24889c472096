"""The strongly delayed XOR problem.

Source: Hochreiter & Schmidhuber, "Long short-term memory", Neural
Computation 9(8), 1997, Section 6 ("Discussion", Limitations of LSTM): "The
particularly efficient truncated backprop version of the LSTM algorithm will
not easily solve problems similar to 'strongly delayed XOR problems', where
the goal is to compute the XOR of two widely separated inputs that previously
occurred somewhere in a noisy sequence.  The reason is that storing only one
of the inputs will not help to reduce the expected error -- the task is
non-decomposable".  The paper names the problem but gives no generator, no
sizes and no criterion; we found no earlier paper that defines it precisely
(Martens & Sutskever 2011 use an "XOR" variant of the adding problem; we did
not verify their definition).  Everything concrete below is OUR construction,
chosen to mirror the 1997 adding problem.
"""
from __future__ import annotations

import numpy as np

from .adding import _end_batch, marked_pairs
from .base import Batch, TestSetTask, _check_int, as_rng

__all__ = ["DelayedXOR"]


class DelayedXOR(TestSetTask):
    """Strongly delayed XOR (named in Hochreiter & Schmidhuber 1997, Section 6; the concrete
    task is ours -- see the module docstring).

    **Input** (2 units), laid out like the adding problem (1997, Section 5.4,
    :func:`marked_pairs`): each step is a pair (bit, marker).  The first
    component is a random bit, -1.0 or 1.0 with probability 1/2 each (the
    noisy sequence; -1/1 is the binary coding of the guessing papers); the
    marker is 1.0 at two marked pairs -- one of the first ten, one of the first
    T/2 - 1 still unmarked -- -1.0 at the first and the final pair (unless
    marked) and 0.0 elsewhere.  Lengths are uniform in T .. T + T//10.

    **Output** (1 unit): at the sequence end only, the XOR of the two marked
    bits: 1.0 if they differ, 0.0 if they are equal; ``mask`` is 1 at the last
    step only; padding at the end (mask 0).

    **Lag**: at least T/2 steps from the second marked bit to the end.

    **Criterion** (our choice, copied from the 1997 paper's other
    classification task, Experiment 6, Section 5.6): a sequence is correct if
    the absolute error at the end is below 0.3; training stop
    (:meth:`monitor`): average training error below 0.1 and the 2000 most
    recent sequences correct (ST3(0.1)); test (:meth:`success`): at most
    ``max_wrong`` (default 3) wrong of ``test_size`` (default 2560) fresh
    sequences and average error below 0.1.
    """

    name = "delayed_xor"
    input_size, output_size, loss = 2, 1, "mse"
    tolerance = 0.3

    def __init__(self, *, T: int = 100, test_size: int = 2560, max_wrong: int = 3):
        self.T = _check_int("T", T, low=20)
        self.test_size = _check_int("test_size", test_size)
        self.max_wrong = _check_int("max_wrong", max_wrong, low=0)
        self.max_average_error = self.train_average_error = 0.1
        self._options = {"T": T, "test_size": test_size, "max_wrong": max_wrong}
        self.criterion_text = (f"|error| < 0.3 at the end (our choice); test: at most {self.max_wrong} "
                               f"of {self.test_size} wrong and average mse < 0.1")

    def sample(self, rng, batch: int) -> Batch:
        rng = as_rng(rng)
        values, markers, lengths, first, second = marked_pairs(
            rng, _check_int("batch", batch), self.T,
            lambda r, shape: np.where(r.random(shape) < 0.5, -1.0, 1.0))
        cols = np.arange(len(lengths))
        b1, b2 = values[first, cols], values[second, cols]
        return _end_batch(values, markers, lengths, (b1 != b2).astype(float),
                          {"first": first, "second": second, "x1": b1, "x2": b2})
