"""The history compressor's 20-step-lag task (Schmidhuber 1992).

Source: J. Schmidhuber, "Learning complex, extended sequences using the
principle of history compression", Neural Computation 4(2):234-242, 1992
(and TR FKI-148-91, "Neural sequence chunkers", 1991): two symbol sequences
"a b1 ... b20" and "x b1 ... b20" that differ only in their first symbol,
which must be recalled at the end.  The paper reports that a conventional
recurrent net made no progress after more than 1,000,000 training sequences,
while the chunker system solved it in fewer than 5,000 in 13 of 17 runs.

Our reading (the encoding and the criterion are ours; we could not check the
paper's exact target and tolerance): a sequence is the ``lag + 2`` one-hot
symbols ``first, b1, ..., b_lag, first`` over an alphabet of ``lag + 2``
symbols (index 0 = a, 1 = x, 2 .. lag+1 = b1 .. b_lag), ``first`` a or x with
probability 1/2.  The network predicts the next symbol at every step, so the
task stays unsupervised: x is the first ``lag + 1`` symbols, the target the
last ``lag + 1``; the final target (the recall) is ``lag + 1`` steps after
the symbol it repeats.

**Criterion**: a sequence is predicted when at every step every output is
within ``tolerance`` (0.3) of the target -- exactly when a predictor with
the threshold surprise criterion (graphrnn.models) would pass up nothing but
the first symbol.  ``success``: both sequences predicted.
"""
from __future__ import annotations

import numpy as np

from .base import Batch, Evaluation, Task, _check_float, _check_int, as_rng, one_hot

__all__ = ["HistoryLag"]


class HistoryLag(Task):
    """"a b1 .. b20 a" / "x b1 .. b20 x": recall the first symbol after ``lag`` predictable ones.

    ``sample`` gives Batch x (lag+1, B, lag+2), target (lag+1, B, lag+2),
    mask 1 everywhere; ``sequences(rng, n)`` the raw (lag+2, lag+2) one-hot
    sequences a history compressor reads.  ``info["first"]`` (B,) is 0 for a, 1 for x.

    **Criterion** (ours, see the module docstring): every output within
    ``tolerance`` of the next symbol at every step, the recall included, for
    both sequences.
    """

    name = "history_lag"
    loss = "bce"          # sigmoid outputs of one-hot symbols: the compressor's levels train on it too

    def __init__(self, *, lag: int = 20, tolerance: float = 0.3):
        self.lag = _check_int("lag", lag, low=1)
        self.tolerance = _check_float("tolerance", tolerance)
        self.input_size = self.output_size = self.lag + 2
        self._options = {"lag": self.lag, "tolerance": self.tolerance}

    def symbols(self, first) -> np.ndarray:
        """(B,) 0/1 first symbols -> (B, lag+2) symbol indices of the whole sequences."""
        first = np.asarray(first, dtype=int)
        middle = np.broadcast_to(np.arange(2, self.lag + 2), (len(first), self.lag))
        return np.concatenate([first[:, None], middle, first[:, None]], axis=1)

    def sequences(self, rng, n: int) -> list[np.ndarray]:
        """n one-hot sequences, each (lag+2, lag+2)."""
        first = as_rng(rng).integers(0, 2, size=n)
        return [one_hot(row, self.input_size) for row in self.symbols(first)]

    def batch_of(self, first) -> Batch:
        """The Batch of the sequences with these first symbols (0 = a, 1 = x)."""
        seqs = one_hot(self.symbols(first), self.input_size).transpose(1, 0, 2)   # (lag+2, B, I)
        B = seqs.shape[1]
        return Batch(seqs[:-1], seqs[1:], np.ones((self.lag + 1, B)), np.full(B, self.lag + 1),
                     {"first": np.asarray(first, dtype=int)})

    def sample(self, rng, batch: int) -> Batch:
        return self.batch_of(as_rng(rng).integers(0, 2, size=batch))

    def evaluate_outputs(self, batch: Batch, y) -> Evaluation:
        y = self._outputs_array(batch, y)
        ok = np.all(np.abs(y - batch.target) <= self.tolerance, axis=-1)       # (T, B)
        recall = ok[-1]
        return Evaluation(bool(np.all(ok)), {
            "wrong_sequences": int(np.sum(~np.all(ok, axis=0))),
            "wrong_recalls": int(np.sum(~recall)),
            "wrong_steps": int(np.sum(~ok))},
            f"every output within {self.tolerance} of the next symbol at every step, recall included")

    def success(self, net, params, rng=None) -> Evaluation:
        batch = self.batch_of([0, 1])
        return self.evaluate_outputs(batch, self.outputs(net, params, batch))
