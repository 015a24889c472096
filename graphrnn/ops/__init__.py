"""Node kinds and activations (registries).  Importing this registers the built-ins."""
from . import activations, memory, product, sum  # noqa: F401  (registration side effects)
from .registry import ACTIVATIONS, OPS, Activation, OpKind, input_ports, register_activation, register_op

__all__ = ["ACTIVATIONS", "OPS", "Activation", "OpKind", "input_ports", "register_activation", "register_op"]
