"""Drawing the expanded graph of a network as PNG or SVG (Graphviz DOT: dot.py).

    from graphrnn.viz import draw_graph
    draw_graph(gr.load("elman"), "elman.png")      # or .svg, or .dot

The picture is layered left to right: inputs in the first column, then each
node in the column of its longest instantaneous path (delay-0 edges) from a
source, and output nodes that feed nothing instantaneously in the last
column.  Inputs are green boxes, hidden nodes blue ellipses, output nodes
orange ellipses with a thick border; every node shows its name and size.
Edges look as looks.py says: instantaneous edges solid black, delayed edges
dashed red labelled ``z⁻ᵈ``, tree links dotted blue labelled ``child k`` /
``children mean`` / ``parent``, masked edges purple labelled ``mask k/n``;
the legend lists the kinds the graph has.  Self-loops sit on
top of their node (fanned out when there are several; pointing outwards on
a ring, see :class:`Layout`).  Other arcs bow away from nodes they would cross.

Only matplotlib's object API is used (no pyplot, no global backend switch):
the figure renders off-screen with the Agg (PNG) or SVG canvas.  SVG text is
kept as text, so labels stay searchable.
"""
from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch, Patch

from ..graph.ir import Graph
from .dot import write_dot
from .layout import Layout, _output_nodes, layer_of, layered_layout, layout
from .looks import HIDDEN_STYLE, INPUT_STYLE, OUTPUT_STYLE, delay_label, edge_look, legend_entries

# layer_of, layout and Layout lived here before layout.py; they stay importable from here
__all__ = ["FORMATS", "Layout", "delay_label", "draw_graph", "figure", "layer_of", "layered_layout", "layout"]

FORMATS = (".png", ".svg", ".dot")

NODE_HEIGHT = 0.8
INCHES_PER_UNIT = 0.75
MAX_INCHES = 30.0
FONT_SIZE = 9.0
MAX_EDGE_LABELS = 80     # above this many labelled edges only self-loops get a label


def _as_graph(net_or_graph) -> Graph:
    if isinstance(net_or_graph, Graph):
        return net_or_graph
    ir = getattr(net_or_graph, "ir", None)
    if isinstance(ir, Graph):
        return ir
    raise TypeError(f"draw_graph needs a graphrnn Network or Graph, not {type(net_or_graph).__name__}")


def _node_label(graph: Graph, name: str, outputs: dict) -> str:
    node = graph.nodes[name]
    label = f"{name}\n[{node.size}]"
    extra = [o for o in outputs.get(name, ()) if o != name]
    if extra:
        label += "\n→ " + ", ".join(extra)
    return label


@dataclass(frozen=True)
class _Shape:
    """A node's outline in data coordinates: an ellipse or a (rounded) box."""

    x: float
    y: float
    rx: float              # half width
    ry: float              # half height
    box: bool

    def contains(self, px: float, py: float) -> bool:
        dx, dy = (px - self.x) / self.rx, (py - self.y) / self.ry
        return max(abs(dx), abs(dy)) < 1 if self.box else dx * dx + dy * dy < 1

    def boundary(self, angle: float) -> tuple[float, float]:
        """Where the ray from the centre at ``angle`` (radians) leaves the outline."""
        c, s = math.cos(angle), math.sin(angle)
        if self.box:
            t = 1 / max(abs(c) / self.rx, abs(s) / self.ry)
        else:
            t = 1 / math.hypot(c / self.rx, s / self.ry)
        return (self.x + t * c, self.y + t * s)

    def patch(self, style: dict):
        if self.box:
            return FancyBboxPatch((self.x - self.rx, self.y - self.ry), 2 * self.rx, 2 * self.ry,
                                  boxstyle="round,pad=0,rounding_size=0.12", zorder=3, **style)
        return Ellipse((self.x, self.y), 2 * self.rx, 2 * self.ry, zorder=3, **style)


def _bezier(a, c, b, t: float):
    """Point of the quadratic Bezier a-c-b at t."""
    u = 1 - t
    return (u * u * a[0] + 2 * u * t * c[0] + t * t * b[0], u * u * a[1] + 2 * u * t * c[1] + t * t * b[1])


def _exit(shape: _Shape, a, c, b, inside: float, outside: float) -> float:
    """The t in [inside, outside] where the curve crosses ``shape``'s outline (bisection)."""
    if shape.contains(*_bezier(a, c, b, outside)):
        return outside     # overlapping nodes: give up clipping
    for _ in range(24):
        mid = (inside + outside) / 2
        if shape.contains(*_bezier(a, c, b, mid)):
            inside = mid
        else:
            outside = mid
    return outside


def _clipped_arc(a, b, rad: float, shape_a: _Shape, shape_b: _Shape):
    """An arc from a to b bowed by ``rad`` (as matplotlib's ``arc3``), clipped to the outlines.

    Returns the clipped curve as a Path and the arc's midpoint (for a label).
    Clipping is done here, analytically, because matplotlib's patch
    clipping costs ~10 ms an edge, too slow for hundreds of edges.
    """
    c = ((a[0] + b[0]) / 2 + rad * (b[1] - a[1]), (a[1] + b[1]) / 2 - rad * (b[0] - a[0]))
    t0 = _exit(shape_a, a, c, b, 0.0, 0.5)
    t1 = _exit(shape_b, a, c, b, 1.0, 0.5)
    p0, p1 = _bezier(a, c, b, t0), _bezier(a, c, b, t1)
    # control point of the sub-curve [t0, t1]: p0 + (t1 - t0) / 2 * B'(t0)
    d = (2 * (1 - t0) * (c[0] - a[0]) + 2 * t0 * (b[0] - c[0]),
         2 * (1 - t0) * (c[1] - a[1]) + 2 * t0 * (b[1] - c[1]))
    q = (p0[0] + (t1 - t0) / 2 * d[0], p0[1] + (t1 - t0) / 2 * d[1])
    path = MplPath([p0, q, p1], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
    return path, _bezier(a, c, b, 0.5)


def _clearest_bow(a, b, others: list, choices=(0.3, -0.3, 0.5, -0.5, 0.15, -0.15)) -> float:
    """The arc bow (``rad``) from a to b that keeps farthest from the ``others`` shapes.

    Clearance is the smallest normalised distance ((dx/rx)^2 + (dy/ry)^2)
    from a sample of the arc to any other node, capped so that among the
    bows that are clear enough the first choice wins.
    """
    best, best_score = choices[0], -1.0
    for rad in choices:
        c = ((a[0] + b[0]) / 2 + rad * (b[1] - a[1]), (a[1] + b[1]) / 2 - rad * (b[0] - a[0]))
        score = 3.0
        for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            x, y = _bezier(a, c, b, t)
            for sh in others:
                score = min(score, ((x - sh.x) / sh.rx) ** 2 + ((y - sh.y) / sh.ry) ** 2)
        if score > best_score + 1e-9:
            best, best_score = rad, score
    return best


def _loop(shape: _Shape, angle: float):
    """A self-loop leaving the node at ``angle`` (radians): (path, label point)."""
    spread = 0.4
    a, b = shape.boundary(angle + spread), shape.boundary(angle - spread)
    d = (math.cos(angle), math.sin(angle))
    p = (-d[1], d[0])                          # towards a's side
    half = math.dist(a, b) / 2
    reach = 0.65
    c1 = (a[0] + reach * d[0] + half * p[0], a[1] + reach * d[1] + half * p[1])
    c2 = (b[0] + reach * d[0] - half * p[0], b[1] + reach * d[1] - half * p[1])
    path = MplPath([a, c1, c2, b], [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4])
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    out = 0.75 * reach + 0.25
    return path, (mid[0] + out * d[0], mid[1] + out * d[1])


def _loop_angles(count: int, angle: float) -> list[float]:
    """Directions of a node's ``count`` self-loops: the first at ``angle``, then fanned to each side."""
    step = math.radians(55)
    return [angle + step * ((k + 1) // 2) * (1 if k % 2 else -1) for k in range(count)]


def _title(net_or_graph) -> str:
    graph = _as_graph(net_or_graph)
    count = getattr(net_or_graph, "num_params", None)
    title = f"{graph.name} — {len(graph.nodes)} nodes, {len(graph.edges)} edges"
    return title + (f", {count} parameters" if count is not None else "")


def figure(net_or_graph, title: str | None = None) -> Figure:
    """A matplotlib Figure of the expanded graph (see the module docstring)."""
    graph = _as_graph(net_or_graph)
    outputs = _output_nodes(graph)
    labels = {n: _node_label(graph, n, outputs) for n in graph.nodes}
    shapes_size = {}
    for name, label in labels.items():
        longest = max(len(line) for line in label.splitlines())
        width, height = max(1.1, 0.11 * longest + 0.5), NODE_HEIGHT + 0.28 * (label.count("\n") - 1)
        grow = 1.0 if graph.nodes[name].is_input else 1.12      # an ellipse needs more room than a box
        shapes_size[name] = (width * grow / 2, height * grow / 2)
    lay = layout(graph, {n: rx for n, (rx, _) in shapes_size.items()})
    shapes = {n: _Shape(*lay.pos[n], *shapes_size[n], graph.nodes[n].is_input) for n in graph.nodes}

    # geometry first (in data units), then a figure sized to hold it
    looks = {id(e): edge_look(e) for e in graph.edges}
    label_all = sum(1 for e in graph.edges if looks[id(e)].label) <= MAX_EDGE_LABELS
    arcs, loops, edge_labels = [], [], []
    pairs, self_loops = defaultdict(list), defaultdict(list)
    for edge in graph.edges:
        if edge.src == edge.dst:
            self_loops[edge.src].append(edge)
        else:
            pairs[tuple(sorted((edge.src, edge.dst)))].append(edge)
    obstacles = []          # self-loops, which arcs should avoid too
    for name, edges in self_loops.items():
        angle = math.pi / 2
        if lay.layer[name] in lay.ring:        # ring nodes loop outwards
            cx, cy = lay.ring[lay.layer[name]]
            angle = math.atan2(lay.pos[name][1] - cy, lay.pos[name][0] - cx)
        edges = sorted(edges, key=lambda e: (e.delay, str(e.link), e.kind))
        for edge, direction in zip(edges, _loop_angles(len(edges), angle)):
            path, mid = _loop(shapes[name], direction)
            loops.append((edge, path))
            obstacles.append(_Shape(*mid, 0.5, 0.45, False))    # the loop and its label
            if looks[id(edge)].label:
                edge_labels.append((mid, looks[id(edge)]))
    for (u, _), edges in pairs.items():
        n = len(edges)
        for k, edge in enumerate(sorted(edges, key=lambda e: (e.src, e.dst, e.delay, str(e.link), e.kind))):
            if n > 1:              # parallel edges fan out, one side each
                rad = 0.35 * (k - (n - 1) / 2) * (1 if edge.src == u else -1)
            else:                  # backward, same-column or column-skipping edges bow out
                span = lay.layer[edge.dst] - lay.layer[edge.src]
                rad = 0.0 if span == 1 or (span == 0 and lay.layer[edge.src] in lay.ring) else \
                    _clearest_bow(lay.pos[edge.src], lay.pos[edge.dst],
                                  [sh for m, sh in shapes.items() if m not in (edge.src, edge.dst)] + obstacles)
            path, mid = _clipped_arc(lay.pos[edge.src], lay.pos[edge.dst], rad,
                                     shapes[edge.src], shapes[edge.dst])
            arcs.append((edge, path))
            if looks[id(edge)].label and label_all:
                edge_labels.append((mid, looks[id(edge)]))
    points = [(s.x + dx, s.y + dy) for s in shapes.values() for dx in (-s.rx, s.rx) for dy in (-s.ry, s.ry)]
    points += [tuple(v) for _, path in arcs + loops for v in path.vertices]
    points += [(x + dx, y + dy) for (x, y), look in edge_labels
               for dx in (-0.06 * len(look.label) - 0.1, 0.06 * len(look.label) + 0.1) for dy in (-0.2, 0.2)]
    points = points or [(0.0, 0.0)]
    x0, x1 = min(p[0] for p in points) - 0.5, max(p[0] for p in points) + 0.5
    y0, y1 = min(p[1] for p in points) - 1.5, max(p[1] for p in points) + 1.0   # legend, title
    w_in, h_in = (x1 - x0) * INCHES_PER_UNIT, (y1 - y0) * INCHES_PER_UNIT
    scale = min(1.0, MAX_INCHES / max(w_in, h_in))
    font = max(4.0, FONT_SIZE * scale)
    fig = Figure(figsize=(max(w_in * scale, 4.0), max(h_in * scale, 3.0)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")

    for name, shape in shapes.items():
        style = INPUT_STYLE if shape.box else OUTPUT_STYLE if name in outputs else HIDDEN_STYLE
        ax.add_patch(shape.patch(style))
        ax.text(shape.x, shape.y, labels[name], ha="center", va="center", fontsize=font, zorder=4,
                fontweight="bold" if name in outputs else "normal", parse_math=False)
    for edge, path in arcs + loops:
        look = looks[id(edge)]
        ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=10 * max(scale, 0.6),
                                     shrinkA=0, shrinkB=0, color=look.color, linestyle=look.linestyle,
                                     linewidth=1.1 if look.timing == "instant" else 1.3,
                                     zorder=2.5 if look.timing == "instant" else 2))
    label_box = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85)
    for (x, y), look in edge_labels:
        ax.text(x, y, look.label, color=look.color, fontsize=font, ha="center",
                va="center", zorder=5, bbox=label_box, parse_math=False)

    handles = [Patch(label="input", **INPUT_STYLE), Patch(label="hidden node", **HIDDEN_STYLE),
               Patch(label="output node", **OUTPUT_STYLE)]
    handles += [Line2D([], [], color=look.color, linestyle=look.linestyle, label=label)
                for label, look in legend_entries(looks.values())]
    ax.legend(handles=handles, loc="lower left", fontsize=font * 0.85, frameon=False,
              ncol=len(handles) if (x1 - x0) > 16 + 3 * (len(handles) - 5) else 2, handlelength=2.4)
    if title is None:
        title = _title(net_or_graph)
        if not label_all:
            title += " (edge labels on self-loops only)"
    ax.text(x0 + 0.3, y1 - 0.2, title, ha="left", va="top", fontsize=font * 1.15, fontweight="bold",
            parse_math=False)
    return fig


def draw_graph(net_or_graph, path: str | os.PathLike, title: str | None = None, format: str | None = None) -> Path:
    """Write the expanded graph of a Network (or Graph) to ``path``: ``.png``, ``.svg`` or ``.dot``
    (Graphviz source, see dot.py); ``format`` (``png``, ``svg``, ``dot``) overrides the suffix.

    Raises ValueError for another format (before drawing anything) and
    OSError when the file cannot be written.
    """
    path = Path(path)
    suffix = "." + format.lower().lstrip(".") if format else path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot draw to `{path}`: unknown image format `{suffix or '(no suffix)'}`;"
                         f" use a file ending in {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    if suffix == ".dot":
        return write_dot(_as_graph(net_or_graph), path, title or _title(net_or_graph))
    fig = figure(net_or_graph, title)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "graphrnn"}):
        fig.savefig(path, format=suffix[1:], dpi=100, facecolor="white",
                    metadata={"Date": None} if suffix == ".svg" else None)
    return path
