"""``kind: scalar`` — one learned number times the identity, between equal sizes: contribution g * src.

One gain for a whole vector: a learned leak or residual weight
(``h_t = act(W x_t + g h_{t-1})``) where ``diagonal`` would learn one weight
per unit.  The parameter has shape (); it starts at 1.0 (the identity)
unless ``init`` or ``weights`` say otherwise.
"""
from .edges import EdgeKind, Weighting, equal_sizes, no_masks, register_edge_kind

SCALAR = register_edge_kind(EdgeKind(
    name="scalar", doc="one learned number times the identity, equal sizes", learned=True,
    default_trainable=True, default_init=1.0, param_rank=0, refuses=no_masks(),
    size_problem=equal_sizes("scalar"),
    weighting=lambda weights: Weighting(elementwise=True, how="scalar"),
    forward=lambda src, w, dst: float(w) * src))
