"""Fused arrays from the parameter dict, as one autograd primitive.

The plan fuses many edges into one matrix.  Building those matrices from
the user's ``dict[str, ndarray]`` with autograd ops would cost one tape node
per parameter (thousands for a unit-level net); :func:`assemble` is instead
a single primitive whose vector-Jacobian product scatters the cotangents of
the fused arrays back to the named parameters in plain numpy.
"""
from __future__ import annotations

import numpy as np
from autograd.extend import defvjp, primitive


def _window(placement):
    if placement.rows:
        return (slice(*placement.rows), slice(*placement.cols))
    return (slice(*placement.cols),)


def _diag_index(placement):
    r0, c0 = placement.rows[0], placement.cols[0]
    n = placement.cols[1] - c0
    return (np.arange(r0, r0 + n), np.arange(c0, c0 + n))


@primitive
def assemble(params, fused):
    """Fused arrays (list, one per ``fused`` recipe) from ``params`` (dict name -> array)."""
    out = []
    for recipe in fused:
        array = np.zeros(recipe.shape)
        for p in recipe.placements:
            value = p.value if p.param is None else params[p.param]
            if p.how == "dense":
                array[_window(p)] += value if p.mask is None else value * p.mask
            elif p.how == "diagonal":
                array[_diag_index(p)] += value
            elif p.how == "scaled_identity":
                array[_diag_index(p)] += value
            else:  # vector or scalar into a 1-D array
                array[_window(p)] += value
        out.append(array)
    return out


def _assemble_vjp(ans, params, fused):
    def vjp(g):
        grads = {name: np.zeros(np.shape(value)) for name, value in params.items()}
        for recipe, g_array in zip(fused, g):
            for p in recipe.placements:
                if p.param is None:
                    continue
                if p.how == "dense":
                    part = g_array[_window(p)]
                    grads[p.param] += part if p.mask is None else part * p.mask
                elif p.how == "diagonal":
                    grads[p.param] += g_array[_diag_index(p)]
                elif p.how == "scaled_identity":
                    grads[p.param] += np.sum(g_array[_diag_index(p)])
                elif p.how == "vector":
                    grads[p.param] += g_array[_window(p)]
                else:
                    grads[p.param] += np.sum(g_array[_window(p)])
        return grads
    return vjp


defvjp(assemble, _assemble_vjp)
