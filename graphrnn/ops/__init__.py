"""Node kinds and activations (registries).  Importing this registers the built-ins."""
from . import activations, product, sum  # noqa: F401  (registration side effects)
from .registry import ACTIVATIONS, OPS, Activation, OpKind, register_activation, register_op

__all__ = ["ACTIVATIONS", "OPS", "Activation", "OpKind", "register_activation", "register_op"]
