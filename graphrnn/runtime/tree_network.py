"""TreeNetwork: a network compiled from an ``over: tree`` spec; runs on TreeBatches.

Rows are tree nodes in the batch's level order (trees/batch.py).  Outputs
are read at every node (``trace.node_outputs``, (N, size)) and at the roots
(``trace.y``, (B, O)); the loss is taken at the roots by default, or at
every node with ``at="nodes"``.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from ..errors import RunError, SpecError
from ..ops.losses import LOSSES
from ..trees import TreeBatch
from ..graph.ir import Graph
from ..plan.ir import Plan
from .network_base import CompiledNetwork, check_loss_kind, computation_dtype
from .engine import Engine
from .trace import NodeValues


class TreeTrace(NodeValues):
    """Values of one run over a TreeBatch.

    ``trace[node]`` (N, size): a node's value at every tree node (rows in
    batch order); ``trace.node_outputs[name]`` (N, size) and ``trace.y_nodes``
    (N, O): the outputs at every tree node; ``trace.outputs[name]`` (B, size)
    and ``trace.y`` (B, O): the outputs at each tree's root;
    ``trace.batch.per_tree(array)`` splits an (N, ...) array per tree.
    """

    def __init__(self, plan, block_values: dict, batch: TreeBatch):
        super().__init__(plan, block_values)
        self.batch = batch
        self.node_outputs = {name: self[node] for name, node in plan.outputs.items()}
        parts = list(self.node_outputs.values())
        self.y_nodes = parts[0] if len(parts) == 1 else anp.concatenate(parts, axis=-1)
        self.outputs = {name: value[batch.roots] for name, value in self.node_outputs.items()}
        self.y = self.y_nodes[batch.roots]

    def __repr__(self) -> str:
        return f"TreeTrace(y={tuple(self.y.shape)}, tree nodes={self.batch.size}, trees={self.batch.batch})"


class TreeNetwork(CompiledNetwork):
    """A compiled ``over: tree`` network; runs on an engine over trees (fused_tree by default,
    runtime/fused_tree.py; autograd_tree, runtime/tree.py, the reference).

    ``net.run(params, batch)`` with a TreeBatch (``net.batch(trees, vocab)``
    builds one and checks it against the network).
    """

    over = "tree"

    def __init__(self, ir: Graph, plan: Plan, engine: Engine | None = None, dtype="float64"):
        super().__init__(ir, plan, engine, dtype)
        self.arity_edge, self.max_arity = ir.arity_edge, ir.max_arity

    def batch(self, trees, vocab) -> TreeBatch:
        """A TreeBatch of ``trees`` (Trees or s-expression strings), checked against this network."""
        batch = TreeBatch.of(trees, vocab)
        self.check_batch(batch)
        return batch

    def check_batch(self, batch) -> None:
        """GR200 for inputs of the wrong width, GR123 for a node with more children than the spec reads."""
        if not isinstance(batch, TreeBatch):
            raise RunError("GR200", f"{self.name} runs over trees; got {type(batch).__name__}",
                           fix="pass a TreeBatch: net.batch(trees, vocab) or graphrnn.trees.TreeBatch.of(...)")
        if batch.x.shape[1] != self.input_size:
            raise RunError("GR200", f"the batch's inputs are {batch.x.shape[1]} wide; {self.name} reads "
                           f"{self.input_size} ({' + '.join(f'{k}:{v}' for k, v in self.inputs.items())})",
                           fix="use a vocabulary with as many tokens as the network has inputs")
        finite = np.isfinite(getval(batch.x))
        if not finite.all():                 # NaN would run through silently (GR202, at the tree node)
            row, unit = (int(i) for i in np.argwhere(~finite)[0])
            node = batch.nodes[row]
            raise RunError("GR202", f"the input of tree node {node.label!r} (batch row {row}, unit {unit}) is "
                           f"{getval(batch.x)[row, unit]}; {int(finite.size - np.count_nonzero(finite))} of "
                           f"{finite.size} input values are not finite", loc=node.loc,
                           fix="give every tree node finite inputs")
        if self.max_arity is not None and int(batch.arity.max()) > self.max_arity:
            row = int(np.argmax(batch.arity))
            node, edge = batch.nodes[row], self.arity_edge
            label = f"`{node.label}`" if node.label is not None else "an unlabelled node"
            reads = (f"at most {self.max_arity} (`child: {self.max_arity}`, edge {edge.src} -> {edge.dst} "
                     f"at {edge.loc})") if edge else "no children (no `child:` or `children:` edge)"
            raise SpecError("GR123", f"tree node {label} has {batch.arity[row]} children; {self.name} reads "
                            f"{reads}", loc=node.loc,
                            fix="give nodes at most that many children, add `child:` edges for more, or pool "
                                "them with `children: sum`")

    def run(self, params, batch, dtype=None, batching: str = "level") -> TreeTrace:
        """Simulate over a TreeBatch (N tree nodes) -> TreeTrace; ``batching`` (the tree engines'
        option): ``"level"`` (default, one step per tree height) or ``"node"`` (one per node)."""
        self.check_batch(batch)
        dtype = self.dtype if dtype is None else computation_dtype(dtype)
        arrays = self._arrays(params)
        return TreeTrace(self.plan, self.engine.run(self.plan, arrays, batch, dtype, batching=batching), batch)

    def loss(self, params, batch, target, kind: str = "mse", mask=None, at: str = "root",
             batching: str = "level"):
        """Scalar loss of the outputs at the roots (target (B, O), or (B,) classes for xent) or,
        with ``at="nodes"``, at every tree node (target (N, O) or (N,), rows in batch order)."""
        return self._loss_and_outputs(params, batch, target, kind, mask, at, batching)[0]

    def _loss_and_outputs(self, params, batch, target, kind, mask, at, batching):
        check_loss_kind(kind)
        if at not in ("root", "nodes"):
            raise RunError("GR200", f"`at` must be 'root' or 'nodes', got {at!r}",
                           fix="at='root' (one target per tree) or at='nodes' (one per tree node)")
        trace = self.run(params, batch, batching=batching)
        y = trace.y if at == "root" else trace.y_nodes
        target = np.asarray(target, dtype=float if kind != "xent" or np.ndim(target) == 2 else int)
        want = tuple(y.shape) if target.ndim == 2 else tuple(y.shape[:1])
        if target.shape != want:
            raise RunError("GR200", f"target of shape {target.shape}, expected {want} (at={at!r})",
                           fix="one target row per tree (at='root') or per tree node (at='nodes')")
        mask = None if mask is None else np.asarray(mask, float)[None]
        return LOSSES[kind](y[None], target[None], mask), y   # the losses average over (T=1, rows)

    def value_and_grad(self, params, batch, target, kind: str = "mse", mask=None, at: str = "root",
                       batching: str = "level"):
        """(loss, grads of the trainable parameters): backpropagation through structure, through
        the engine; the arguments are ``loss``'s."""
        return self.value_grad_and_outputs(params, batch, target, kind, mask, at, batching)[:2]

    def value_grad_and_outputs(self, params, batch, target, kind: str = "mse", mask=None, at: str = "root",
                               batching: str = "level"):
        """(loss, grads, y): value_and_grad and the outputs it computed on the way, (B, O) at the
        roots (``at="root"``) or (N, O) at every tree node."""
        return self._taped(lambda p: self._loss_and_outputs(p, batch, target, kind, mask, at, batching), params)

    def grad(self, params, batch, target, kind: str = "mse", mask=None, at: str = "root",
             batching: str = "level"):
        """Gradients of ``loss`` for the trainable parameters (dict, same names and shapes)."""
        return self.value_and_grad(params, batch, target, kind, mask, at, batching)[1]
