"""The Neural Turing Machine tasks with binary-vector outputs (Graves, Wayne & Danihelka 2014, Section 4).

Copy (4.1), repeat copy (4.2), associative recall (4.3) and priority sort
(4.5); the dynamic N-grams task (4.4) is in ``ntm_ngrams``.  All four show a
sequence of random binary vectors (each bit 0 or 1 with probability 1/2,
drawn independently), mark the end of the input on extra flag channels, and
then ask for binary vectors while the input is all zero ("no inputs were
presented to the network while it receives the targets").  Only that answer
phase is judged: ``mask`` is 1 there and 0 elsewhere.  Lengths vary within a
batch; shorter sequences are padded at the end (mask 0).

The paper trains "logistic sigmoid output layers ... with the cross-entropy
objective function" (``loss = "bce"``) and reports "sequence prediction
errors ... in bits-per-sequence".  Each task here reports two numbers per
sequence, averaged over the sequences:

- ``bit_errors``: how many output bits, thresholded at 0.5 (``y >= 0.5`` is
  1), differ from the target over the answer phase -- the "bits of error per
  sequence" of the public implementations (e.g. loudinthecloud/pytorch-ntm,
  ``cost``); the success criterion uses it;
- ``cost_bits``: the cross-entropy over the answer phase in bits (base 2,
  summed over steps and channels, outputs clipped to [1e-12, 1 - 1e-12] like
  graphrnn's ``bce``).  The paper's learning curves (Figures 3, 7, 10, 18)
  plot "cost per sequence (bits)"; their starting values (18.5 bits for the
  18 target bits of associative recall, 125 for the 128 of priority sort)
  fit this cross-entropy rather than a count of wrong bits -- our reading.

Source text: A. Graves, G. Wayne and I. Danihelka, "Neural Turing Machines",
arXiv:1410.5401, 2014, Section 4 (4.1-4.3, 4.5), Figures 3-12 and 16-18,
Tables 1-3; checked against a stored full text of the paper.  Public
implementations compared: loudinthecloud/pytorch-ntm (``tasks/copytask.py``,
``tasks/repeatcopytask.py``), vlgiitr/ntm-pytorch (``ntm/datasets/``),
MarkPKCollier/NeuralTuringMachine (``generate_data.py``).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from ..ops.losses import EPS
from .base import Batch, Evaluation, Task, _check_float, _check_int, as_rng, pad

__all__ = ["Copy", "RepeatCopy", "AssociativeRecall", "PrioritySort", "bit_errors", "cost_bits"]


def bit_errors(y, target, mask) -> np.ndarray:
    """(B,) per sequence: outputs thresholded at 0.5 (``y >= 0.5`` -> 1) that differ from the
    target, counted over the steps where ``mask`` is 1 and over all channels."""
    wrong = (np.asarray(y) >= 0.5) != (np.asarray(target) >= 0.5)
    return np.sum(wrong * (np.asarray(mask)[..., None] > 0), axis=(0, 2)).astype(int)


def cost_bits(y, target, mask, eps: float = EPS) -> np.ndarray:
    """(B,) per sequence: the binary cross-entropy in bits, summed over the masked steps and all
    channels; outputs are clipped to [eps, 1 - eps] (``eps=0``: the exact log-loss, infinite
    where an output of exactly 0 or 1 is wrong)."""
    y, target = np.asarray(y, dtype=float), np.asarray(target, dtype=float)
    p = np.clip(y, eps, 1.0 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = -(np.where(target > 0, target * np.log2(p), 0.0)
                + np.where(target < 1, (1.0 - target) * np.log2(1.0 - p), 0.0))
    return np.sum(np.where(np.asarray(mask)[..., None] > 0, per, 0.0), axis=(0, 2))


class _BitsTask(Task):
    """Shared by the four tasks: batches from per-sequence arrays, judged by bits of error."""

    loss = "bce"

    def _judging(self, test_size, max_bit_errors):
        self.test_size = _check_int("test_size", test_size)
        self.max_bit_errors = _check_float("max_bit_errors", max_bit_errors)
        self.criterion_text = (f"bits of error per sequence (outputs thresholded at 0.5, answer phase) "
                               f"< {self.max_bit_errors:g} over {self.test_size} fresh sequences")

    def _batch(self, xs, targets, starts, info) -> Batch:
        """Pad per-sequence (L, I) inputs and (L, O) targets; the mask is 1 from ``starts[b]`` on."""
        lengths = np.array([len(x) for x in xs])
        masks = []
        for L, s in zip(lengths, starts):
            m = np.zeros((L, 1))
            m[s:] = 1.0
            masks.append(m)
        return Batch(pad(xs, self.input_size), pad(targets, self.output_size), pad(masks, 1)[..., 0],
                     lengths, info)

    def sequence_results(self, batch: Batch, y) -> tuple[np.ndarray, np.ndarray]:
        """(correct, error) per sequence: no bit of error in the answer phase; the bits of error."""
        errors = bit_errors(self._outputs_array(batch, y), batch.target, batch.mask)
        return errors == 0, errors.astype(float)

    def evaluate_outputs(self, batch: Batch, y) -> Evaluation:
        """Solved iff the mean bits of error per sequence is below ``max_bit_errors``."""
        y = self._outputs_array(batch, y)
        errors = bit_errors(y, batch.target, batch.mask)
        mean = float(np.mean(errors))
        cost = float(np.mean(cost_bits(y, batch.target, batch.mask)))
        return Evaluation(mean < self.max_bit_errors, {"bit_errors": mean, "cost_bits": cost,
                                                       "wrong": int(np.sum(errors > 0)), "of": batch.size},
                          self.criterion_text)

    def success(self, net, params, rng) -> Evaluation:
        """Draw ``test_size`` fresh sequences from ``rng`` and judge the network's outputs on them."""
        batch = self.sample(as_rng(rng), self.test_size)
        return self.evaluate_outputs(batch, self.outputs(net, params, batch))


def _range(low_name, low, high_name, high, least=1):
    low, high = _check_int(low_name, low, least), _check_int(high_name, high, least)
    if high < low:
        raise ConfigError(f"{high_name} must be >= {low_name} ({low}), got {high}", high_name)
    return low, high


class Copy(_BitsTask):
    """Copy: Graves et al. 2014, Section 4.1.

    **Input** (``bits + 1`` = 9 units): L random binary vectors of ``bits`` = 8
    bits (channels 0..7, steps 0..L-1), then one step with the delimiter flag
    (channel 8 = 1, all else 0), then L steps of all-zero input.  L is uniform
    in ``min_length`` .. ``max_length`` = 1 .. 20, drawn per sequence.

    **Output** (``bits`` = 8 units, sigmoid, ``loss = "bce"``): at steps
    L+1 .. 2L the input vectors in order ("the target sequence was simply a
    copy of the input sequence (without the delimiter flag)"); mask 1 there
    only.  A sequence is 2L + 1 steps long.

    **Criterion**: bits of error per sequence (see the module docstring),
    averaged over ``test_size`` = 1000 fresh sequences, below
    ``max_bit_errors`` = 0.1.  The paper gives learning curves only (both NTMs
    near zero cost by about 100k sequences, Figure 3), no success threshold;
    0.1 bits per sequence is the threshold of the graphrnn NTM issue (#8), our
    choice.  For the paper's generalisation tests (lengths 30, 50, 120) make
    the task with ``min_length = max_length = 30`` etc.

    Verified (paper text): 8-bit random vectors, lengths 1..20, a delimiter
    flag after the sequence, no input during the answer.  Our reading (as in
    loudinthecloud/pytorch-ntm): the delimiter on its own channel, the answer
    starting on the step after it, bits Bernoulli(1/2).  Not verified: the
    figures themselves (not seen) -- whether the paper's input also had a start
    marker; none is used.
    """

    name = "copy"

    def __init__(self, *, bits: int = 8, min_length: int = 1, max_length: int = 20,
                 test_size: int = 1000, max_bit_errors: float = 0.1):
        self.bits = _check_int("bits", bits)
        self.min_length, self.max_length = _range("min_length", min_length, "max_length", max_length)
        self.input_size, self.output_size = self.bits + 1, self.bits
        self._judging(test_size, max_bit_errors)
        self._options = {"bits": bits, "min_length": min_length, "max_length": max_length,
                         "test_size": test_size, "max_bit_errors": max_bit_errors}

    def sample(self, rng, batch: int) -> Batch:
        rng = as_rng(rng)
        n = self.bits
        lengths = rng.integers(self.min_length, self.max_length + 1, size=_check_int("batch", batch))
        xs, targets, starts, vectors = [], [], [], []
        for L in lengths:
            v = rng.integers(0, 2, size=(L, n)).astype(float)
            x = np.zeros((2 * L + 1, n + 1))
            x[:L, :n] = v
            x[L, n] = 1.0
            t = np.zeros((2 * L + 1, n))
            t[L + 1:] = v
            xs.append(x)
            targets.append(t)
            starts.append(L + 1)
            vectors.append(v)
        return self._batch(xs, targets, starts, {"length": lengths, "vectors": vectors})


class RepeatCopy(_BitsTask):
    """Repeat copy: Graves et al. 2014, Section 4.2.

    **Input** (``bits + 2`` = 10 units): L random binary vectors of 8 bits
    (channels 0..7, steps 0..L-1); at step L the delimiter flag (channel 8);
    at step L+1 the repeat count R on channel 9, normalised; then L*R + 1
    all-zero steps.  L is uniform in ``min_length`` .. ``max_length`` and R in
    ``min_repeats`` .. ``max_repeats`` (both 1 .. 10), drawn per sequence.

    **Normalisation**: the paper says "the input representing the repeat
    number was normalised to have mean zero and variance one".  Here
    ``(R - mean) / std`` with the mean ``(lo + hi) / 2`` and variance
    ``((hi - lo + 1)**2 - 1) / 12`` of the uniform distribution on the whole
    numbers lo .. hi (as loudinthecloud/pytorch-ntm does), so the channel has
    exactly mean 0 and variance 1 over the training distribution.  (lo, hi) is
    ``train_repeats``, default (``min_repeats``, ``max_repeats``); keep it at
    the training range when testing more repeats (the paper's Figure 8 doubles
    them), so that a count means the same as in training.  With lo = hi the
    variance is 0 and the std is taken as 1.

    **Output** (``bits + 1`` = 9 units): at steps L+2 .. L+1+L*R the input
    vectors R times over (channels 0..7, channel 8 zero); at the last step
    L+2+L*R the end marker (channel 8 = 1, channels 0..7 zero).  Mask 1 on
    these L*R + 1 steps only; a sequence is L + 3 + L*R steps long.

    **Criterion**: bits of error per sequence (all 9 output channels, so a
    missing or early end marker counts) over ``test_size`` = 1000 fresh
    sequences below ``max_bit_errors`` = 0.1 -- our choice; the paper gives
    learning curves (Figure 7: both NTMs and LSTM "solve it perfectly").

    Verified (paper text): 8-bit vectors, length and repeats uniform 1..10,
    "a scalar value indicating the desired number of copies, which appears on
    a separate input channel", normalised to mean 0 and variance 1, "then emit
    an end-of-sequence marker", no inputs after the sequence and the repeat
    number.  Our reading (as in loudinthecloud/pytorch-ntm): a delimiter flag
    channel before the count step, the end marker as an extra output channel,
    the answer starting after the count step.  Not verified: whether the paper
    had a separate delimiter at all (vlgiitr/ntm-pytorch puts a start flag
    first instead).
    """

    name = "repeat_copy"

    def __init__(self, *, bits: int = 8, min_length: int = 1, max_length: int = 10,
                 min_repeats: int = 1, max_repeats: int = 10, train_repeats: tuple | None = None,
                 test_size: int = 1000, max_bit_errors: float = 0.1):
        self.bits = _check_int("bits", bits)
        self.min_length, self.max_length = _range("min_length", min_length, "max_length", max_length)
        self.min_repeats, self.max_repeats = _range("min_repeats", min_repeats, "max_repeats", max_repeats)
        if train_repeats is None:
            lo, hi = self.min_repeats, self.max_repeats
        else:
            if not isinstance(train_repeats, (tuple, list)) or len(train_repeats) != 2:
                raise ConfigError(f"train_repeats must be a pair (lo, hi), got {train_repeats!r}", "train_repeats")
            lo, hi = _range("train_repeats[0]", train_repeats[0], "train_repeats[1]", train_repeats[1])
        var = ((hi - lo + 1) ** 2 - 1) / 12.0
        self.repeat_mean, self.repeat_std = (lo + hi) / 2.0, math.sqrt(var) if var > 0 else 1.0
        self.input_size, self.output_size = self.bits + 2, self.bits + 1
        self._judging(test_size, max_bit_errors)
        self._options = {"bits": bits, "min_length": min_length, "max_length": max_length,
                         "min_repeats": min_repeats, "max_repeats": max_repeats,
                         "train_repeats": train_repeats, "test_size": test_size,
                         "max_bit_errors": max_bit_errors}

    def normalise(self, repeats):
        """The repeat-count input: ``(R - mean) / std`` over the training range (see above)."""
        return (np.asarray(repeats, dtype=float) - self.repeat_mean) / self.repeat_std

    def sample(self, rng, batch: int) -> Batch:
        rng = as_rng(rng)
        n = self.bits
        batch = _check_int("batch", batch)
        lengths = rng.integers(self.min_length, self.max_length + 1, size=batch)
        repeats = rng.integers(self.min_repeats, self.max_repeats + 1, size=batch)
        xs, targets, starts, vectors = [], [], [], []
        for L, R in zip(lengths, repeats):
            v = rng.integers(0, 2, size=(L, n)).astype(float)
            T = L + 3 + L * R
            x = np.zeros((T, n + 2))
            x[:L, :n] = v
            x[L, n] = 1.0
            x[L + 1, n + 1] = self.normalise(R)
            t = np.zeros((T, n + 1))
            t[L + 2:T - 1, :n] = np.tile(v, (R, 1))
            t[T - 1, n] = 1.0
            xs.append(x)
            targets.append(t)
            starts.append(L + 2)
            vectors.append(v)
        return self._batch(xs, targets, starts, {"length": lengths, "repeats": repeats, "vectors": vectors})


class AssociativeRecall(_BitsTask):
    """Associative recall: Graves et al. 2014, Section 4.3.

    **Input** (``bits + 2`` = 8 units): k items, each ``item_length`` = 3
    random binary vectors of ``bits`` = 6 bits, each item preceded by one step
    with the item delimiter (channel 6); then the query: one step with the
    query delimiter (channel 7), the 3 vectors of item q, one more query
    delimiter step; then 3 all-zero steps.  k is uniform in ``min_items`` ..
    ``max_items`` = 2 .. 6; q is uniform over the items 0 .. k-2 (those with a
    next item).  A sequence is 4k + 8 steps long (``item_length`` = 3).

    **Output** (``bits`` = 6 units): item q+1 (its 3 vectors) on the last 3
    steps; mask 1 there only.

    **Criterion**: bits of error per sequence (out of 18) over ``test_size`` =
    1000 fresh sequences below ``max_bit_errors`` = 0.1 -- our choice; the
    paper's Figure 10 shows NTM reaching "near zero cost within approximately
    30,000 episodes".  Figure 11 tests 10, 15 and 20 items
    (``min_items = max_items = 10`` etc.).

    Verified (paper text): "an item as a sequence of binary vectors that is
    bounded on the left and right by delimiter symbols", "three six-bit binary
    vectors (giving a total of 18 bits per item)", 2..6 items, "we query by
    showing a random item, and we ask the network to produce the next item";
    Figure 12's caption and text: "item delimiters as single bits in row 7",
    "a delimiter that designates a query is presented (row 8)".  Our reading
    (as in vlgiitr/ntm-pytorch): the query item is bounded by query
    delimiters on both sides, the last item's right bound is the first query
    delimiter, the answer starts on the step after the second, and the last
    item is never the query.
    """

    name = "associative_recall"

    def __init__(self, *, bits: int = 6, item_length: int = 3, min_items: int = 2, max_items: int = 6,
                 test_size: int = 1000, max_bit_errors: float = 0.1):
        self.bits = _check_int("bits", bits)
        self.item_length = _check_int("item_length", item_length)
        self.min_items, self.max_items = _range("min_items", min_items, "max_items", max_items, least=2)
        self.input_size, self.output_size = self.bits + 2, self.bits
        self._judging(test_size, max_bit_errors)
        self._options = {"bits": bits, "item_length": item_length, "min_items": min_items,
                         "max_items": max_items, "test_size": test_size, "max_bit_errors": max_bit_errors}

    def sample(self, rng, batch: int) -> Batch:
        rng = as_rng(rng)
        n, m = self.bits, self.item_length
        batch = _check_int("batch", batch)
        counts = rng.integers(self.min_items, self.max_items + 1, size=batch)
        queries = rng.integers(0, counts - 1)
        xs, targets, starts, items = [], [], [], []
        for k, q in zip(counts, queries):
            its = rng.integers(0, 2, size=(k, m, n)).astype(float)
            q0 = k * (m + 1)
            T = q0 + 2 * m + 2
            x = np.zeros((T, n + 2))
            for i in range(k):
                x[i * (m + 1), n] = 1.0
                x[i * (m + 1) + 1:(i + 1) * (m + 1), :n] = its[i]
            x[q0, n + 1] = x[q0 + m + 1, n + 1] = 1.0
            x[q0 + 1:q0 + m + 1, :n] = its[q]
            t = np.zeros((T, n))
            t[T - m:] = its[q + 1]
            xs.append(x)
            targets.append(t)
            starts.append(T - m)
            items.append(its)
        return self._batch(xs, targets, starts, {"items": counts, "query": queries, "vectors": items})


class PrioritySort(_BitsTask):
    """Priority sort: Graves et al. 2014, Section 4.5.

    **Input** (``bits + 2`` = 10 units): L random binary vectors of ``bits`` =
    8 bits (channels 0..7, steps 0..L-1), each with its priority on channel 8,
    drawn uniformly from [-1, 1]; at step L a delimiter flag (channel 9); then
    K = min(``keep``, L) all-zero steps.  L is uniform in ``min_vectors`` ..
    ``max_vectors`` (default 20 .. 20), ``keep`` = 16.

    **Output** (``bits`` = 8 units): on the last K steps the K vectors of
    highest priority, highest first (ties, of probability zero, in input
    order); mask 1 there only.  A sequence is L + 1 + K steps long.

    **Criterion**: bits of error per sequence (out of 128) over ``test_size``
    = 1000 fresh sequences below ``max_bit_errors`` = 0.1 -- our choice.  The
    paper reports no solved run: its learning curves (Figure 18) end near
    18-20 bits of cost per sequence for the NTMs after a million sequences.

    Verified (paper text): "a scalar priority rating for each vector ...
    drawn uniformly from the range [-1, 1]", "each input sequence contained 20
    binary vectors ... each target sequence was the 16 highest-priority
    vectors in the input", "sorted according to their priorities".  Our
    reading: 8-bit vectors (the paper never gives the width here; 8 as in
    copy), priority on its own channel beside each vector, a delimiter channel
    (the paper mentions none; it marks the end of the input), highest priority
    first (a description of Figure 16 numbers the target by descending
    priority; not checked against the figure itself).
    """

    name = "priority_sort"

    def __init__(self, *, bits: int = 8, min_vectors: int = 20, max_vectors: int = 20, keep: int = 16,
                 test_size: int = 1000, max_bit_errors: float = 0.1):
        self.bits = _check_int("bits", bits)
        self.min_vectors, self.max_vectors = _range("min_vectors", min_vectors, "max_vectors", max_vectors)
        self.keep = _check_int("keep", keep)
        self.input_size, self.output_size = self.bits + 2, self.bits
        self._judging(test_size, max_bit_errors)
        self._options = {"bits": bits, "min_vectors": min_vectors, "max_vectors": max_vectors,
                         "keep": keep, "test_size": test_size, "max_bit_errors": max_bit_errors}

    def sample(self, rng, batch: int) -> Batch:
        rng = as_rng(rng)
        n = self.bits
        lengths = rng.integers(self.min_vectors, self.max_vectors + 1, size=_check_int("batch", batch))
        xs, targets, starts, vectors, priorities = [], [], [], [], []
        for L in lengths:
            v = rng.integers(0, 2, size=(L, n)).astype(float)
            pr = rng.uniform(-1.0, 1.0, size=L)
            K = min(self.keep, L)
            x = np.zeros((L + 1 + K, n + 2))
            x[:L, :n] = v
            x[:L, n] = pr
            x[L, n + 1] = 1.0
            t = np.zeros((L + 1 + K, n))
            t[L + 1:] = v[np.argsort(-pr, kind="stable")[:K]]
            xs.append(x)
            targets.append(t)
            starts.append(L + 1)
            vectors.append(v)
            priorities.append(pr)
        return self._batch(xs, targets, starts, {"length": lengths, "vectors": vectors,
                                                 "priorities": priorities})
