"""Resource limits, decided from the plan before anything is allocated.

Two budgets, each with a default a user can raise (``GRAPHRNN_MEMORY_LIMIT``
in bytes, with an optional K/M/G/T suffix: ``GRAPHRNN_MEMORY_LIMIT=16G``;
or :func:`set_memory_limit` from Python):

- :func:`check_network` (when a network is built, before its parameter
  table exists): the fused parameter arrays at ``BYTES_PER_PARAMETER`` an
  entry, and one step of every stateful node's state (an NTM memory's
  slots x width), for a batch of one;
- :func:`check_run` (before a run of T steps over B sequences): the values
  and pre-activation slots of every block at every step, the per-step state
  of stateful kinds, and as much again for the backward pass.  Delays cost
  nothing here: the engines read steps before the first from the initial
  value without materialising the delay (a delay longer than the run reads
  only initial values).

Both raise GR108 naming the block's nodes (or the fused array's parameters)
that make the estimate large, and say how to raise the limit.
"""
from __future__ import annotations

import os
import re

import numpy as np

from ..errors import PlanError
from .ir import Plan

DEFAULT_MEMORY_LIMIT = 4 * 2 ** 30
#: what one entry of a fused parameter array costs while a network is built, initialised and
#: differentiated: the parameter table, the fused arrays, the assembler's index tables, the
#: gradients (measured: a peak of 12-17 float64s per parameter; tests/plan/test_limits.py)
BYTES_PER_PARAMETER = 24 * 8
_SUFFIXES = {"": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}
_limit_override: int | None = None


def set_memory_limit(nbytes: int | None) -> None:
    """Raise (or lower) the memory budget for this process; None: back to the environment/default."""
    global _limit_override
    if nbytes is not None and (isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 1):
        raise ValueError(f"the memory limit must be a positive number of bytes, got {nbytes!r}")
    _limit_override = nbytes


def memory_limit() -> int:
    """The budget in bytes: set_memory_limit's, else $GRAPHRNN_MEMORY_LIMIT, else 4 GiB."""
    if _limit_override is not None:
        return _limit_override
    raw = os.environ.get("GRAPHRNN_MEMORY_LIMIT", "").strip().upper().removesuffix("B").removesuffix("I")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)", raw)
    if not match:
        return DEFAULT_MEMORY_LIMIT
    return int(float(match.group(1)) * _SUFFIXES[match.group(2)])


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2 ** 30:.3g} GiB" if nbytes >= 2 ** 28 else f"{nbytes / 2 ** 20:.3g} MiB"


def state_numbers(block) -> int:
    """Numbers of one sequence's state a stateful block carries per step (0 for plain kinds):
    an NTM memory's slots x width plus its heads' weightings."""
    options = dict(block.options)
    if "slots" in options and "width" in options:
        heads = int(options.get("reads", 1)) + int(options.get("writes", 1))
        return int(options["slots"]) * (int(options["width"]) + heads)
    return 0


def _nodes(block) -> str:
    names = [m.node for m in block.members]
    return ", ".join(f"`{n}`" for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _refuse(what: str, total: float, culprit: str, fix: str, loc=None):
    raise PlanError("GR108", f"{what} would need about {_gib(total)} (limit {_gib(memory_limit())}); "
                             f"most of it for {culprit}", loc=loc,
                    fix=f"{fix}, or raise the limit: GRAPHRNN_MEMORY_LIMIT=16G (bytes, K/M/G/T) or "
                        "graphrnn.plan.limits.set_memory_limit(nbytes)")


def check_network(plan: Plan, graph=None, itemsize: int = 8) -> None:
    """GR108 when the parameter arrays and one step of state (batch of one) exceed the budget;
    located at the edge or node that needs most where ``graph`` (the checked Graph) is given."""
    edge_locs = {e.param: e.loc for e in getattr(graph, "edges", ()) if e.param}
    node_locs = {name: node.loc for name, node in getattr(graph, "nodes", {}).items()}
    parts = []
    for f in plan.fused:
        params = [p.param for p in f.placements if p.param]
        parts.append((int(np.prod(f.shape, dtype=float)) * BYTES_PER_PARAMETER, f"the parameters {f}",
                      next((edge_locs[p] for p in params if p in edge_locs), None)))
    for b in plan.blocks.values():
        parts.append((state_numbers(b) * itemsize, f"the state of {_nodes(b)}", node_locs.get(b.members[0].node)))
    total = sum(n for n, _, _ in parts)
    if parts and total > memory_limit():
        _, culprit, loc = max(parts, key=lambda p: p[0])
        _refuse("this network", total, culprit, "use smaller nodes, fewer memory slots or sparser edges", loc)


def run_bytes(plan: Plan, T: int, B: int, itemsize: int = 8, delays_materialised: bool = False) -> tuple[int, str]:
    """(estimated bytes of a run of T steps over B sequences with its backward pass, the block
    that needs most).  ``delays_materialised``: the engine keeps every delayed block's last
    ``lookback`` steps as real rows (the compiled engine), so long delays cost memory there."""
    total, culprit, _ = _run_parts(plan, T, B, itemsize, delays_materialised)
    return total, culprit


def _run_parts(plan: Plan, T: int, B: int, itemsize: int, delays_materialised: bool) -> tuple[int, str, str | None]:
    """run_bytes, and the first node of the block that needs most (None: the inputs)."""
    parts = [(T * B * plan.input_width * itemsize, "the inputs", None)]
    for block in plan.blocks.values():
        per_step = block.width + block.slot_width + state_numbers(block)
        parts.append((2 * T * B * per_step * itemsize, f"the values of {_nodes(block)}", block.members[0].node))
    if delays_materialised:
        for name, depth in (plan.lookback or {}).items():
            block = plan.blocks.get(name)
            width = block.width if block else plan.input_width
            parts.append((2 * depth * B * width * itemsize,
                          f"the {depth} delayed steps of {_nodes(block) if block else 'the inputs'}",
                          block.members[0].node if block else None))
    total = sum(n for n, _, _ in parts)
    _, culprit, node = max(parts, key=lambda p: p[0])
    return total, culprit, node


def _node_loc(graph, node: str | None):
    """Where ``node`` (None: the first input) is declared in the spec, when ``graph`` is given."""
    nodes = getattr(graph, "nodes", {})
    if node is None:
        node = next((name for name, n in nodes.items() if getattr(n, "is_input", False)), None)
    found = nodes.get(node) if node is not None else None
    return getattr(found, "loc", None)


def check_run(plan: Plan, T: int, B: int, itemsize: int = 8, engine: str | None = None, graph=None) -> None:
    """GR108 before a run of T steps over B sequences that would exceed the budget (``engine``:
    the engine's name; the compiled engine materialises delays), located at the spec's node that
    needs most where ``graph`` (the network's checked Graph) is given."""
    for name, depth in (plan.lookback or {}).items():   # numpy cannot even describe a view this long
        width = plan.input_width if name not in plan.blocks else plan.blocks[name].width
        if depth * int(B) * width >= 2 ** 62:
            block = plan.blocks.get(name)
            raise PlanError("GR108", f"a delay of {depth} steps over {B} sequences of "
                            f"{_nodes(block) if block else 'the inputs'} is past what numpy can index",
                            loc=_node_loc(graph, block.members[0].node if block else None),
                            fix="use a shorter delay (a delay longer than the run reads only initial values)")
    compiled = engine == "compiled"
    total, culprit, node = _run_parts(plan, int(T), int(B), itemsize, delays_materialised=compiled)
    if total > memory_limit():
        _refuse(f"a run of {T} steps over {B} sequences", total, culprit,
                "use the fused engine, where delays cost nothing" if "delayed steps" in culprit else
                "run shorter sequences or smaller batches (or truncate: train.method tbptt)",
                _node_loc(graph, node))
