"""Node kinds, edge kinds and activations (registries).  Importing this registers the built-ins.

The built-in edge kinds are the modules ``edge_<kind>.py`` of this folder,
found and imported here, so adding one is adding its module.
"""
import importlib
import pkgutil

from . import activations, memory, product, sum  # noqa: F401  (registration side effects)
from .edges import EDGE_KINDS, EdgeKind, Weighting, register_edge_kind
from .installed import InstalledKindError, installed_kind, installed_kind_names
from .registry import (ACTIVATIONS, OPS, Activation, CombinerKind, NodeKind, StatefulKind, input_ports,
                       register_activation, register_op)

for _found in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("edge_")):
    importlib.import_module(f"{__name__}.{_found}")

__all__ = ["ACTIVATIONS", "EDGE_KINDS", "OPS", "Activation", "CombinerKind", "EdgeKind", "InstalledKindError",
           "NodeKind", "StatefulKind", "Weighting", "input_ports", "installed_kind", "installed_kind_names",
           "register_activation", "register_edge_kind", "register_op"]
