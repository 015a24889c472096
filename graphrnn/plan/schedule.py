"""Plan stage: a checked Graph -> a vectorised :class:`Plan`.

The passes, each a function below:

- :func:`stages_by_recurrence` splits nodes into stages: the nodes of each
  recurrent strongly connected component must step through time; every
  other node depends only on whole sequences and runs for all T at once;
- :func:`group_into_blocks` merges the nodes of one stage level that share
  op, activation and factor count into one vector block, so a unit-level
  graph of N size-1 nodes runs as one N-unit block;
- :func:`fuse_projections` turns all edges from one source block with one
  delay (and truncation) into one matrix product whose columns are split
  among the destination blocks; projections whose source lies in an earlier
  stage are hoisted out of the time loop.

The result does not depend on the order of nodes or edges in the YAML:
every pass sorts by name.
"""
from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np

from ..graph.ir import Graph
from ..ops import ACTIVATIONS, EDGE_KINDS, OPS, Weighting, input_ports
from .check import check_plan
from .ir import INPUT_BLOCK, Block, Fused, Member, Placement, Plan, Projection, Run, Stage, Target, natural_key


def stages_by_recurrence(graph: Graph) -> list[tuple[bool, list]]:
    """[(is_loop, node names)] in an order where every stage's sources come earlier.

    Nodes are levelled by the longest path in the condensation of the full
    graph (delayed edges included: a sequence-wide node needs its sources'
    whole sequences first).  At each level the non-recurrent nodes form one
    sequence stage and the recurrent components one loop stage.
    """
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges)
    cond = nx.condensation(g)
    level = {}
    for c in nx.topological_sort(cond):
        level[c] = max((level[p] + 1 for p in cond.predecessors(c)), default=0)
    stages: dict[tuple, list] = defaultdict(list)
    for c in cond.nodes:
        members = sorted(cond.nodes[c]["members"])
        if any(graph.nodes[m].is_input for m in members):
            continue
        # a node kind with state steps through time even where nothing loops back into it
        loop = len(members) > 1 or g.has_edge(members[0], members[0]) or OPS[graph.nodes[members[0]].op].stateful
        stages[(level[c], loop)].extend(members)
    return [(loop, sorted(nodes)) for (lvl, loop), nodes in sorted(stages.items())]


def instant_levels(graph: Graph, nodes: list) -> dict:
    """Longest-path level of each node over the stage's delay-0 edges."""
    inside = set(nodes)
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges
                     if e.instant and e.src in inside and e.dst in inside)
    level = {}
    for n in nx.topological_sort(g):
        level[n] = max((level[p] + 1 for p in g.predecessors(n)), default=0)
    return level


def factor_count(graph: Graph, node: str) -> int:
    """Slots per unit, as the node's kind says: one per port, one per edge (products), or one."""
    return OPS[graph.nodes[node].op].slot_count(len(graph.incoming(node)))


def group_into_blocks(graph: Graph, nodes: list, levels: dict, counter, fused: list) -> list[list[Block]]:
    """Blocks per level; nodes share a block when op, activation and factors agree.

    A per-node activation (softmax) couples a node's units, so such nodes
    are never merged with others.
    """
    groups: dict[tuple, list] = defaultdict(list)
    for name in nodes:
        node = graph.nodes[name]
        kind = OPS[node.op]
        solo = name if ACTIVATIONS[node.activation].per_node or kind.stateful else ""
        groups[(levels[name], node.op, node.activation, factor_count(graph, name), solo)].append(name)
    by_level: dict[int, list] = defaultdict(list)
    for (level, op, activation, factors, _), names in sorted(groups.items()):
        members, start = [], 0
        for name in sorted(names, key=natural_key):
            size = graph.nodes[name].size
            members.append(Member(name, start, start + size))
            start += size
        block_name = f"B{next(counter)}"
        ports = port_columns(graph, names)
        bias_width = ports[-1][2] if ports else start   # a port-sized kind's bias spans its ports
        bias = [Placement(f"{m.node}.bias", "vector", (), (0, bias_width) if ports else (m.start, m.stop))
                for m in members if graph.nodes[m.node].bias]
        bias_name = None
        if bias:
            bias_name = f"{block_name}.bias"
            fused.append(Fused(bias_name, (bias_width,), tuple(bias)))
        fused.append(Fused(f"{block_name}.initial", (start,), tuple(
            initial_placement(graph.nodes[m.node], m) for m in members)))
        options = graph.nodes[names[0]].options if len(names) == 1 else ()
        by_level[level].append(Block(block_name, tuple(members), op, activation, factors, start,
                                     level, bias_name, f"{block_name}.initial", ports, options,
                                     state_arrays(graph, names, block_name, fused)))
    return [by_level[lvl] for lvl in sorted(by_level)]


def port_columns(graph: Graph, names: list) -> tuple:
    """((port, start, stop), ...) of a one-node block of a stateful kind (its ports side by side), else ()."""
    node = graph.nodes[names[0]]
    if len(names) != 1 or not OPS[node.op].stateful:
        return ()
    columns, start = [], 0
    for port, size in input_ports(node).items():
        columns.append((port, start, start + size))
        start += size
    return tuple(columns)


def state_arrays(graph: Graph, names: list, block_name: str, fused: list) -> tuple:
    """Fused arrays for the learned initial state of a one-node block of a stateful kind."""
    node = graph.nodes[names[0]]
    kind = OPS[node.op]
    if len(names) != 1 or not kind.stateful:
        return ()
    out = []
    for suffix, (shape, _) in kind.state_params(dict(node.options)).items():
        how, rows = ("dense", (0, shape[0])) if len(shape) == 2 else ("vector", ())
        fused.append(Fused(f"{block_name}.{suffix}", tuple(shape),
                           (Placement(f"{node.name}.{suffix}", how, rows, (0, shape[-1])),)))
        out.append((suffix, f"{block_name}.{suffix}"))
    return tuple(out)


def initial_placement(node, member: Member) -> Placement:
    cols = (member.start, member.stop)
    if node.initial == "learned":
        return Placement(f"{node.name}.initial", "vector", (), cols)
    value = 0.0 if node.initial == "zeros" else float(node.initial)
    return Placement(None, "scalar", (), cols, value=value)


def weighting(edge) -> Weighting:
    """How the edge's weights enter its projection, as its kind says."""
    return EDGE_KINDS[edge.kind].weighting(edge.weights)


def edge_placement(edge, rows: tuple, cols: tuple) -> Placement:
    """Where a matmul edge's weights land: the rows x cols window of its projection's matrix."""
    how = weighting(edge).how
    mask = None if edge.mask is None else np.asarray(edge.mask, float)
    return Placement(edge.param, how, rows, cols, mask=mask,
                     value=None if edge.param else np.asarray(edge.weights, float))


def is_elementwise(edge) -> bool:
    """True when each destination unit reads exactly one source unit (no matmul needed)."""
    return weighting(edge).elementwise


def scale_placement(edge, cols: tuple) -> Placement | None:
    """Where an elementwise edge's scales land in the scale vector; None for a plain copy."""
    how = weighting(edge).how
    if how is None:
        return None
    return Placement(edge.param, how, (), cols, value=None if edge.param else np.asarray(edge.weights, float))


def fuse_projections(graph: Graph, stage_of: dict, blocks: dict, node_block: dict, fused: list):
    """Projections per (source block, delay, truncate, destination stage, kind).

    Dense and matrix edges from one source become one matmul whose columns
    are split among the destination blocks; elementwise edges (identity,
    diagonal, broadcast, scalar/vector fixed) become slices that add source
    columns into destination columns, adjacent edges merged into one slice.
    """
    factor_index = {}   # the slot an edge fills: its port's, or a product's k-th for its k-th edge
    for name, node in graph.nodes.items():
        if node.is_input:
            continue
        for k, edge in enumerate(graph.incoming(name)):
            factor_index[id(edge)] = OPS[node.op].slot_of(k, edge.port)
    groups: dict[tuple, list] = defaultdict(list)
    for edge in graph.edges:
        src_block, dst_block = node_block[edge.src][0], node_block[edge.dst][0]
        groups[(src_block, edge.delay, edge.truncate, stage_of[dst_block], is_elementwise(edge),
                edge.link)].append(edge)
    projections = []
    for (src_block, delay, truncate, dst_stage, elementwise, link), edges in sorted(
            groups.items(), key=lambda group: group[0][:5] + (str(group[0][5] or ""),)):
        target_names = sorted({node_block[e.dst][0] for e in edges}, key=lambda b: int(b[1:]))
        windows = []   # (edge, source columns, destination block, slot columns)
        for edge in edges:
            src_member = node_block[edge.src][1]
            dst_name, dst_member = node_block[edge.dst]
            ports = {p: (a, b) for p, a, b in blocks[dst_name].ports}
            if ports:
                columns = ports[edge.port]
            else:
                base = factor_index[id(edge)] * blocks[dst_name].width
                columns = (base + dst_member.start, base + dst_member.stop)
            windows.append((edge, (src_member.start, src_member.stop), dst_name, columns))
        src_width = blocks[src_block].width if src_block in blocks else sum(graph.inputs.values())
        # the fused array's name: unique, since these are the group's key (a truncated and a plain
        # projection, or a matmul and an elementwise one, may share source, delay and targets)
        label = f"{src_block}{'@' + str(delay) if delay else ''}{'@' + str(link) if link is not None else ''}->" \
                f"{','.join(target_names)}{'/stop' if truncate else ''}{'/elementwise' if elementwise else ''}"
        labels = tuple(e.label for e in edges)
        if elementwise:
            runs, placements, width = elementwise_runs(windows)
            fused.append(Fused(label, (width,), tuple(placements)))
            targets = tuple(Target(name, 0, blocks[name].slot_width) for name in target_names)
            projection = Projection(src_block, delay, truncate, label, targets, labels, runs, link)
        else:
            targets, offset = [], 0
            for name in target_names:
                targets.append(Target(name, offset, offset + blocks[name].slot_width))
                offset += blocks[name].slot_width
            start_of = {t.block: t.start for t in targets}
            fused.append(Fused(label, (src_width, offset), tuple(
                edge_placement(e, rows, (start_of[b] + c0, start_of[b] + c1)) for e, rows, b, (c0, c1) in windows)))
            projection = Projection(src_block, delay, truncate, label, tuple(targets), labels,
                                    link=link)
        projections.append((dst_stage, projection))
    return projections


def elementwise_runs(windows):
    """(runs, scale placements, scale vector length); runs contiguous in source,
    destination and scales are merged, so N unit-level identity edges can be one slice."""
    runs, placements, width = [], [], 0
    pieces = sorted(windows, key=lambda w: (int(w[2][1:]), w[3][0], w[1][0]))
    for edge, (s0, s1), block, (c0, c1) in pieces:
        n = c1 - c0
        placement = scale_placement(edge, (width, width + n))
        scale = None
        if placement is not None:
            placements.append(placement)
            scale, width = width, width + n
        broadcast = weighting(edge).broadcast and n > 1
        run = Run(block, s0, c0, n, scale, broadcast)
        last = runs[-1] if runs else None
        if (last and not broadcast and not last.broadcast and last.block == block
                and last.src + last.n == s0 and last.dst + last.n == c0
                and (last.scale is None) == (scale is None)
                and (scale is None or last.scale + last.n == scale)):
            runs[-1] = Run(block, last.src, last.dst, last.n + n, last.scale, False)
        else:
            runs.append(run)
    return tuple(runs), placements, width


def build_plan(graph: Graph) -> Plan:
    """Schedule, group and fuse a checked graph (see the module docstring); the plan is checked
    (:func:`check_plan`) before it is returned."""
    counter = iter(range(1, 1 << 30))
    fused: list[Fused] = []
    inputs, start = [], 0
    node_block = {}
    for name, size in graph.inputs.items():
        member = Member(name, start, start + size)
        inputs.append(member)
        node_block[name] = (INPUT_BLOCK, member)
        start += size
    stage_specs = stages_by_recurrence(graph)
    blocks, stage_levels, stage_of = {}, [], {INPUT_BLOCK: -1}
    for index, (loop, nodes) in enumerate(stage_specs):
        levels = instant_levels(graph, nodes) if loop else {n: 0 for n in nodes}
        grouped = group_into_blocks(graph, nodes, levels, counter, fused)
        for level in grouped:
            for block in level:
                blocks[block.name] = block
                stage_of[block.name] = index
                for member in block.members:
                    node_block[member.node] = (block.name, member)
        stage_levels.append(grouped)
    projections = fuse_projections(graph, stage_of, blocks, node_block, fused)
    stages = []
    for index, (loop, _) in enumerate(stage_specs):
        mine = [p for s, p in projections if s == index]
        hoisted = tuple(p for p in mine if stage_of[p.source] < index)
        inside = [p for p in mine if stage_of[p.source] == index]
        delayed = tuple(p for p in inside if p.delay > 0 or p.link is not None)
        instant = defaultdict(list)
        for p in inside:
            if p.delay == 0 and p.link is None:
                instant[p.source].append(p)
        stages.append(Stage(index, loop, tuple(tuple(level) for level in stage_levels[index]),
                            hoisted, delayed, tuple((b, tuple(ps)) for b, ps in sorted(instant.items())),
                            graph.over))
    lookback: dict = {}
    for _, p in projections:
        if p.delay:
            lookback[p.source] = max(lookback.get(p.source, 0), p.delay)
    plan = Plan(tuple(inputs), start, blocks, tuple(stages), tuple(fused), node_block,
                dict(graph.outputs), dict(sorted(lookback.items())))
    check_plan(plan)
    return plan
