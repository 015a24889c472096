"""A deliberately naive reference interpreter: the step-by-step oracle.

:func:`reference_run` evaluates a primitive :class:`~graphrnn.graph.Graph`
(``net.ir``) with plain numpy, straight from its Node and Edge records: a
loop over positions t, and inside it a loop over the nodes in a topological
order of the delay-0 edges, and inside that a loop over each node's incoming
edges, one edge at a time.  It never touches the plan, the fused arrays or
``assemble``, so it is an independent check of the whole plan/emit pipeline.

Semantics (docs/spec.md):

- ``x`` is time-major (T, B, I), the inputs concatenated in declaration order;
- an edge with delay d reads its source at t - d; before the start it reads
  the source's ``initial`` value (zeros, a constant, or the learned
  parameter ``"<node>.initial"``; inputs read zeros);
- an edge's contribution is its kind's ``forward`` (graphrnn/ops/edge_*.py:
  ``dense`` src @ W, ``diagonal`` src * w, ``identity`` src, ...) given its
  weight: ``params[edge.param]`` when the edge has a parameter, else its
  constant ``weights``, times the mask if the edge has one;
- a combiner kind's node (``sum``, ``product``, ...): act(kind.combine(slots)
  + bias), the slots being one per port (the sum of the edges into it), one
  per edge (``factor_per_edge``, a product's factors) or one sum; a stateful
  kind's node (the NTM memory): act(its step on its ports, each the sum of
  the edges into it plus its part of the bias);
- ``truncate`` changes gradients only, so it is ignored here.
"""
from __future__ import annotations

import numpy as np

from ..graph.checks import destination_size
from ..graph.ir import Graph
from ..ops import ACTIVATIONS, EDGE_KINDS, OPS, input_ports

__all__ = ["reference_run", "instant_order"]


def instant_order(graph: Graph) -> list[str]:
    """All node names (inputs included) in a topological order of the delay-0 edges.

    Kahn's algorithm, taking the smallest ready name first, so the order is
    deterministic.  Raises ValueError on an instantaneous cycle.
    """
    indegree = {name: 0 for name in graph.nodes}
    successors: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for edge in graph.edges:
        if edge.delay == 0:
            indegree[edge.dst] += 1
            successors[edge.src].append(edge.dst)
    ready = sorted(name for name, d in indegree.items() if d == 0)
    order = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for dst in successors[name]:
            indegree[dst] -= 1
            if indegree[dst] == 0:
                ready.append(dst)
        ready.sort()
    if len(order) != len(graph.nodes):
        stuck = sorted(name for name, d in indegree.items() if d > 0)
        raise ValueError(f"instantaneous cycle among {', '.join(stuck)}")
    return order


def _initial_value(graph: Graph, params, name: str, batch: int) -> np.ndarray:
    """What a delayed edge reads from ``name`` before the first step: (B, size)."""
    node = graph.nodes[name]
    if node.is_input or node.initial == "zeros":
        row = np.zeros(node.size)
    elif node.initial == "learned":
        row = np.asarray(params[f"{name}.initial"], dtype=float)
    else:
        row = np.full(node.size, float(node.initial))
    return np.tile(row, (batch, 1))


def _contribution(graph: Graph, params, edge, src: np.ndarray) -> np.ndarray:
    """One edge's contribution (B, destination size) from its source's value ``src`` (B, src size)."""
    w = params[edge.param] if edge.param else edge.weights
    if w is not None:
        w = np.asarray(w, dtype=float)
        if edge.mask is not None:
            w = w * np.asarray(edge.mask, dtype=float)
    return EDGE_KINDS[edge.kind].forward(src, w, destination_size(edge, graph))


def reference_run(graph: Graph, params, x) -> dict[str, np.ndarray]:
    """Every node's values, node name -> (T, B, size), inputs included.

    ``graph`` is the expanded Graph record (``net.ir``), ``params`` the
    parameter dict (``net.init(seed)``), ``x`` the time-major input (T, B, I).
    """
    x = np.asarray(x, dtype=float)
    T, B = x.shape[0], x.shape[1]
    if x.shape[2] != sum(graph.inputs.values()):
        raise ValueError(f"x has {x.shape[2]} input columns, the graph reads {sum(graph.inputs.values())}")
    columns, start = {}, 0
    for name, size in graph.inputs.items():
        columns[name] = (start, start + size)
        start += size
    order = instant_order(graph)
    incoming = {name: [e for e in graph.edges if e.dst == name] for name in graph.nodes}
    history: dict[str, list] = {name: [] for name in graph.nodes}
    kept = {}   # a stateful kind's state, per node
    for name, node in graph.nodes.items():
        if not node.is_input and OPS[node.op].stateful:
            learned = {suffix: np.asarray(params[f"{name}.{suffix}"], dtype=float)
                       for suffix in OPS[node.op].state_params(dict(node.options))}
            kept[name] = OPS[node.op].initial_state(dict(node.options), learned, B, np.float64)

    for t in range(T):
        for name in order:
            node = graph.nodes[name]
            if node.is_input:
                lo, hi = columns[name]
                history[name].append(x[t, :, lo:hi].copy())
                continue
            kind = OPS[node.op]
            contributions = []   # (port, contribution (B, size)) per incoming edge
            for edge in incoming[name]:
                back = t - edge.delay
                src = history[edge.src][back] if back >= 0 else _initial_value(graph, params, edge.src, B)
                contributions.append((edge.port, _contribution(graph, params, edge, src)))
            if kind.stateful:   # its own step on its ports; its bias spans the ports
                by_port = {port: np.zeros((B, size)) for port, size in input_ports(node).items()}
                for port, c in contributions:
                    by_port[port] = by_port[port] + c
                if node.bias:
                    bias, start = np.asarray(params[f"{name}.bias"], dtype=float), 0
                    for port in by_port:
                        size = by_port[port].shape[-1]
                        by_port[port] = by_port[port] + bias[start:start + size]
                        start += size
                pre, kept[name], _ = kind.step(dict(node.options), by_port, kept[name])
            else:
                pre = np.asarray(kind.combine(kind.slots(contributions, node.size, B)), dtype=float)
                if node.bias:
                    pre = pre + np.asarray(params[f"{name}.bias"], dtype=float)
            history[name].append(np.asarray(ACTIVATIONS[node.activation].fn(pre), dtype=float))

    return {name: np.stack(rows) if rows else np.zeros((0, B, graph.nodes[name].size))
            for name, rows in history.items()}
