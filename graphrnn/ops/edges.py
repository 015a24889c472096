"""Edge kinds, looked up by the name a spec uses (``kind: diagonal``).

Each :class:`EdgeKind` holds every rule graphrnn has about one kind of
edge in one record, as autograd keeps a primitive's rules beside it: which
spec keys it accepts, whether it has a parameter (its default trainability
and init), its shape rule and its parameter's shape, how its weights enter
the plan's fused projections, and its contribution for the per-edge
reference interpreter.  The built-in kinds are the modules
``graphrnn/ops/edge_<kind>.py``, one per kind, imported by the package;
adding a kind is one module that builds an EdgeKind and calls
:func:`register_edge_kind`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .registry import register

Refusal = tuple   # (why, fix): the message of a GR104 about a spec key, and how to fix it


@dataclass(frozen=True)
class Weighting:
    """How an edge's weights enter the plan's fused projection (plan/schedule.py).

    A matmul edge (``elementwise`` false) lands in the source x destination
    window of its projection's matrix: ``how`` is ``dense`` (a matrix,
    masked by the edge's mask).  An elementwise edge (each destination unit
    reads one source unit) adds source columns into destination columns
    times a slice of the projection's scale vector: ``how`` is ``vector``
    (one scale per unit), ``scalar`` (one number for all units) or None (a
    plain copy); ``broadcast``: every destination unit reads the source's
    single unit.  The values are the edge's parameter, or its ``weights``
    (a constant) when it has none.
    """

    elementwise: bool
    how: str | None = None
    broadcast: bool = False


@dataclass(frozen=True, kw_only=True)
class EdgeKind:
    """Every rule of one edge kind.

    Reading (graph/expand.py):

    - ``learned``: the edge always has a parameter, drawn by ``init`` or
      started at its ``weights``; otherwise it has one only when
      ``trainable: true`` makes its ``weights`` the start of one;
    - ``default_trainable``; ``default_init`` (None: the kind takes no ``init``);
    - ``requires``: {key: (why, fix)}, keys the kind needs (GR104 at the edge);
    - ``refuses``: {key: (why, fix)}, keys it refuses, checked in this order
      (GR104 at the key); ``nothing_to_train``: (why, fix) refusing
      ``trainable: true``, or None.

    Checking (graph/checks.py):

    - ``size_problem(what, src, dst, weights) -> (message, fix) | None``:
      the shape rule (GR106) for ``src`` -> ``dst`` units, ``what`` naming
      the edge (``"edge a -> b"``);
    - ``param_rank``: a learned parameter's rank, 2 a (src, dst) matrix,
      1 a (dst,) vector, 0 a number; None when ``weights`` give its shape
      (see :meth:`param_shape`).

    Planning (plan/schedule.py): ``weighting(weights) -> Weighting``.  The
    kind has no gradient rule of its own: the fused engine differentiates
    a projection per matmul or elementwise run (runtime/fused.py) and
    scatters the fused arrays' gradients back to the parameters per
    placement ``how`` (runtime/assemble.py), so the placement fixes the
    gradient; the autograd engine differentiates the same arithmetic.

    Reference (testing/reference.py): ``forward(src, w, dst) -> (B, dst)``,
    the edge's contribution from its source's value ``src`` (B, src) and
    its weight ``w`` (the parameter, or the ``weights`` constant, masked;
    None for a kind without weights).
    """

    name: str
    doc: str
    learned: bool
    default_trainable: bool
    size_problem: Callable
    weighting: Callable
    forward: Callable
    default_init: object = None
    param_rank: int | None = None
    requires: dict = field(default_factory=dict)
    refuses: dict = field(default_factory=dict)
    nothing_to_train: Refusal | None = None

    def param_shape(self, src: int, dst: int, weights) -> tuple:
        """The shape of the edge's parameter between ``src`` and ``dst`` units (its ``weights``' shape
        for a kind whose weights give it)."""
        if self.param_rank is None:
            return np.shape(weights)
        return {2: (src, dst), 1: (dst,), 0: ()}[self.param_rank]


def equal_sizes(name: str) -> Callable:
    """The shape rule of a kind that joins unit i to unit i: equal sizes."""
    def size_problem(what: str, src: int, dst: int, weights):
        if src != dst:
            return (f"{what} is `{name}` but the sizes differ ({src} vs {dst})",
                    "make the sizes equal, or use `kind: dense`")
        return None
    return size_problem


def no_masks() -> dict:
    """The refusals of a kind whose weights are not a matrix: no ``mask``, no ``density``."""
    refusal = ("masks apply to dense edges only", "use `kind: dense` with a mask, or drop the mask")
    return {"mask": refusal, "density": refusal}


def weightless(name: str) -> tuple[dict, Refusal]:
    """(refusals, the refusal of ``trainable: true``) of a kind that has no weights at all."""
    refuses = {key: (f"`{name}` edges have no weights, so `{key}` means nothing",
                     f"remove `{key}`, or use `kind: diagonal`/`dense` for learned weights")
               for key in ("weights", "init", "mask", "density", "share")}
    return refuses, (f"`{name}` edges have nothing to train", "use `kind: diagonal` for a learned per-unit weight")


EDGE_KINDS: dict[str, EdgeKind] = {}


def register_edge_kind(kind: EdgeKind) -> EdgeKind:
    """Make ``kind`` available to specs as ``kind: <kind.name>``."""
    return register(EDGE_KINDS, kind.name, kind, "edge kind")
