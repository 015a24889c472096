"""``kind: fixed`` — constant ``weights``: a number (x identity), a vector (one per destination
unit) or a source x destination matrix; ``trainable: true`` learns them from that start."""
import numpy as np

from .edges import EdgeKind, Weighting, register_edge_kind


def _weights_fit(what: str, src: int, dst: int, weights):
    shape = np.shape(weights)
    if (shape == () and src == dst) or (shape == (dst,) and src == dst) or shape == (src, dst):
        return None
    return (f"{what}: fixed weights of shape {shape} do not fit {src} -> {dst} units",
            f"give a number or {dst} values (equal sizes), or a {src}x{dst} matrix")


def _weighting(weights) -> Weighting:
    ndim = np.ndim(weights)
    if ndim == 2:
        return Weighting(elementwise=False, how="dense")
    return Weighting(elementwise=True, how="scalar" if ndim == 0 else "vector")


def _forward(src, w, dst):
    w = np.asarray(w, dtype=float)
    if w.ndim == 0:
        return float(w) * src
    return src * w if w.ndim == 1 else src @ w


def _not_from(key: str) -> tuple:
    return f"`fixed` edges take their values from `weights`, not `{key}`", f"remove `{key}`"


FIXED = register_edge_kind(EdgeKind(
    name="fixed", doc="constant `weights`", learned=False, default_trainable=False,
    requires={"weights": ("a `fixed` edge needs `weights`", "add `weights: 1.0` (a number, a vector or a matrix)")},
    refuses={key: _not_from(key) for key in ("init", "mask", "density")},
    size_problem=_weights_fit, weighting=_weighting, forward=_forward))
