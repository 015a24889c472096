"""Pictures of networks: the expanded graph (:func:`draw_graph`: PNG, SVG or Graphviz DOT)."""
from .dot import dot_text
from .draw import FORMATS, delay_label, draw_graph, figure, layered_layout

__all__ = ["FORMATS", "delay_label", "dot_text", "draw_graph", "figure", "layered_layout"]
