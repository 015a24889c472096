"""Handwritten digits as sequences: a graphrnn Task for the GRU gate-variant study.

The 8x8 digit images that ship with scikit-learn (``sklearn.datasets.load_digits``:
1,797 images, 16 grey levels, nothing downloaded) read as sequences, in the
two ways Dey & Salem (2017) read MNIST:

- ``rows``: T = 8 steps, each an image row of 8 pixels (x: (8, B, 8));
- ``pixels``: T = 64 steps, one pixel each, row by row (x: (64, B, 1)).

Pixels are scaled to [0, 1] (divided by 16).  The target is the digit's
class at the last step only (one-hot, mask 1 at t = T - 1, 0 before), the
loss ``xent`` (the network ends in a 10-way softmax).  Training batches are
drawn uniformly, with replacement, from the training images; the test is
the whole fixed test set: accuracy = argmax of the last step's output.
"""
from __future__ import annotations

import numpy as np

from graphrnn.tasks import Batch, Evaluation, Task

FORMS = {"rows": (8, 8), "pixels": (64, 1)}     # form -> (T, inputs per step)
CLASSES = 10


def load_digits_split(test_fraction: float = 0.25, seed: int = 0):
    """(train_images, train_labels, test_images, test_labels): scikit-learn's digits, pixels in
    [0, 1] (images (N, 8, 8)), split once, stratified by class, by ``seed``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    images = digits.images / 16.0
    train_x, test_x, train_y, test_y = train_test_split(
        images, digits.target, test_size=test_fraction, random_state=seed, stratify=digits.target)
    return train_x, train_y, test_x, test_y


def as_sequences(images: np.ndarray, form: str) -> np.ndarray:
    """Images (N, 8, 8) -> time-major sequences (T, N, inputs) for ``form`` (rows | pixels)."""
    steps, width = FORMS[form]
    return np.ascontiguousarray(np.asarray(images, float).reshape(len(images), steps, width).transpose(1, 0, 2))


class Digits(Task):
    """Classify a digit image read as a sequence (see the module docstring).

    ``evaluate_outputs`` judges the last step's argmax against the class;
    ``solved`` when the test accuracy reaches ``solved_at`` (the study trains
    with ``stop_when_solved=False`` and only reads the accuracy).
    """

    name = "digits"
    output_size = CLASSES
    loss = "xent"

    def __init__(self, train_images, train_labels, test_images, test_labels, *, form: str = "rows",
                 solved_at: float = 0.95):
        if form not in FORMS:
            raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
        self.form, self.solved_at = form, float(solved_at)
        self.steps, self.input_size = FORMS[form]
        self.train_x, self.train_y = as_sequences(train_images, form), np.asarray(train_labels, int)
        self.test_x, self.test_y = as_sequences(test_images, form), np.asarray(test_labels, int)
        self._options = dict(form=form, solved_at=solved_at)

    @property
    def train_size(self) -> int:
        return len(self.train_y)

    def batch_of(self, x: np.ndarray, labels: np.ndarray) -> Batch:
        """x (T, B, inputs), labels (B,) -> Batch: one-hot target and mask 1 at the last step only."""
        steps, size = x.shape[:2]
        target = np.zeros((steps, size, CLASSES))
        target[-1, np.arange(size), labels] = 1.0
        mask = np.zeros((steps, size))
        mask[-1] = 1.0
        return Batch(x, target, mask, np.full(size, steps), {"label": labels})

    def sample(self, rng, batch: int) -> Batch:
        picked = rng.integers(0, self.train_size, size=batch)
        return self.batch_of(self.train_x[:, picked], self.train_y[picked])

    def evaluate_outputs(self, batch: Batch, y) -> Evaluation:
        y = self._outputs_array(batch, y)
        predicted = np.argmax(y[-1], axis=-1)
        correct = int(np.sum(predicted == batch.info["label"]))
        accuracy = correct / batch.size
        return Evaluation(accuracy >= self.solved_at, {"accuracy": accuracy, "correct": correct, "of": batch.size},
                          f"last-step argmax = class on at least {self.solved_at:.0%} of the test images")

    def success(self, net, params, rng=None) -> Evaluation:
        """The fixed test set (``rng`` is not used: the test never changes)."""
        batch = self.batch_of(self.test_x, self.test_y)
        return self.evaluate_outputs(batch, self.outputs(net, params, batch))
