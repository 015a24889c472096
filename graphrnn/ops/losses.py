"""Sequence losses over time-major outputs (T, B, O), each a mean over positions.

Beside each loss, its gradient with respect to the outputs in plain numpy
(``LOSS_GRADS``), the same numbers autograd's reverse pass gives: the fused
and compiled engines differentiate a loss with it and their own backward
pass, without a tape.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np

EPS = 1e-12


def _masked_mean(per_position, mask):
    """Mean of a (T, B) array over the positions where ``mask`` is 1."""
    if mask is None:
        return anp.mean(per_position)
    return anp.sum(per_position * mask) / anp.maximum(anp.sum(mask), 1.0)


def mse(y, target, mask=None):
    """Mean over positions and units of (y - target)^2."""
    return _masked_mean(anp.mean((y - target) ** 2, axis=-1), mask)


def bce(y, target, mask=None):
    """Binary cross-entropy; ``y`` are probabilities (a sigmoid output), clipped to [1e-12, 1-1e-12]."""
    p = anp.clip(y, EPS, 1.0 - EPS)
    return _masked_mean(anp.mean(-(target * anp.log(p) + (1.0 - target) * anp.log(1.0 - p)), axis=-1), mask)


def xent(y, target, mask=None):
    """Categorical cross-entropy; ``y`` are probabilities (a softmax output).

    ``target`` is one-hot / a distribution (T, B, O), or integer classes (T, B).
    """
    logp = anp.log(anp.clip(y, EPS, 1.0))
    if target.ndim == y.ndim - 1:
        onehot = (target[..., None] == anp.arange(y.shape[-1])).astype(float)
        return _masked_mean(-anp.sum(onehot * logp, axis=-1), mask)
    return _masked_mean(-anp.sum(target * logp, axis=-1), mask)


LOSSES = {"mse": mse, "bce": bce, "xent": xent}


def _position_weights(y, mask):
    """d (masked mean over positions) / d (each position's loss), shaped (..., 1) like y's positions."""
    if mask is None:
        return np.full(y.shape[:-1] + (1,), 1.0 / max(int(np.prod(y.shape[:-1])), 1))
    return (mask / max(float(np.sum(mask)), 1.0))[..., None]


def _clip_passes(p, low, high):
    """Where a clipped value took no bound, so its gradient passes (as autograd's clip rule)."""
    return np.logical_and(p != low, p != high)


def mse_grad(y, target, mask=None):
    """d mse / d y, shaped like y."""
    return (2.0 / y.shape[-1]) * (y - target) * _position_weights(y, mask)


def bce_grad(y, target, mask=None):
    """d bce / d y, shaped like y."""
    p = np.clip(y, EPS, 1.0 - EPS)
    per_unit = (-(target / p) + (1.0 - target) / (1.0 - p)) / y.shape[-1]
    return per_unit * _clip_passes(p, EPS, 1.0 - EPS) * _position_weights(y, mask)


def xent_grad(y, target, mask=None):
    """d xent / d y, shaped like y; ``target`` one-hot / a distribution, or integer classes."""
    p = np.clip(y, EPS, 1.0)
    if target.ndim == y.ndim - 1:
        target = (target[..., None] == np.arange(y.shape[-1])).astype(float)
    return -(target / p) * _clip_passes(p, EPS, 1.0) * _position_weights(y, mask)


LOSS_GRADS = {"mse": mse_grad, "bce": bce_grad, "xent": xent_grad}
