"""The expanded graph as Graphviz DOT text (``graphrnn draw SPEC -o graph.dot``).

Written here directly (no pydot): render it with ``dot -Tpdf graph.dot -o graph.pdf``, or
open it in any Graphviz viewer.  Nodes and edges look as in the PNG/SVG pictures
(looks.py): inputs green boxes, hidden nodes blue ellipses, outputs orange with a thick
border; instantaneous edges solid, delayed edges dashed red ``z⁻ᵈ``, tree links dotted
blue ``child k``, masked edges purple ``mask k/n``.  Edges that read back in time or
along a tree link do not constrain the left-to-right ranking (``constraint=false``), so
the layout follows the instantaneous flow, as the pictures do.  A legend node lists the
edge styles the graph uses.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..atomic import write_atomic
from ..graph.ir import Graph
from .layout import _output_nodes
from .looks import HIDDEN_STYLE, INPUT_STYLE, OUTPUT_STYLE, edge_look, legend_entries

__all__ = ["dot_text", "write_dot"]

GLYPHS = {"instant": "———", "delayed": "- - -", "link": "· · ·"}    # the legend's line samples


def quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, line breaks as ``\\n``."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**attrs) -> str:
    return "[" + ", ".join(f"{k}={quote(v)}" for k, v in attrs.items()) + "]"


def _node_style(style: dict) -> dict:
    return {"fillcolor": style["facecolor"], "color": style["edgecolor"], "penwidth": f"{style['linewidth']:g}"}


def dot_text(graph: Graph, title: str = "") -> str:
    """The DOT source of ``graph`` (a graphrnn Graph): one ``digraph``, nodes in the graph's order."""
    outputs = _output_nodes(graph)
    lines = [f"digraph {quote(graph.name)} {{",
             "  rankdir=LR;",
             f"  label={quote(title or graph.name)}; labelloc=t; fontname=\"Helvetica\";",
             '  node [fontname="Helvetica", style="filled"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for name, node in graph.nodes.items():
        label = f"{name}\n[{node.size}]"
        extra = [o for o in outputs.get(name, ()) if o != name]
        if extra:
            label += "\n→ " + ", ".join(extra)
        if node.is_input:
            attrs = dict(shape="box", style="rounded,filled", **_node_style(INPUT_STYLE))
        else:
            attrs = dict(shape="ellipse", **_node_style(OUTPUT_STYLE if name in outputs else HIDDEN_STYLE))
        lines.append(f"  {quote(name)} {_attrs(label=label, **attrs)};")
    inputs = [quote(n) for n, node in graph.nodes.items() if node.is_input]
    if inputs:
        lines.append(f"  {{rank=source; {'; '.join(inputs)};}}")
    looks = []
    for edge in graph.edges:
        look = edge_look(edge)
        looks.append(look)
        attrs = dict(color=look.color, fontcolor=look.color, style=look.dot_style)
        if look.label:
            attrs["label"] = look.label
        if look.timing != "instant":
            attrs["constraint"] = "false"
        lines.append(f"  {quote(edge.src)} -> {quote(edge.dst)} {_attrs(**attrs)};")
    rows = "".join(f'<TR><TD><FONT COLOR="{look.color}">{GLYPHS[look.timing]}</FONT></TD>'
                   f'<TD ALIGN="LEFT">{_html(label)}</TD></TR>' for label, look in legend_entries(looks))
    lines.append(f'  "(legend)" [shape=plaintext, style="", label=<<TABLE BORDER="0" CELLBORDER="0">{rows}</TABLE>>];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_dot(graph: Graph, path: str | os.PathLike, title: str = "") -> Path:
    """Write :func:`dot_text` to ``path`` (UTF-8, atomically); returns the path."""
    return write_atomic(Path(path), dot_text(graph, title).encode("utf-8"))
