"""``kind: identity`` — unit i feeds unit i, weight 1, between equal sizes: contribution src."""
from .edges import EdgeKind, Weighting, equal_sizes, register_edge_kind, weightless

_REFUSES, _NOTHING_TO_TRAIN = weightless("identity")

IDENTITY = register_edge_kind(EdgeKind(
    name="identity", doc="fixed, equal sizes", learned=False, default_trainable=False,
    refuses=_REFUSES, nothing_to_train=_NOTHING_TO_TRAIN,
    size_problem=equal_sizes("identity"),
    weighting=lambda weights: Weighting(elementwise=True),
    forward=lambda src, w, dst: src.copy()))
