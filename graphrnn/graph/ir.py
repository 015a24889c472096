"""The primitive graph: frozen Node and Edge records and the Graph that holds them.

After expansion there are no modules left: every node is an input or a
primitive node kind with a qualified name (``block1.in_gate``), and every
edge joins two such nodes.  Records are sorted by name so that nothing
downstream depends on the order of the YAML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from ..errors import Location

INPUT = "input"


def natural_key(name: str):
    """Sort key that puts u2 before u10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class Node:
    """A group of ``size`` units.  ``op == "input"`` marks an input port.

    ``initial`` is ``"zeros"``, ``"learned"`` or a float: the value read
    through a delayed edge before the first step.
    """

    name: str
    op: str
    size: int
    activation: str = "identity"
    bias: bool = False
    bias_init: object = "zeros"
    initial: object = "zeros"
    loc: Location = field(default=Location("<graph>"), compare=False)
    options: tuple = ()     # ((name, value), ...): a kind's options, e.g. a memory's slots and width

    @property
    def is_input(self) -> bool:
        return self.op == INPUT

    def __str__(self) -> str:
        if self.is_input:
            return f"{self.name}: input[{self.size}]"
        extras = " +bias" if self.bias else ""
        if self.initial != "zeros":
            extras += f" initial={self.initial}"
        if self.options:
            extras += " {" + ", ".join(f"{k}: {v}" for k, v in self.options) + "}"
        return f"{self.name}: {self.op}[{self.size}] {self.activation}{extras}"


@dataclass(frozen=True)
class Link:
    """Where a tree edge reads its source, relative to the position it computes.

    ``kind``: ``child`` reads the ``index``-th child (1 = leftmost);
    ``children`` pools over all children (``pool``: ``sum`` or ``mean``);
    ``parent`` reads the parent.  Prints as the spec's label:
    ``child1``, ``children.sum``, ``parent``.
    """

    kind: str
    index: int = 0
    pool: str = ""

    def __str__(self) -> str:
        if self.kind == "child":
            return f"child{self.index}"
        return f"children.{self.pool}" if self.kind == "children" else self.kind


@dataclass(frozen=True)
class Edge:
    """A weighted connection ``src -> dst`` read ``delay`` steps back (or, on trees, at ``link``).

    ``kind`` names its EdgeKind (graphrnn/ops/edges.py: dense, diagonal,
    identity, broadcast, fixed, ...).  ``param`` names the learned weight in
    the parameter dict (``None`` when the edge has no parameter);
    ``weights`` holds given values (nested tuples, a vector, or a float);
    ``mask`` a dense edge's 0/1 pattern.
    """

    src: str
    dst: str
    kind: str = "dense"
    delay: int = 0
    truncate: bool = False
    trainable: bool = True
    init: object = "glorot"
    weights: object = None
    mask: tuple | None = None
    param: str | None = None
    loc: Location = field(default=Location("<graph>"), compare=False)
    port: str = ""          # the destination's input port, for kinds that have ports
    link: Link | None = None  # trees: where the source is read; None reads it at this position

    @property
    def label(self) -> str:
        """The edge's default parameter name: ``src->dst`` plus ``.port`` and ``@delay`` (or ``@link``)."""
        return edge_label(self.src, self.dst, self.delay, self.port, self.link)

    @property
    def instant(self) -> bool:
        """True when the edge reads its source at the same position (no delay, no tree link)."""
        return self.delay == 0 and self.link is None

    def __str__(self) -> str:
        bits = [f"{self.src} -> {self.dst}" + (f".{self.port}" if self.port else ""), self.kind]
        if self.delay:
            bits.append(f"delay {self.delay}")
        if self.link:
            bits.append(str(self.link))
        if self.truncate:
            bits.append("truncated")
        if self.param:
            bits.append(f"[{self.param}{'' if self.trainable else ', frozen'}]")
        return "  ".join(bits)


def edge_label(src: str, dst: str, delay: int, port: str = "", link: Link | None = None) -> str:
    return (f"{src}->{dst}" + (f".{port}" if port else "") + (f"@{delay}" if delay else "")
            + (f"@{link}" if link is not None else ""))


@dataclass(frozen=True)
class ModuleInstance:
    """Where a module was inlined: its members are named ``<name>.<member>``."""

    name: str
    module: str
    params: tuple          # ((parameter, value), ...) as instantiated
    loc: Location = field(default=Location("<graph>"), compare=False)
    defaulted: tuple = field(default=(), compare=False)   # the parameters it took by default

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v}" + (" (default)" if k in self.defaulted else "") for k, v in self.params)
        return f"{self.name} = {self.module}({args})"


@dataclass(frozen=True)
class Graph:
    """An expanded network: nodes by name, edges, and the port maps.

    ``inputs`` maps each input port to its size in declaration order (that
    order fixes the layout of the input array); ``outputs`` maps each output
    name to the node that produces it, also in declaration order.
    """

    name: str
    file: str
    nodes: dict
    edges: tuple
    inputs: dict
    outputs: dict
    doc: str = ""
    instances: tuple = ()   # ModuleInstance records, outermost first
    over: str = "sequence"  # the structure positions follow: "sequence" or "tree"

    @cached_property
    def nx(self) -> nx.MultiDiGraph:
        """The graph as networkx: node attr ``node``, edge attr ``edge``, key = edge index."""
        g = nx.MultiDiGraph(name=self.name)
        for name, node in self.nodes.items():
            g.add_node(name, node=node)
        for i, edge in enumerate(self.edges):
            g.add_edge(edge.src, edge.dst, key=i, edge=edge, delay=edge.delay)
        return g

    @cached_property
    def _incoming(self) -> dict:
        table = {name: [] for name in self.nodes}
        for edge in self.edges:
            table[edge.dst].append(edge)
        return table

    def incoming(self, name: str) -> list:
        """Edges into ``name``, in the graph's (sorted) edge order."""
        return list(self._incoming[name])

    @cached_property
    def arity_edge(self):
        """The ``child: k`` edge with the largest k (None without one): it bounds a tree node's children."""
        picks = [e for e in self.edges if e.link is not None and e.link.kind == "child"]
        return max(picks, key=lambda e: e.link.index, default=None)

    @cached_property
    def max_arity(self) -> int | None:
        """The most children a tree node may have: None (unbounded) when an edge pools
        ``children:``, else the largest ``child: k`` (0 without one)."""
        if any(e.link is not None and e.link.kind == "children" for e in self.edges):
            return None
        return self.arity_edge.link.index if self.arity_edge else 0

    def __str__(self) -> str:
        lines = [f"graph {self.name}:"]
        lines += [f"  {node}" for node in self.nodes.values()]
        lines += [f"  {edge}" for edge in self.edges]
        lines += [f"  output {name} = {node}" for name, node in self.outputs.items()]
        return "\n".join(lines)
