"""The dynamic N-grams task of the Neural Turing Machine paper (Graves, Wayne & Danihelka 2014, Section 4.4)
and its Bayes-optimal predictor.

Source text: A. Graves, G. Wayne and I. Danihelka, "Neural Turing Machines",
arXiv:1410.5401, 2014, Section 4.4, footnote 4, Equation 10, Figures 13-15;
checked against a stored full text of the paper.  Public implementations
compared: vlgiitr/ntm-pytorch (``ntm/datasets/ngram.py``), fumin/ntm
(``ngram/ngram.go``).  The other four NTM tasks are in ``ntm``.
"""
from __future__ import annotations

import numpy as np

from .base import Batch, Evaluation, Task, _check_float, _check_int, as_rng
from .ntm import cost_bits

__all__ = ["DynamicNGrams", "ngram_context", "bayes_optimal"]


def ngram_context(bits: np.ndarray, t: int, n: int) -> np.ndarray:
    """(B,) the index of the (n-1)-bit context before position ``t`` of ``bits`` (B, L):
    ``bits[:, t-n+1 : t]`` read as a binary number, the oldest bit most significant."""
    weights = 2 ** np.arange(n - 2, -1, -1)
    return np.asarray(bits)[:, t - n + 1:t] @ weights


def bayes_optimal(bits, n: int) -> np.ndarray:
    """The Bayes-optimal predictions for an n-gram sequence: (B, L-1), entry [b, t] is
    P(bit t+1 = 1 | bits 0..t) (0-based positions) for the sequences ``bits`` (B, L) of 0/1.

    The first n-1 bits are i.i.d. Bernoulli(1/2), so they are predicted with 1/2.  A later bit
    follows its context c (the n-1 bits before it) with a probability drawn from Beta(1/2, 1/2)
    independently per context, so (the paper's Equation 10)

        P(B = 1 | N1, N0, c) = (N1 + 1/2) / (N1 + N0 + 1)

    where N1 and N0 count the ones and zeros seen after c so far, at positions n-1 .. t (the
    bits drawn from the table).
    """
    bits = np.asarray(bits).astype(int)
    B, L = bits.shape
    n = _check_int("n", n, low=2)
    counts = np.zeros((B, 2 ** (n - 1), 2))
    out = np.full((B, L - 1), 0.5)
    rows = np.arange(B)
    for j in range(n - 1, L):                    # j: the position being predicted
        c = ngram_context(bits, j, n)
        seen = counts[rows, c]
        out[:, j - 1] = (seen[:, 1] + 0.5) / (seen.sum(axis=1) + 1.0)
        counts[rows, c, bits[:, j]] += 1.0
    return out


class DynamicNGrams(Task):
    """Dynamic N-grams: Graves et al. 2014, Section 4.4.

    **Sequences**: for each sequence a fresh table of 2**(n-1) = 32
    probabilities, one per (n-1)-bit context, drawn independently from
    Beta(1/2, 1/2); ``length`` = 200 bits, of which the first n-1 = 5 are
    i.i.d. Bernoulli(1/2) (the paper's footnote 4) and each later bit is 1
    with the table's probability for the n-1 bits before it.  ``n`` = 6.

    **Input** (1 unit): bit t (0 or 1) at step t, t = 0 .. length-2.
    **Output** (1 unit, sigmoid, ``loss = "bce"``): the target at step t is
    bit t+1, so the network predicts bits 2..200 (1-based), 199 predictions,
    all judged (mask 1 everywhere; every sequence has the same length).

    **Metric**: the cost in bits: -sum log2 P(actual next bit) over the judged
    steps, per sequence, averaged over the sequences -- exact, not clipped, so
    an output of exactly 0 or 1 that is wrong costs infinitely many bits.
    The baseline is the Bayes-optimal predictor (:func:`bayes_optimal`, the
    paper's Equation 10), computed on the same sequences.

    **Criterion**: over ``test_size`` = 1000 fresh sequences (the paper's
    "validation set of 1000 length 200 sequences"), the network's mean cost
    is at most the optimal predictor's mean cost plus ``max_excess_bits`` =
    1.0 bit per sequence -- our choice.  The paper (Figure 13) reads about
    133 bits for the optimum, 133.5 for NTM with an LSTM controller, 134 with
    a feed-forward controller and 136 for LSTM, and says NTM "never quite
    reaches the optimum cost"; a 1-bit margin accepts both NTMs and rejects
    LSTM.  Per sequence (:meth:`sequence_results`): correct iff its cost
    exceeds the optimal cost of that sequence by at most ``max_excess_bits``;
    the error is that excess (at least 0).

    Verified (paper text): 6-grams, 32 probabilities from Beta(1/2, 1/2) per
    training example, 200 bits per sequence, the first 5 bits Bernoulli(1/2),
    "the network observes the sequence one bit at a time and is then asked to
    predict the next bit", Equation 10, the 1000-sequence validation set, cost
    in bits per sequence.  Our reading: which bits are judged.  With the 199
    predictions of bits 2..200 the optimal cost averages 132.05 bits (our
    run of 20,000 sequences, standard error 0.25); judging only bits 6..200
    would give about 128.05, predicting all 200 (the first from nothing, at
    exactly 1 bit) about 133.05, which fits the figure's "133" a little
    better.  We keep 199 because a network reading bit t can only predict the
    bits after the first without a separate start input; the difference is a
    constant 1 bit for the optimum and for any network that says 1/2 for the
    first bit, so excesses over the optimum compare directly with the
    paper's.  Training targets are the actual next bits, as in the paper
    ("binary targets"); the optimal predictions are a baseline, not a target.
    """

    name = "dynamic_ngrams"
    input_size, output_size, loss = 1, 1, "bce"

    def __init__(self, *, n: int = 6, length: int = 200, test_size: int = 1000,
                 max_excess_bits: float = 1.0):
        self.n = _check_int("n", n, low=2)
        self.length = _check_int("length", length, low=self.n + 1)
        self.test_size = _check_int("test_size", test_size)
        self.max_excess_bits = _check_float("max_excess_bits", max_excess_bits, strict=False)
        self._options = {"n": n, "length": length, "test_size": test_size,
                         "max_excess_bits": max_excess_bits}
        self.criterion_text = (f"mean cost (bits per sequence) <= Bayes-optimal cost + "
                               f"{self.max_excess_bits:g} over {self.test_size} fresh sequences")

    def sample(self, rng, batch: int) -> Batch:
        """``info``: ``bits`` (B, length) the sequences, ``probs`` (B, 2**(n-1)) their tables."""
        rng = as_rng(rng)
        B, L, n = _check_int("batch", batch), self.length, self.n
        probs = rng.beta(0.5, 0.5, size=(B, 2 ** (n - 1)))
        bits = np.zeros((B, L), dtype=int)
        bits[:, :n - 1] = rng.integers(0, 2, size=(B, n - 1))
        rows = np.arange(B)
        for t in range(n - 1, L):
            bits[:, t] = rng.random(B) < probs[rows, ngram_context(bits, t, n)]
        x = bits[:, :-1].T[..., None].astype(float)
        target = bits[:, 1:].T[..., None].astype(float)
        return Batch(x, target, np.ones((L - 1, B)), np.full(B, L - 1), {"bits": bits, "probs": probs})

    @staticmethod
    def _bits(batch: Batch) -> np.ndarray:
        """(B, length): the sequences, read back from the inputs and targets."""
        return np.concatenate([batch.x[:1, :, 0], batch.target[:, :, 0]]).T.round().astype(int)

    def optimal_outputs(self, batch: Batch) -> np.ndarray:
        """(T, B, 1): the Bayes-optimal predictions for ``batch``, shaped like the outputs."""
        return bayes_optimal(self._bits(batch), self.n).T[..., None]

    def _costs(self, batch: Batch, y):
        y = self._outputs_array(batch, y)
        net = cost_bits(y, batch.target, batch.mask, eps=0.0)
        best = cost_bits(self.optimal_outputs(batch), batch.target, batch.mask, eps=0.0)
        return net, best

    def sequence_results(self, batch: Batch, y) -> tuple[np.ndarray, np.ndarray]:
        """(correct, error) per sequence: cost <= optimal + ``max_excess_bits``; the excess (>= 0)."""
        net, best = self._costs(batch, y)
        excess = net - best
        return excess <= self.max_excess_bits, np.maximum(excess, 0.0)

    def evaluate_outputs(self, batch: Batch, y) -> Evaluation:
        """Solved iff the mean cost is at most the mean Bayes-optimal cost + ``max_excess_bits``."""
        net, best = self._costs(batch, y)
        mean, optimum = float(np.mean(net)), float(np.mean(best))
        return Evaluation(mean <= optimum + self.max_excess_bits,
                          {"cost_bits": mean, "optimal_bits": optimum, "excess_bits": mean - optimum,
                           "of": batch.size}, self.criterion_text)

    def success(self, net, params, rng) -> Evaluation:
        """Draw ``test_size`` fresh sequences from ``rng`` and judge the network's outputs on them."""
        batch = self.sample(as_rng(rng), self.test_size)
        return self.evaluate_outputs(batch, self.outputs(net, params, batch))
