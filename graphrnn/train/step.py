"""One training step, the same in every training loop: differentiate, check, scale, update.

The training loop (:func:`graphrnn.train.loop.train`), the history
compressor's level training and its automatizer (:mod:`graphrnn.models`)
differ in what they differentiate and in how they sample and judge; the
step between is :func:`training_step`: it calls the loop's gradient function,
stops on a loss or gradient that is not finite (TrainError GR301, before the
update, so the parameters and any checkpoint stay as they were), multiplies
the gradients by the loss scale the loop declares (:func:`sse_scale`),
hands them to the optimizer and stops, the same way, on weights the update
made non-finite or larger than :data:`WEIGHT_LIMIT` (:func:`check_weights`;
the checkpoint writer refuses a non-finite optimizer state).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import TrainError

__all__ = ["Step", "training_step", "check_finite", "check_weights", "sse_scale", "LOSS_MODES", "WEIGHT_LIMIT"]

#: what a training loop minimises: the task's own loss (a mean over steps and units), or
#: the 1997 LSTM paper's E (:func:`sse_scale`)
LOSS_MODES = ("task", "sse")

#: the largest weight (in absolute value) a run may reach: the square root of the largest float64,
#: beyond which the product of two weights (or a weight and an input of the same size) overflows.
#: No network that computes anything meaningful comes near it; SGD at lr 1e308 jumps past it in
#: one update and then sits, saturated, with zero gradients, which is divergence, not training.
WEIGHT_LIMIT = float(np.sqrt(np.finfo(np.float64).max))


@dataclass(frozen=True)
class Step:
    """What one step did: ``loss`` the unscaled objective, ``grads`` the gradients (before
    scaling, one array per trainable parameter, shaped like it), ``outputs`` (T, B, O) the
    network's outputs when the gradient function kept them (else None), and the new
    ``params`` and optimizer ``state``."""

    loss: float
    grads: dict
    outputs: object
    params: dict
    state: dict


def check_finite(loss, grads, *, update: int, seen: int, label: str = "") -> None:
    """TrainError GR301 unless ``loss`` and every gradient are finite.

    ``update``: updates made before this one; ``seen``: sequences seen before this
    batch; ``label``: what is training, as a message prefix (``"level 1: "``).
    """
    # the gradients side by side: two numpy calls, not two per parameter
    if math.isfinite(float(loss)) and (not grads or np.isfinite(np.concatenate(list(grads.values()),
                                                                                axis=None)).all()):
        return
    raise TrainError("GR301", f"{label}the loss or a gradient became {float(loss)} at update {update + 1} "
                     f"({seen} sequences seen); training stopped, the last checkpoint is intact",
                     fix="lower the learning rate, clip gradients (`clip: {norm: 1}`), or check "
                         "the initial weights")


def check_weights(params: dict, *, update: int, seen: int, label: str = "") -> None:
    """TrainError GR301 when an update left a weight NaN, infinite or beyond :data:`WEIGHT_LIMIT`.
    ``update``, ``seen``, ``label``: as for :func:`check_finite` (counted before the update).

    One pass over all weights side by side (a check per array would cost a quarter of a small
    network's step); the optimizer state is checked where it is kept, by the checkpoint writer."""
    if not params:
        return
    largest = float(np.max(np.abs(np.concatenate([np.ravel(v) for v in params.values()]))))
    if largest < WEIGHT_LIMIT:               # False for NaN too
        return
    name = next(name for name, value in params.items() if not np.max(np.abs(value)) < WEIGHT_LIMIT)
    shown = "not finite" if not math.isfinite(largest) else f"{largest:.3g}, beyond {WEIGHT_LIMIT:.3g}"
    raise TrainError("GR301", f"{label}weight `{name}` became {shown} at update {update + 1} ({seen} sequences "
                     "seen); training stopped before the update was kept, the last checkpoint is intact",
                     fix="lower the learning rate, clip gradients (`clip: {norm: 1}`), or check the initial "
                         "weights")


def sse_scale(batch) -> float:
    """The factor that turns the gradient of a batch's mean squared error into that of
    E = 1/2 sum over output units and steps of (y - target)^2, averaged over the batch.

    The task's ``mse`` is a mean over the judged steps (``batch.mask`` (T, B)) and the
    O output units (``batch.target`` (T, B, O)); for one batch E = mse * O * (judged
    steps) / (2 B), a constant of the batch, so the gradient of E is that of mse times
    it: what the 1997 paper's learning rates refer to.
    """
    return batch.target.shape[-1] * float(np.sum(batch.mask)) / (2.0 * batch.size)


def training_step(gradient, params: dict, state: dict, optimizer, update: int, *, seen: int,
                  scale: float = 1.0, label: str = "") -> Step:
    """One update of ``params`` by ``optimizer`` (graphrnn.train.optimizers).

    ``gradient(params) -> (loss, grads, outputs)``: the objective of the batch, its
    gradients (a dict over the trainable parameters, each shaped like the parameter)
    and the outputs (T, B, O) or None.  ``state``: the optimizer state; ``update``:
    updates already made (the optimizer's step); ``seen``, ``label``: for the GR301
    message of :func:`check_finite`; ``scale``: the gradients are multiplied by it
    before the update (clipping then applies to the scaled gradients).
    """
    loss, grads, outputs = gradient(params)
    check_finite(loss, grads, update=update, seen=seen, label=label)
    applied = grads if scale == 1.0 else {name: g * scale for name, g in grads.items()}
    new_params, new_state = optimizer.update(params, applied, state, update)
    check_weights(new_params, update=update, seen=seen, label=label)
    return Step(loss, grads, outputs, new_params, new_state)
