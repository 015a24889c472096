"""Where the nodes of a drawn graph go: columns by instantaneous depth, rows by barycentre, rings.

Inputs sit in the first column, every other node in the column of its
longest instantaneous path (delay-0 edges) from a source, and output nodes
that feed nothing instantaneously in the last column.  Pure geometry (no
matplotlib): :mod:`graphrnn.viz.draw` turns it into a picture.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from ..graph.ir import Graph

COLUMN_SPACE = 2.0       # data units between the widest nodes of neighbouring columns
RING_MIN_NODES = 6       # a column of this many inter-connected nodes becomes a ring
ROW_GAP = 1.5            # data units between nodes of one layer


def _output_nodes(graph: Graph) -> dict[str, list[str]]:
    """node name -> the output names it produces."""
    names: dict[str, list[str]] = defaultdict(list)
    for out, node in graph.outputs.items():
        names[node].append(out)
    return dict(names)


def layer_of(graph: Graph) -> dict[str, int]:
    """Column of each node: longest path over the instantaneous edges, inputs in column 0.

    Output nodes that feed nothing instantaneously then move one column past
    every other node, so the outputs end up on the right.  Assumes the
    delay-0 subgraph is acyclic (``check_graph`` guarantees it); otherwise
    the nodes are taken in name order.
    """
    instant = nx.DiGraph()
    instant.add_nodes_from(graph.nodes)
    instant.add_edges_from((e.src, e.dst) for e in graph.edges if e.instant and e.src != e.dst)
    order = list(nx.topological_sort(instant)) if nx.is_directed_acyclic_graph(instant) else \
        sorted(graph.nodes, key=lambda n: (not graph.nodes[n].is_input, _natural(n)))
    layer: dict[str, int] = {}
    for name in order:
        preds = [layer[p] for p in instant.predecessors(name) if p in layer]
        layer[name] = 0 if graph.nodes[name].is_input else max(preds, default=-1) + 1
    sinks = {n for n in _output_nodes(graph)
             if not graph.nodes[n].is_input and instant.out_degree(n) == 0}
    rest = [layer[n] for n in graph.nodes if n not in sinks]
    if sinks and rest:
        last = max(rest) + 1
        for name in sinks:
            layer[name] = max(last, 1)
    return layer


@dataclass(frozen=True)
class Layout:
    """Node centres, their columns, and the columns drawn as a ring.

    A column of many nodes joined among themselves (a unit-level fully
    recurrent layer) is laid out on a ring: chords between points on a
    circle never pass through a third node.
    """

    pos: dict
    layer: dict
    ring: dict             # column -> (centre x, centre y)


def layout(graph: Graph, half_widths: dict | None = None) -> Layout:
    """The layered layout; ``half_widths`` (node -> half width) spaces the columns."""
    half_widths = half_widths or {n: 0.6 for n in graph.nodes}
    layer = layer_of(graph)
    columns: dict[int, list[str]] = defaultdict(list)
    for name in graph.nodes:
        columns[layer[name]].append(name)
    input_rank = {name: i for i, name in enumerate(graph.inputs)}
    neighbours: dict[str, set] = defaultdict(set)
    inner: dict[int, int] = defaultdict(int)          # same-column edges per column
    for e in graph.edges:
        if e.src != e.dst:
            neighbours[e.dst].add(e.src)
            neighbours[e.src].add(e.dst)
            if layer[e.src] == layer[e.dst]:
                inner[layer[e.src]] += 1
    row_gap = ROW_GAP + (0.75 if any(e.src == e.dst for e in graph.edges) else 0.0)
    row: dict[str, float] = {}
    pos: dict[str, tuple[float, float]] = {}
    ring: dict[int, tuple[float, float]] = {}
    x, right = 0.0, None
    for col in sorted(columns):
        names = columns[col]
        width = max(half_widths[n] for n in names)
        if len(names) >= RING_MIN_NODES and inner[col] >= len(names):
            names.sort(key=_natural)
            radius = max(len(names) * row_gap / (2 * math.pi), 1.5)
            x = 0.0 if right is None else right + COLUMN_SPACE + radius + width
            ring[col] = (x, 0.0)
            for i, name in enumerate(names):
                angle = math.pi / 2 - 2 * math.pi * i / len(names)
                pos[name] = (x + radius * math.cos(angle), radius * math.sin(angle))
                row[name] = -pos[name][1] / row_gap
            right = x + radius + width
            continue
        if col == 0:
            names.sort(key=lambda n: (not graph.nodes[n].is_input, input_rank.get(n, 0), _natural(n)))
        else:
            def barycentre(n):
                seen = [row[m] for m in neighbours[n] if m in row]
                return sum(seen) / len(seen) if seen else 0.0
            names.sort(key=lambda n: (barycentre(n), _natural(n)))
        x = 0.0 if right is None else right + COLUMN_SPACE + width
        for i, name in enumerate(names):
            row[name] = i - (len(names) - 1) / 2
            pos[name] = (x, -row[name] * row_gap)
        right = x + width
    return Layout(pos, layer, ring)


def layered_layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """(x, y) of each node: inputs left, outputs right, columns by :func:`layer_of`.

    Inputs keep their declaration order; every other column is sorted by the
    mean row of its neighbours in earlier columns, to cut crossings; a
    column of many inter-connected nodes becomes a ring (see :class:`Layout`).
    """
    return layout(graph).pos


def _natural(name: str):
    """Sort key that puts u2 before u10."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name)]
