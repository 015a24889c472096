"""Pictures of networks: the expanded graph (:func:`draw_graph`)."""
from .draw import FORMATS, delay_label, draw_graph, figure, layered_layout

__all__ = ["FORMATS", "delay_label", "draw_graph", "figure", "layered_layout"]
