"""Check stage: the invariants an expanded Graph must hold before planning.

:func:`check_graph` raises the first violation of, in this order:

1. every edge's source and destination sizes fit its kind's shape rule
   (GR106; the destination of an edge into a port is the port's size; see
   the kinds in graphrnn/ops/edge_*.py), given ``weights`` of a learned
   kind the parameter's shape, a ``mask`` the source x destination shape;
2. a parameter name belongs to one edge, or to edges that ``share`` it with
   the same shape (GR110, GR106);
3. every node kind that needs inputs has some (GR104);
0. every edge fits the network's structure: ``delay`` over sequences,
   ``child``/``children``/``parent`` over trees (GR120); node kinds with state (the
   NTM memory) run over sequences only (GR104);
4. no instantaneous cycle: every cycle passes through an edge with delay >= 1
   or a tree link (GR102, reporting the cycle with each edge's location);
5. a ``parent:`` edge reads nothing that depends on its destination (GR125);
6. every output depends on at least one input (GR107).
"""
from __future__ import annotations

import networkx as nx
import numpy as np

from ..errors import GraphError
from ..ops import EDGE_KINDS, OPS, input_ports
from .ir import Graph


def destination_size(edge, graph: Graph) -> int:
    """The units an edge writes into: its port's size for kinds whose ports have their own sizes."""
    node = graph.nodes[edge.dst]
    return input_ports(node)[edge.port] if edge.port else node.size


def param_shape(edge, graph: Graph) -> tuple:
    """Shape of an edge's parameter, by its kind: (src, dst) dense, (dst,) diagonal, weights' shape fixed."""
    return EDGE_KINDS[edge.kind].param_shape(graph.nodes[edge.src].size, destination_size(edge, graph), edge.weights)


def edge_sizes_agree(graph: Graph) -> None:
    for edge in graph.edges:
        kind = EDGE_KINDS[edge.kind]
        src, dst = graph.nodes[edge.src].size, destination_size(edge, graph)
        what = f"edge {edge.src} -> {edge.dst}"
        problem = kind.size_problem(what, src, dst, edge.weights)
        if problem:
            message, fix = problem
            raise GraphError("GR106", message, loc=edge.loc, fix=fix)
        if edge.weights is not None and kind.learned:
            shape, want = np.shape(edge.weights), param_shape(edge, graph)
            if shape not in ((), want):
                raise GraphError("GR106", f"{what}: weights of shape {shape}, expected {want}",
                                 loc=edge.loc, fix=f"give one number or an array of shape {want}")
        if edge.mask is not None and np.shape(edge.mask) != (src, dst):
            raise GraphError("GR112", f"{what}: mask of shape {np.shape(edge.mask)}, expected {(src, dst)}",
                             loc=edge.loc, fix=f"give {src} rows of {dst} zeros and ones")


def parameters_are_consistent(graph: Graph) -> None:
    owners: dict[str, list] = {}
    for edge in graph.edges:
        if edge.param:
            owners.setdefault(edge.param, []).append(edge)
    for param, edges in owners.items():
        edges = sorted(edges, key=lambda e: (e.loc.file, e.loc.line, e.loc.col))
        if len(edges) > 1 and any(e.param == e.label for e in edges):
            first, second = edges[0], edges[1]
            raise GraphError("GR110", f"two edges define the parameter `{param}`", loc=second.loc,
                             notes=(f"first at {first.loc}",),
                             fix="merge them into one edge, or tie them on purpose with `share: NAME`")
        shapes = {param_shape(e, graph) for e in edges}
        if len(shapes) > 1 or len({e.kind for e in edges}) > 1:
            raise GraphError("GR106", f"edges sharing `{param}` disagree on kind or shape "
                             f"({', '.join(sorted(map(str, shapes)))})", loc=edges[-1].loc,
                             fix="share weights only between edges of the same kind and sizes")


def nodes_have_inputs(graph: Graph) -> None:
    fed = {edge.dst for edge in graph.edges}
    for node in graph.nodes.values():
        if not node.is_input and OPS[node.op].needs_inputs and node.name not in fed:
            raise GraphError("GR104", f"`{node.op}` node `{node.name}` has no incoming edges",
                             loc=node.loc, fix=f"add an edge into `{node.name}`")


def instantaneous_cycles(graph: Graph) -> list[list]:
    """Cycles made only of delay-0 edges, each as its list of Edge records."""
    instant = nx.MultiDiGraph()
    instant.add_nodes_from(graph.nodes)
    for edge in graph.edges:
        if edge.instant:
            instant.add_edge(edge.src, edge.dst, edge=edge)
    cycles = []
    for component in nx.strongly_connected_components(instant):
        sub = instant.subgraph(component)
        if len(component) > 1 or sub.number_of_edges() > 0:
            found = nx.find_cycle(sub, source=min(component))
            cycles.append([sub.edges[u, v, k]["edge"] for u, v, k in found])
    return sorted(cycles, key=lambda c: [e.src for e in c])


def no_instantaneous_cycles(graph: Graph) -> None:
    cycles = instantaneous_cycles(graph)
    if not cycles:
        return
    cycle = cycles[0]
    path = " -> ".join([e.src for e in cycle] + [cycle[0].src])
    notes = tuple(f"edge {e.src} -> {e.dst} at {e.loc} has delay 0" for e in cycle)
    raise GraphError("GR102", f"instantaneous cycle {path}: each node needs the other's value "
                     "at the same step", loc=cycle[0].loc, notes=notes,
                     fix="add `delay: 1` to one of these edges, so the loop reads the previous step")


def outputs_reachable(graph: Graph) -> None:
    g = graph.nx
    for name, node in graph.outputs.items():
        if not any(graph.nodes[a].is_input for a in nx.ancestors(g, node)):
            raise GraphError("GR107", f"output `{name}` (node `{node}`) does not depend on any input",
                             loc=graph.nodes[node].loc,
                             fix=f"connect an input (or a node fed by one) to `{node}`")


def edges_fit_the_structure(graph: Graph) -> None:
    """Sequences read back with ``delay``; trees read children with ``child``/``children`` (GR120)."""
    for edge in graph.edges:
        what = f"edge {edge.src} -> {edge.dst}"
        if graph.over == "sequence" and edge.link is not None:
            raise GraphError("GR120", f"{what} reads `{edge.link}`, but the network runs over sequences",
                             loc=edge.loc, fix="add `over: tree` at the top of the network, or use `delay: 1`")
        if graph.over == "tree" and edge.delay:
            raise GraphError("GR120", f"{what} has `delay: {edge.delay}`, but the network runs over trees, "
                             "where positions have children, not predecessors", loc=edge.loc,
                             fix="read a child with `child: 1` (the first child) or pool them with "
                                 "`children: sum`")


def stateful_nodes_run_over_sequences(graph: Graph) -> None:
    """A node kind with state (the NTM memory) steps through time; a tree has no time."""
    for node in graph.nodes.values():
        if graph.over == "tree" and not node.is_input and OPS[node.op].stateful:
            raise GraphError("GR104", f"`{node.op}` node `{node.name}` keeps state from step to step, "
                             "but the network runs over trees", loc=node.loc,
                             fix="use it in an `over: sequence` network")


def parents_are_known_first(graph: Graph) -> None:
    """A ``parent:`` edge may read only values that do not depend on its destination (GR125):
    a tree node is evaluated before its parent, so the parent's value must come from an
    earlier, non-recurrent stage (its input, or nodes computed from inputs alone)."""
    for edge in graph.edges:
        if edge.link is not None and edge.link.kind == "parent" and (
                edge.src == edge.dst or edge.src in nx.descendants(graph.nx, edge.dst)):
            raise GraphError("GR125", f"edge {edge.src} -> {edge.dst} reads `{edge.src}` at the parent, but "
                             f"`{edge.src}` depends on `{edge.dst}`, which the parent is computed from",
                             loc=edge.loc, fix="read the parent's input, or a node computed from the inputs "
                                               "alone; pass values up the tree with `child:`/`children:`")


def check_graph(graph: Graph) -> Graph:
    """Raise GraphError for the first broken invariant (see module docstring); return the graph."""
    edges_fit_the_structure(graph)
    stateful_nodes_run_over_sequences(graph)
    edge_sizes_agree(graph)
    parameters_are_consistent(graph)
    nodes_have_inputs(graph)
    no_instantaneous_cycles(graph)
    parents_are_known_first(graph)
    outputs_reachable(graph)
    return graph
