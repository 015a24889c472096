"""The engines a network runs on, behind one interface, and the choice of the default.

An :class:`Engine` runs a compiled :class:`~graphrnn.plan.ir.Plan` over data
with the plan's assembled parameter arrays (runtime/assemble.py).  What an
engine provides, and all a network asks of it:

- ``check(graph)``: whether it can run the graph; a located error when not
  (GR124 when the graph's ``over`` is not the engine's, GR115 when a fused
  engine has no backward rule for a node kind or activation);
- ``run(plan, arrays, data, ...)``: the forward pass, every block's values,
  differentiable by autograd with respect to ``arrays`` and the inputs;
- ``vjp(plan, arrays, data, g_values, ...)``: its vector-Jacobian product,
  the gradients of ``arrays`` and of the inputs (``inputs(data)``; the
  run of other inputs is ``with_inputs(data, x)``) given cotangents of block
  values.  Every engine is an autograd citizen, so this is autograd's
  reverse pass through ``run``; what computes it differs (``backward``
  says it in words): the autograd and autograd_tree engines' tape of
  autograd.numpy operations, the fused (fused_tree) engine's single
  primitive whose VJP is fused.backward (fused_tree.tree_backward): numpy
  BPTT (through structure) from the kinds' hand-written rules;
- the records: ``run`` fills ``records`` (block -> one dict per step of
  (B, k) arrays) with what a node kind with state records at each step (an
  NTM memory's weightings); a Trace stacks them (``trace.records``).

:data:`ENGINES` maps each name to its class; :func:`engine_for` turns a
name (or None: the default) into the engine a network holds.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import ClassVar

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.tracer import getval

from ..errors import GraphRNNError, Location, PlanError, RunError
from ..graph.ir import Graph
from ..plan.ir import Plan
from ..spec import did_you_mean
from .fused import check_rules, fused_rules_hold
from . import generated, generated_numpy
from .fused_primitive import NumpyPasses, run_fused
from .fused_tree import TreePasses
from .tree import BATCHING, unroll_tree
from .unroll import unroll


class Engine(ABC):
    """What runs a plan: the interface every engine implements (see the module docstring).

    ``name`` is the engine's registry name, ``over`` the data it runs over
    (``"sequence"``: x (T, B, I), block values (T, B, width); ``"tree"``: a
    TreeBatch, block values (N, width)), ``backward`` how its VJP is computed.
    """

    name: ClassVar[str]
    over: ClassVar[str]
    backward: ClassVar[str]

    def check(self, graph: Graph, loc: Location | None = None) -> None:
        """Raise a located PlanError when this engine cannot run ``graph``; ``loc``: where `over` is."""
        if graph.over == self.over:
            return
        loc = loc or Location(graph.file)
        if graph.over == "tree":
            raise PlanError("GR124", f"the `{self.name}` engine runs sequences only; {graph.name} is "
                            "`over: tree`", loc=loc,
                            fix="leave `engine` out (fused_tree where it has backward rules for every "
                                "node kind, else autograd_tree), or load it with engine='fused_tree' or "
                                "engine='autograd_tree'")
        raise PlanError("GR124", f"the `{self.name}` engine runs `over: tree` networks; {graph.name} runs "
                        "over sequences", loc=loc,
                        fix="leave `engine` out (fused where it has backward rules for every node kind, "
                            "else autograd), or pass engine='fused' or 'autograd'")

    @abstractmethod
    def run(self, plan: Plan, arrays: list, data, dtype=np.float64, state=None, records=None,
            **options) -> dict:
        """Block name -> values (and ``"input"`` -> the inputs), computed in ``dtype``.

        ``arrays``: the assembled parameter arrays (float64, possibly autograd
        boxes); ``data``: x (T, B, I) for sequences, a TreeBatch for trees;
        ``state``: a sequence run's carried State (runtime/state.py) or None;
        ``records``: a dict the run fills with per-step records, or None.
        """

    def passes(self, plan: Plan, batch: int):
        """The engine's numpy forward and backward passes over ``plan`` for a batch of ``batch``
        (see fused_primitive.run_fused), for callers that differentiate a loss without autograd's
        tape; None for an engine whose reverse pass is a tape."""
        return None

    def vjp(self, plan: Plan, arrays: list, data, g_values: dict, dtype=np.float64, **options):
        """(gradients of ``arrays``, of the inputs) given ``g_values``: block name -> cotangent
        shaped like that block's values (blocks left out have cotangent zero)."""
        def inner(arrays, x):
            values = self.run(plan, arrays, self.with_inputs(data, x), dtype, **options)
            return sum(anp.sum(values[name] * g) for name, g in g_values.items())
        g_arrays, g_x = grad(lambda both: inner(*both))((list(arrays), self.inputs(data)))
        return list(g_arrays), g_x

    def inputs(self, data):
        """The input array of ``data``: x (T, B, I) itself for sequences."""
        return data

    def with_inputs(self, data, x):
        """``data`` with its input array replaced by ``x`` (same shape)."""
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AutogradEngine(Engine):
    """runtime/unroll.py: the plan unrolled with autograd.numpy, step by step (the reference)."""

    name, over = "autograd", "sequence"
    backward = "autograd's tape of the unrolled autograd.numpy operations"

    def run(self, plan, arrays, x, dtype=np.float64, state=None, records=None, **options) -> dict:
        if dtype != np.float64:
            arrays, x = [a.astype(dtype) for a in arrays], x.astype(dtype)
        return unroll(plan, arrays, x, state, records)


class FusedEngine(Engine):
    """BPTT over the plan in numpy as one autograd primitive (runtime/fused_primitive.py); needs a
    backward rule for every node kind and activation.

    Its passes are the plan's generated numpy kernels (runtime/generated_numpy.py: straight-line
    in-place numpy, made once per plan; a kind with state runs its own numpy step from them) where
    every block is a built-in combiner or a kind with state, else the interpreter of
    runtime/fused.py, which runs the kinds' own rules (a plug-in combiner).  ``kernels(plan)`` says
    which.
    """

    name, over = "fused", "sequence"
    backward = "numpy BPTT (generated numpy kernels, or fused.py's interpreter), the VJP of its one autograd primitive"

    def __init__(self):
        self._plan = None     # the plan of the cached kernels below
        self._generated = None

    def check(self, graph: Graph, loc: Location | None = None) -> None:
        super().check(graph, loc)
        check_rules(graph)

    def __getstate__(self) -> dict:
        # what it holds is a cache of the plan (generated functions and their buffers, whose gradient
        # arrays are views that pickling would copy apart): made anew wherever the engine lands
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()

    def kernels(self, plan: Plan, batch: int = 1) -> str:
        """Which passes run ``plan`` at ``batch``: "generated numpy" or "interpreted numpy"."""
        return "generated numpy" if generated_numpy.supports(plan) else "interpreted numpy"

    def numpy_passes(self, plan: Plan):
        """The generated numpy kernels of ``plan`` where it has them (made once), else the interpreter."""
        if not generated_numpy.supports(plan):
            return NumpyPasses(plan)
        if self._plan is not plan or self._generated is None:
            self._plan, self._generated = plan, generated.CompiledPlan(plan, "numpy")
        return self._generated

    def passes(self, plan, batch):
        return self.numpy_passes(plan)

    def run(self, plan, arrays, x, dtype=np.float64, state=None, records=None, **options) -> dict:
        return run_fused(self.passes(plan, np.shape(getval(x))[1]), arrays, x, dtype, state, records)


class CompiledEngine(FusedEngine):
    """runtime/generated.py: the fused engine's passes as generated loops compiled by numba (an
    optional dependency: ``pip install graphrnn[fast]``), for node kinds and activations it has
    kernels for.  Made for small networks and long sequences, where the fused engine's cost is
    Python per block and per step; the first run of a new plan compiles it (seconds, cached on
    disk).  Where a batch makes a step's matrix products large, numpy's passes beat the loops: a
    run whose batch times the plan's dense multiply-adds per step exceeds ``LOOPS_UP_TO`` takes the
    fused engine's numpy passes instead (measured: benchmarks/README.md), unless the loops take
    the plan's large products from BLAS (SciPy installed) and the batch is at most
    ``BLAS_LOOPS_UP_TO``.  A plan with a kind with state
    (the NTM memory) runs the generated numpy kernels, which call the kind's compiled step.
    """

    name, over = "compiled", "sequence"
    backward = "generated, numba-compiled BPTT loops, the VJP of the fused engine's autograd primitive"
    LOOPS_UP_TO = 49_152   # batch x multiply-adds per step: the LSTM crossover against the generated numpy
                           # kernels measured here (loops/numpy 0.98 at 41k and 0.90 at 49k, 1.15 at 74k,
                           # 1.27 at 82k: benchmarks/README.md)
    BLAS_LOOPS_UP_TO = 8   # batch: where the loops take large products from BLAS they run up to it whatever
                           # the multiply-adds (numpy/loops, 3 x 128 LSTM cells: 1.79 at batch 1, 1.18 at 8,
                           # 0.99 at 16; 64 cells: 2.72 at 1, 1.50 at 8, 0.95 at 32)

    def __init__(self):
        super().__init__()
        self._loops_plan = None   # the plan of the cached limit and loops below
        self._stateful = False    # whether it has a kind with state
        self._largest = None      # its largest_loop_batch
        self._passes = None       # its CompiledPlan: compiled on the first run that takes the loops

    def check(self, graph: Graph, loc: Location | None = None) -> None:
        super().check(graph, loc)
        if not generated.available():
            raise RunError("GR116", "the `compiled` engine needs numba, which is not installed",
                           loc=loc, fix="pip install 'graphrnn[fast]' (or numba), or use engine='fused'")
        for node in graph.nodes.values():
            why = generated.node_unsupported(node)
            if why:
                raise PlanError("GR115", f"node `{node.name}`: {why}", loc=node.loc,
                                fix="load it with engine='fused' (numpy; every kind with backward rules)")

    def _for(self, plan: Plan) -> None:
        if self._loops_plan is not plan:   # a network runs one plan: this is worked out once
            self._loops_plan, self._passes = plan, None
            self._stateful = bool(generated_numpy.stateful_blocks(plan))
            # 0 where one sequence's step is already past the limit: the loops are for no batch
            self._largest = 0 if self._stateful else max(
                self.LOOPS_UP_TO // max(generated.dense_work(plan), 1),
                self.BLAS_LOOPS_UP_TO if generated.blas_projections(plan) else 0)

    def kernels(self, plan: Plan, batch: int = 1) -> str:
        self._for(plan)
        if self._stateful:
            return "generated numpy, the steps of kinds with state compiled by numba"
        if batch > self.largest_loop_batch(plan):
            return super().kernels(plan, batch)
        blas = generated.blas_projections(plan)
        return f"the compiled loops ({blas} of its products by BLAS)" if blas else "the compiled loops"

    def largest_loop_batch(self, plan: Plan) -> int:
        """The largest batch that runs on the compiled loops (larger ones run the numpy passes; 0
        for a plan with a kind with state)."""
        self._for(plan)
        return self._largest

    def passes(self, plan, batch):
        self._for(plan)
        if self._stateful:   # no loops call Python: the numpy kernels, with the kinds' compiled steps
            if self._passes is None:
                self._passes = generated.CompiledPlan(plan, "numpy", compiled_steps=True)
            return self._passes
        if batch > self.largest_loop_batch(plan):
            return self.numpy_passes(plan)
        if self._passes is None:
            self._passes = generated.CompiledPlan(plan)
        return self._passes


class TreeEngine(Engine):
    """What the engines over trees share: a TreeBatch as data (its x (N, I) the inputs, block
    values (N, width)), ``batching`` as their option (``"level"``, the default: one step per
    height of the batch; ``"node"``: one per tree node), and no state carried between runs.
    They keep no records: node kinds with state run over sequences only (graph/checks.py)."""

    over = "tree"

    def options(self, state, batching: str) -> None:
        """GR200 for a run that continues an earlier one or an unknown ``batching``."""
        if batching not in BATCHING:
            raise RunError("GR200", f"unknown batching `{batching}`{did_you_mean(batching, BATCHING)}",
                           fix="use batching='level' (one step per tree height) or 'node' (one per node)")
        if state is not None:
            raise RunError("GR200", "a tree run does not continue an earlier one", fix="drop `state=`")

    def inputs(self, batch):
        """The batch's inputs, (N, I)."""
        return batch.x

    def with_inputs(self, batch, x):
        return replace(batch, x=x)


class AutogradTreeEngine(TreeEngine):
    """runtime/tree.py: the plan over a TreeBatch with autograd.numpy, level by level (or node by
    node, the oracle); the reference for the fused tree engine."""

    name = "autograd_tree"
    backward = "autograd's tape of the level- (or node-) batched autograd.numpy operations"

    def run(self, plan, arrays, batch, dtype=np.float64, state=None, records=None,
            batching: str = "level") -> dict:
        self.options(state, batching)
        if dtype != np.float64:
            arrays = [a.astype(dtype) for a in arrays]
        if batch.x.dtype != dtype:
            batch = replace(batch, x=batch.x.astype(dtype))
        return unroll_tree(plan, arrays, batch, batching)


class FusedTreeEngine(TreeEngine):
    """runtime/fused_tree.py: the plan over a TreeBatch in numpy, level by level, with its own
    backward pass (the fused engine's rules), one autograd primitive; needs a backward rule for
    every node kind and activation."""

    name = "fused_tree"
    backward = "fused_tree.tree_backward (numpy, from the kinds' rules), the VJP of its one autograd primitive"

    def check(self, graph: Graph, loc: Location | None = None) -> None:
        super().check(graph, loc)
        check_rules(graph)

    def run(self, plan, arrays, batch, dtype=np.float64, state=None, records=None,
            batching: str = "level") -> dict:
        self.options(state, batching)
        return run_fused(TreePasses(plan, batch, batching), arrays, batch.x, dtype)


ENGINES: dict[str, type[Engine]] = {engine.name: engine for engine in (FusedEngine, CompiledEngine, AutogradEngine,
                                                                  FusedTreeEngine, AutogradTreeEngine)}


def engine_choices(graph: Graph) -> dict[str, str | None]:
    """Engine name -> None when it can run ``graph``, else why not (its check's message)."""
    choices = {}
    for name, engine in ENGINES.items():
        try:
            engine().check(graph)
            choices[name] = None
        except GraphRNNError as err:
            choices[name] = err.message
    return choices


def engine_for(graph: Graph, name: str | None = None, loc: Location | None = None) -> Engine:
    """The engine a network of ``graph`` runs on, checked against it.

    ``name`` None picks the default: ``fused`` (``fused_tree`` over
    trees) when it has a backward rule for every node kind and activation,
    else ``autograd`` (``autograd_tree``).  ``loc`` locates the graph's ``over``
    in errors.  An unknown name is GR200; an engine that cannot run the
    graph raises its check's error (GR124, GR115).
    """
    if name is None:
        name = ("fused" if fused_rules_hold(graph) else "autograd") + ("_tree" if graph.over == "tree" else "")
    if name not in ENGINES:
        raise RunError("GR200", f"unknown engine `{name}`{did_you_mean(name, ENGINES)}",
                       fix="use engine='fused' (numpy BPTT, the default for sequences), 'compiled' (its "
                           "loops compiled by numba), 'autograd' (the reference); over trees "
                           "'fused_tree' (the default) or 'autograd_tree' (the reference)")
    engine = ENGINES[name]()
    engine.check(graph, loc)
    return engine
