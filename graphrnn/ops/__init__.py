"""Node kinds, edge kinds and activations (registries).  Importing this registers the built-ins."""
from . import activations, memory, product, sum  # noqa: F401  (registration side effects)
# the built-in edge kinds, one module each
from . import edge_broadcast, edge_dense, edge_diagonal, edge_fixed, edge_identity, edge_scalar  # noqa: F401
from .edges import EDGE_KINDS, EdgeKind, Weighting, register_edge_kind
from .registry import (ACTIVATIONS, OPS, Activation, CombinerKind, NodeKind, StatefulKind, input_ports,
                       register_activation, register_op)

__all__ = ["ACTIVATIONS", "EDGE_KINDS", "OPS", "Activation", "CombinerKind", "EdgeKind", "NodeKind", "StatefulKind",
           "Weighting", "input_ports", "register_activation", "register_edge_kind", "register_op"]
