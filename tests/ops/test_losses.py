"""Each loss's gradient rule (ops/losses.py LOSS_GRADS) against autograd's derivative of the loss."""
from __future__ import annotations

import numpy as np
import pytest
from autograd import grad

from graphrnn.ops.losses import EPS, LOSS_GRADS, LOSSES


def _cases():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.02, 0.98, (5, 3, 4))
    y[0, 0, 0], y[1, 1, 1], y[2, 2, 2] = 0.0, 1.0, EPS   # clipped values: autograd passes no gradient
    mask = rng.integers(0, 2, (5, 3)).astype(float)
    targets = {"probabilities": rng.uniform(size=(5, 3, 4)), "classes": rng.integers(0, 4, (5, 3))}
    return y, mask, targets


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("target_kind", ["probabilities", "classes"])
def test_loss_gradient_rule_equals_autograd(kind, masked, target_kind):
    if target_kind == "classes" and kind != "xent":
        pytest.skip("class targets are xent's")
    y, mask, targets = _cases()
    target, weights = targets[target_kind], (mask if masked else None)
    want = grad(lambda out: LOSSES[kind](out, target, weights))(y)
    np.testing.assert_allclose(LOSS_GRADS[kind](y, target, weights), want, rtol=1e-12, atol=1e-15)


def test_every_loss_has_a_gradient_rule():
    assert set(LOSS_GRADS) == set(LOSSES)


def test_an_all_zero_mask_gives_a_zero_gradient_like_autograd():
    y, _, targets = _cases()
    zero = np.zeros(y.shape[:2])
    np.testing.assert_array_equal(LOSS_GRADS["mse"](y, targets["probabilities"], zero), 0.0)
