"""Expand and check stages: Spec -> primitive :class:`Graph`.

Public entry points: :func:`expand` and :func:`check_graph`.
"""
from .checks import check_graph, instantaneous_cycles
from .expand import expand
from .ir import Edge, Graph, Link, Node

__all__ = ["Edge", "Graph", "Link", "Node", "check_graph", "expand", "instantaneous_cycles"]
