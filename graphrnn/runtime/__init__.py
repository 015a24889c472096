"""Emit stage: the engines (runtime/engine.py) and the networks users hold over them.

Public entry points: :class:`Network` (sequences), :class:`TreeNetwork`
(``over: tree``), the :class:`Engine` interface and its registry ``ENGINES``.
"""
from .engine import ENGINES, Engine, engine_for
from .network import Network
from .trace import Trace
from .tree_network import TreeNetwork, TreeTrace

__all__ = ["ENGINES", "Engine", "Network", "Trace", "TreeNetwork", "TreeTrace", "engine_for"]
