"""Hypothesis strategies for random networks, inputs and parameters.

- :func:`specs` draws the YAML text of a random network that is valid by
  construction (it always loads with :func:`graphrnn.loads`);
- :func:`inputs_for` draws a time-major input array for a loaded network;
- :func:`params_for` draws a parameter dict for a loaded network;
- :func:`cases` draws one :class:`Case` for a loaded network: input, parameters
  and a regression target together, each reproducible from a printed seed;
- :func:`trees` draws a random :class:`graphrnn.trees.Tree` (for ``over: tree``
  networks), shrinking toward a single leaf.

Every count is drawn with a small lower bound and every choice lists its
simplest option first, so failing examples shrink toward one input, one
node of size 1, ``op: sum``, ``activation: identity``, dense edges of delay
0, one step and one batch row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import yaml
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..ops import ACTIVATIONS, EDGE_KINDS

__all__ = ["specs", "inputs_for", "params_for", "cases", "Case", "sane_params", "target_for",
           "ALL_ACTIVATIONS", "trees"]

# identity first: sampled_from shrinks toward the first element
ALL_ACTIVATIONS = ("identity",) + tuple(sorted(a for a in ACTIVATIONS if a != "identity"))

# constants (weights, initial values) on a grid of eighths in [-1.5, 1.5]: exact in
# binary, readable in YAML, shrinking toward 0, never pathologically tiny
_small = st.integers(-12, 12).map(lambda k: k / 8)


def _edge_kinds(src_size: int, dst_size: int) -> list[str]:
    """Edge kinds that fit a src -> dst pair of sizes, simplest first."""
    kinds = ["dense"]
    if src_size == dst_size:
        kinds += ["identity", "diagonal", "fixed_scalar", "fixed_vector", "scalar"]
    if src_size == 1:
        kinds.append("broadcast")
    kinds.append("fixed_matrix")
    return kinds


@st.composite
def _edge(draw, src, dst, src_size, dst_size, min_delay, max_delay, truncate):
    """One edge record (a dict for the YAML ``edges:`` list)."""
    delay = draw(st.integers(min_delay, max_delay))
    kind = draw(st.sampled_from(_edge_kinds(src_size, dst_size)))
    edge = {"from": src, "to": dst}
    if kind == "dense":
        if draw(st.booleans()):
            edge["mask"] = draw(st.lists(st.lists(st.sampled_from([1, 0]), min_size=dst_size,
                                                  max_size=dst_size),
                                         min_size=src_size, max_size=src_size))
            if not any(map(any, edge["mask"])):     # an all-zero mask is refused (GR112)
                edge["mask"][0][0] = 1
        if draw(st.booleans()):
            edge["trainable"] = False
    elif kind in ("identity", "diagonal", "broadcast", "scalar"):
        edge["kind"] = kind
    else:
        edge["kind"] = "fixed"
        if kind == "fixed_scalar":
            edge["weights"] = draw(_small)
        elif kind == "fixed_vector":
            edge["weights"] = draw(st.lists(_small, min_size=dst_size, max_size=dst_size))
        else:
            edge["weights"] = draw(st.lists(st.lists(_small, min_size=dst_size, max_size=dst_size),
                                            min_size=src_size, max_size=src_size))
        if draw(st.booleans()):
            edge["trainable"] = True
    if delay:
        edge["delay"] = delay
    if truncate and draw(st.booleans()):
        edge["truncate"] = True
    return edge


@st.composite
def specs(draw, max_nodes: int = 4, max_size: int = 3, max_delay: int = 3,
          ops=("sum", "product"), activations=None, max_inputs: int = 2,
          max_extra_edges: int | None = None, truncate: bool = False) -> str:
    """Draw the YAML text of a random, valid network.

    What it draws:

    - 1..``max_inputs`` inputs ``x0``, ``x1`` of sizes 1..``max_size``;
    - 1..``max_nodes`` nodes ``n0``, ``n1``, ... each with a size
      1..``max_size``, an ``op`` from ``ops``, an activation from
      ``activations`` (default: every registered one, softmax included),
      for ``sum`` nodes ``bias`` on or off, and an ``initial`` of zeros, a
      constant or ``learned``;
    - constants (initial values, fixed weights) are multiples of 1/8 in
      [-1.5, 1.5]: exact in binary and never pathologically tiny;
    - a random evaluation order of the nodes.  Every node gets one *feeder*
      edge from an input or from a node earlier in that order (so every
      node, every product node in particular, has an incoming edge, and
      every output depends on an input), then 0..``max_extra_edges``
      (default 2 per node) more edges between random endpoints;
    - each edge a delay 0..``max_delay``: delay 0 only from an input or from
      an earlier node in the order, so the instantaneous subgraph is acyclic,
      while delayed edges may go anywhere, self-loops included; and a kind
      that fits the sizes: ``dense`` always (maybe masked, maybe
      ``trainable: false``), ``identity``/``diagonal``/``scalar``/``fixed`` with a
      scalar or vector weight between equal sizes, ``broadcast`` from size-1
      sources, ``fixed`` with a matrix between any sizes (maybe
      ``trainable: true``); at most one edge with a parameter per (source,
      destination, delay), so parameter names never clash, while
      weightless edges (identity, broadcast, frozen fixed) may repeat;
    - with ``truncate=True``, edges may carry ``truncate: true``;
    - 1-2 of the nodes as outputs (named after their nodes).

    Node names do not follow the evaluation order, so a planner that
    trusted name order would be caught.  Shrinks toward one input, one node
    of size 1, ``sum``/``identity``, no extra edges, dense edges of delay 0.
    """
    ops = tuple(ops)
    activations = tuple(ALL_ACTIVATIONS if activations is None else activations)
    n_inputs = draw(st.integers(1, max_inputs))
    n_nodes = draw(st.integers(1, max_nodes))
    input_sizes = {f"x{i}": draw(st.integers(1, max_size)) for i in range(n_inputs)}
    nodes, sizes = {}, dict(input_sizes)
    for i in range(n_nodes):
        name = f"n{i}"
        size = draw(st.integers(1, max_size))
        op = draw(st.sampled_from(ops))
        node = {"size": size}
        if op != "sum":
            node["op"] = op
        activation = draw(st.sampled_from(activations))
        if activation != "identity":
            node["activation"] = activation
        if op == "sum" and not draw(st.booleans()):
            node["bias"] = False
        initial = draw(st.sampled_from(["zeros", "constant", "learned"]))
        if initial == "constant":
            node["initial"] = draw(_small)
        elif initial == "learned":
            node["initial"] = "learned"
        nodes[name] = node
        sizes[name] = size
    order = draw(st.permutations(list(nodes)))
    position = {name: k for k, name in enumerate(order)}
    for name in input_sizes:
        position[name] = -1

    edges, used = [], set()

    def add(src, dst, min_delay):
        if min_delay > max_delay:
            return
        edge = draw(_edge(src, dst, sizes[src], sizes[dst], min_delay, max_delay, truncate))
        if EDGE_KINDS[edge.get("kind", "dense")].learned or edge.get("trainable"):
            key = (src, dst, edge.get("delay", 0))   # the parameter's name
            if key in used:
                return
            used.add(key)
        edges.append(edge)

    for k, dst in enumerate(order):   # feeders: an input or an earlier node
        src = draw(st.sampled_from(list(input_sizes) + list(order[:k])))
        add(src, dst, 0)
    extra = 2 * n_nodes if max_extra_edges is None else max_extra_edges
    for _ in range(draw(st.integers(0, extra))):
        src = draw(st.sampled_from(list(input_sizes) + list(order)))
        dst = draw(st.sampled_from(list(order)))
        add(src, dst, 0 if position[src] < position[dst] else 1)

    outputs = draw(st.lists(st.sampled_from(sorted(nodes)), min_size=1, max_size=2, unique=True))
    doc = {
        "graphrnn": 1,
        "name": "drawn",
        "inputs": input_sizes,
        "outputs": {name: sizes[name] for name in outputs},
        "nodes": nodes,
        "edges": edges,
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None)


@st.composite
def inputs_for(draw, net, max_steps: int = 4, max_batch: int = 3, min_batch: int = 1) -> np.ndarray:
    """Draw x of shape (T, B, net.input_size), T in 1..max_steps, B in min_batch..max_batch.

    Elements are floats in [-2, 2]; shrinks toward T = 1, B = min_batch and zeros.
    """
    steps = draw(st.integers(1, max_steps))
    batch = draw(st.integers(min_batch, max(min_batch, max_batch)))
    return draw(hnp.arrays(np.float64, (steps, batch, net.input_size),
                           elements=st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)))


def _sane(params: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for name, value in params.items():
        value = np.asarray(value, dtype=float)
        out[name] = np.array(np.clip(value + rng.uniform(-0.5, 0.5, value.shape), -2.0, 2.0))
    return out


def sane_params(net, seed: int) -> dict:
    """``net.init(seed)`` with uniform noise in [-0.5, 0.5] added, clipped to [-2, 2].

    What :func:`params_for` draws, as a plain function of the seed, so that a
    printed counterexample (``params = sane_params(net, 17)``) can be rebuilt.
    """
    return _sane(net.init(seed), seed)


def params_for(net):
    """A strategy for a parameter dict of ``net``: ``net.init(seed)`` made sane.

    Draws a seed (shrinking toward 0) and returns ``net.init(seed)`` with
    uniform noise in [-0.5, 0.5] added (so biases and learned initial values,
    which ``init`` sets to zero, are exercised too) and clipped to [-2, 2].
    Names, shapes and dtype are those of ``net.init``.
    """
    return st.integers(0, 2**32 - 1).map(lambda seed: sane_params(net, seed))


def target_for(net, x, seed: int) -> np.ndarray:
    """A regression target for ``net`` on ``x``: uniform in [-1, 1], shape (T, B, outputs)."""
    steps, batch = np.shape(x)[:2]
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (steps, batch, net.output_size))


@dataclass(frozen=True, eq=False)
class Case:
    """One drawn example: input ``x`` (T, B, I), ``params`` and a ``target`` (T, B, O).

    ``params`` is ``sane_params(net, param_seed)`` and ``target`` is
    ``target_for(net, x, target_seed)``, so :meth:`describe` can print the
    whole case as a few lines of Python.
    """

    x: np.ndarray
    params: dict
    param_seed: int
    target: np.ndarray
    target_seed: int

    @property
    def steps(self) -> int:
        return int(self.x.shape[0])

    @property
    def batch(self) -> int:
        return int(self.x.shape[1])

    def describe(self, indent: str = "    ") -> str:
        """The case as Python lines that rebuild it (``net`` being the network checked)."""
        text = np.array2string(self.x, separator=", ", threshold=60, floatmode="unique",
                               max_line_width=96)
        x_lines = [line for line in text.splitlines() if line.strip()]   # no blank lines between blocks
        lines = [f"T = {self.steps} step{'s' if self.steps != 1 else ''}, "
                 f"B = {self.batch} row{'s' if self.batch != 1 else ''}"]
        if self.x.size <= 60:
            lines.append(f"x = np.array({x_lines[0]}")
            pad = " " * len("x = np.array(")
            lines += [pad + line for line in x_lines[1:]]
            lines[-1] += ")"
        else:
            lines.append(f"x: shape {self.x.shape}, {x_lines[0]} ...")
        lines.append(f"params = graphrnn.testing.sane_params(net, {self.param_seed})")
        lines.append(f"target = graphrnn.testing.target_for(net, x, {self.target_seed})")
        return "\n".join(indent + line for line in lines)


@st.composite
def cases(draw, net, max_steps: int = 4, max_batch: int = 3, min_batch: int = 1) -> Case:
    """Draw a :class:`Case` for ``net``: x (see :func:`inputs_for`), params, target.

    Shrinks toward T = 1, B = ``min_batch``, x = 0, parameter seed 0 and
    target seed 0.
    """
    x = draw(inputs_for(net, max_steps=max_steps, max_batch=max_batch, min_batch=min_batch))
    param_seed = draw(st.integers(0, 2**32 - 1))
    target_seed = draw(st.integers(0, 2**16))
    return Case(x, sane_params(net, param_seed), param_seed, target_for(net, x, target_seed), target_seed)


@st.composite
def trees(draw, labels=("a", "b"), max_depth: int = 4, max_children: int = 2, max_nodes: int = 24,
          internal_labels=None):
    """Draw a :class:`graphrnn.trees.Tree`, valid by construction.

    Every node has 0..``max_children`` children and the tree is at most
    ``max_depth`` levels below the root and ``max_nodes`` nodes in all.
    Leaves carry a token of ``labels``; internal nodes one of
    ``internal_labels`` (default: ``labels``; ``()`` leaves them unlabelled).
    Child counts shrink toward 0 and tokens toward the first one, so a
    failing example shrinks toward a single leaf ``labels[0]``.
    """
    from ..trees import Tree
    inner = labels if internal_labels is None else internal_labels
    budget = [max_nodes - 1]    # nodes still allowed besides the root

    def node(depth: int) -> Tree:
        allowed = min(max_children, budget[0]) if depth < max_depth else 0
        count = draw(st.integers(0, max(0, allowed)))
        budget[0] -= count
        kids = tuple(node(depth + 1) for _ in range(count))
        if kids:
            label = draw(st.sampled_from(inner)) if inner else None
        else:
            label = draw(st.sampled_from(labels))
        return Tree(label, kids)

    return node(0)
