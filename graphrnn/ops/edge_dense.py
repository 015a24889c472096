"""``kind: dense`` — a learned source x destination matrix: contribution src @ W (W masked)."""
from .edges import EdgeKind, Weighting, register_edge_kind

DENSE = register_edge_kind(EdgeKind(
    name="dense", doc="learned source x destination matrix", learned=True, default_trainable=True,
    default_init="glorot", param_rank=2,
    size_problem=lambda what, src, dst, weights: None,
    weighting=lambda weights: Weighting(elementwise=False, how="dense"),
    forward=lambda src, w, dst: src @ w))
