"""The parameter table of a graph, and seeded initialisation.

Names are stable and documented (docs/spec.md): ``"x->h"`` for an edge,
``"h->h@1"`` for a delayed edge, a ``share:`` name for tied weights,
``"h.bias"`` and ``"h.initial"`` for a node, module members qualified
(``"block1.in_gate.bias"``).  Dense weights are (source, destination) so a
row-vector batch multiplies them: ``y[B, src] @ W[src, dst]``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import GraphError, Location
from ..graph.checks import param_shape
from ..graph.ir import Graph
from ..ops import OPS, input_ports


@dataclass(frozen=True)
class ParamSpec:
    name: str
    shape: tuple
    init: object           # a scheme (see draw) or None when ``value`` is given
    value: object          # explicit initial values (``weights:``), or None
    trainable: bool
    mask: object
    loc: Location

    @property
    def count(self) -> int:
        """The entries that act in the network: all of them, or the mask's ones (masked entries are
        multiplied by 0, so they neither act nor learn, and are not counted)."""
        if self.mask is None:
            return int(np.prod(self.shape, dtype=int))
        return int(np.count_nonzero(np.asarray(self.mask, float)))


def parameter_table(graph: Graph) -> dict[str, ParamSpec]:
    """Every parameter the graph needs, by name, sorted."""
    table = {}
    for edge in graph.edges:
        if edge.param and edge.param not in table:
            table[edge.param] = ParamSpec(edge.param, param_shape(edge, graph), edge.init,
                                          edge.weights, edge.trainable, edge.mask, edge.loc)
    for node in graph.nodes.values():
        if node.bias:
            # a stateful kind takes its bias over its ports (the NTM memory's head parameters)
            width = sum(input_ports(node).values()) if OPS[node.op].stateful else node.size
            table[f"{node.name}.bias"] = ParamSpec(f"{node.name}.bias", (width,), node.bias_init,
                                                   None, True, None, node.loc)
        if node.initial == "learned":
            table[f"{node.name}.initial"] = ParamSpec(f"{node.name}.initial", (node.size,), "zeros",
                                                      None, True, None, node.loc)
        if not node.is_input and OPS[node.op].stateful:
            for suffix, (shape, init) in OPS[node.op].state_params(dict(node.options)).items():
                name = f"{node.name}.{suffix}"
                table[name] = ParamSpec(name, tuple(shape), init, None, True, None, node.loc)
    return dict(sorted(table.items()))


def draw(spec: ParamSpec, rng: np.random.Generator) -> np.ndarray:
    """Initial value of one parameter (float64, masked entries zero)."""
    shape = spec.shape
    if spec.value is not None:
        value = np.broadcast_to(np.asarray(spec.value, float), shape).copy()
    else:
        value = _scheme(spec, rng)
    return value if spec.mask is None else value * np.asarray(spec.mask, float)


def _scheme(spec: ParamSpec, rng) -> np.ndarray:
    init, shape = spec.init, spec.shape
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return np.full(shape, float(init))
    if init == "zeros":
        return np.zeros(shape)
    if init == "ones":
        return np.ones(shape)
    if init == "glorot":
        fan_in, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (1, 1)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)
    if init == "orthogonal":
        if len(shape) != 2:
            raise GraphError("GR112", f"`orthogonal` init needs a matrix, `{spec.name}` has shape {shape}",
                             loc=spec.loc, fix="use it on dense edges only")
        rows, cols = shape
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))   # a uniformly distributed orthogonal matrix
        return q if rows >= cols else q.T
    if isinstance(init, dict) and "uniform" in init:
        r = float(init["uniform"])
        return rng.uniform(-r, r, shape)
    if isinstance(init, dict) and "normal" in init:
        return rng.normal(0.0, float(init["normal"]), shape)
    raise GraphError("GR112", f"unknown init {init!r} for `{spec.name}`", loc=spec.loc,
                     fix="use zeros | ones | glorot | orthogonal | a number | {uniform: r} | {normal: std}")


def init_params(table: dict[str, ParamSpec], seed: int) -> dict[str, np.ndarray]:
    """Draw every parameter; each from its own stream, seeded by (seed, name).

    Because a parameter's stream depends only on its name, adding, removing
    or reordering other parameters never changes its value.
    """
    return {name: draw(spec, np.random.default_rng([seed, zlib.crc32(name.encode())]))
            for name, spec in table.items()}
