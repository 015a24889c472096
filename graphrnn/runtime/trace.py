"""The result of ``Network.run``: outputs and every node's values per step."""
from __future__ import annotations

import autograd.numpy as anp

from ..plan.ir import Plan


class NodeValues:
    """Block values of one run, read by node: ``values[node]`` is (..., size) for any node or
    input of the expanded graph; ``values.nodes`` lists their names."""

    def __init__(self, plan: Plan, block_values: dict):
        self._plan, self._values = plan, block_values

    def block(self, name: str):
        """The values (..., width) of one plan block (``"input"`` for the inputs)."""
        return self._values[name]

    @property
    def nodes(self) -> list[str]:
        return sorted(self._plan.node_block)

    def __getitem__(self, node: str):
        if node not in self._plan.node_block:
            raise KeyError(f"no node {node!r} in this network; nodes: {', '.join(self.nodes)}")
        block, member = self._plan.node_block[node]
        value = self._values[block]
        if member.start == 0 and member.stop == value.shape[-1]:
            return value
        return value[..., member.start:member.stop]


class Trace(NodeValues):
    """Values of one run, time-major.

    ``trace.y`` is (T, B, O): the outputs concatenated in declaration order;
    ``trace.outputs[name]`` is (T, B, size) for one output;
    ``trace[node]`` is (T, B, size) for any node or input of the expanded
    graph (``trace["block1.cell"]``); ``trace.nodes`` lists their names;
    ``trace.state`` is what ``net.run(..., state=trace.state)`` needs to
    continue the sequence; ``trace.records[node][name]`` is (T, B, k): what
    a stateful node kind records at each step (an NTM memory's weightings,
    erase and add vectors: ``trace.records["mem"]["write1.w"]``).
    """

    def __init__(self, plan: Plan, block_values: dict, state=None, records=None):
        super().__init__(plan, block_values)
        self._state = state   # a State, or a function that builds it on first use
        self.records = {}
        for block, rows in (records or {}).items():
            node = plan.blocks[block].members[0].node
            self.records[node] = {name: anp.stack([row[name] for row in rows]) for name in rows[0]}
        self.outputs = {name: self[node] for name, node in plan.outputs.items()}
        parts = list(self.outputs.values())
        self.y = parts[0] if len(parts) == 1 else anp.concatenate(parts, axis=-1)

    @property
    def state(self):
        if callable(self._state):
            self._state = self._state()
        return self._state

    def __repr__(self) -> str:
        return f"Trace(y={tuple(self.y.shape)}, nodes={len(self.nodes)})"
