"""``kind: broadcast`` — a size-1 source feeds every destination unit, weight 1."""
import numpy as np

from .edges import EdgeKind, Weighting, register_edge_kind, weightless

_REFUSES, _NOTHING_TO_TRAIN = weightless("broadcast")


def _one_source_unit(what: str, src: int, dst: int, weights):
    if src != 1:
        return (f"{what} is `broadcast` but its source has size {src}, not 1",
                "broadcast from a size-1 node, or use `kind: dense`")
    return None


BROADCAST = register_edge_kind(EdgeKind(
    name="broadcast", doc="a size-1 source feeds every destination unit, weight 1", learned=False,
    default_trainable=False, refuses=_REFUSES, nothing_to_train=_NOTHING_TO_TRAIN,
    size_problem=_one_source_unit,
    weighting=lambda weights: Weighting(elementwise=True, broadcast=True),
    forward=lambda src, w, dst: np.repeat(src, dst, axis=1)))
