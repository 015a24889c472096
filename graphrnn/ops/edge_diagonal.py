"""``kind: diagonal`` — a learned weight per unit between equal sizes: contribution src * w."""
from .edges import EdgeKind, Weighting, equal_sizes, no_masks, register_edge_kind

DIAGONAL = register_edge_kind(EdgeKind(
    name="diagonal", doc="learned per-unit weight, equal sizes", learned=True, default_trainable=True,
    default_init={"uniform": 0.1}, param_rank=1, refuses=no_masks(),
    size_problem=equal_sizes("diagonal"),
    weighting=lambda weights: Weighting(elementwise=True, how="vector"),
    forward=lambda src, w, dst: src * w))
