"""The activations' in-place forms (fn_into, grad_into) agree with their plain forms bit for bit.

The fused engine runs the in-place forms; the autograd engine and the
compiled engine's references run the plain ones, and training results are
pinned bit for bit on the fused engine, so "to rounding" is not enough.
"""
import numpy as np
import pytest

from graphrnn.ops import ACTIVATIONS


def _samples():
    rng = np.random.default_rng(14)
    a = np.concatenate([rng.normal(scale=3.0, size=(7, 5)),
                        np.array([[0.0, -0.0, 40.0, -40.0, 1e-300]])])
    return a, rng.normal(size=a.shape)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_in_place_forms_match_plain_forms_bit_for_bit(name):
    activation = ACTIVATIONS[name]
    a, g = _samples()
    y = np.asarray(activation.fn(a))
    out = np.full_like(a, np.nan)
    activation.apply_into(a, out)
    assert np.array_equal(out, y)
    if activation.grad_from_output is None:
        return
    grad = np.full_like(a, np.nan)
    activation.grad_from_output_into(y, g, grad)
    assert np.array_equal(grad, activation.grad_from_output(y, g))


def test_in_place_forms_write_into_strided_views():
    a, g = _samples()
    wide = np.zeros((a.shape[0], 3 * a.shape[1]))
    view = wide[:, a.shape[1]:2 * a.shape[1]]
    ACTIVATIONS["sigmoid"].apply_into(a, view)
    assert np.array_equal(view, ACTIVATIONS["sigmoid"].fn(a))
    assert not wide[:, :a.shape[1]].any() and not wide[:, 2 * a.shape[1]:].any()
