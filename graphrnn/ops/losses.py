"""Sequence losses over time-major outputs (T, B, O), each a mean over positions."""
from __future__ import annotations

import autograd.numpy as anp

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
