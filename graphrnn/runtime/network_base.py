"""What every compiled network has, whatever it runs over: the graph, the plan, the engine
it runs on, and the parameter table (init, checks, count).

:class:`~graphrnn.runtime.network.Network` (sequences) and
:class:`~graphrnn.runtime.tree_network.TreeNetwork` (trees) are its two
subclasses; each adds the run, loss and gradient that fit its data.
"""
from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from autograd import value_and_grad
from autograd.builtins import dict as ag_dict
from autograd.tracer import getval, isbox

from ..errors import Location, PlanError, RunError
from ..graph.ir import Graph
from ..ops import OPS
from ..ops.losses import LOSSES
from ..plan.ir import Plan
from ..spec import did_you_mean
from .assemble import Assembler, assemble
from .engine import Engine, engine_for
from .params import init_params, parameter_table

MAX_PARAMS = 50_000_000

DTYPES = ("float64", "float32")


class CompiledNetwork:
    """A compiled network's parts, shared by sequence and tree networks.

    ``ir`` the primitive Graph; ``graph`` its networkx MultiDiGraph;
    ``plan`` the vectorised schedule; ``engine`` the Engine it runs on
    (``engine.name``: fused, compiled, autograd, fused_tree or autograd_tree; built with None, the
    default of runtime/engine.py's ``engine_for``); ``params`` the parameter
    table (name -> ParamSpec); ``spec`` the Spec it was compiled from (None
    when built from a Graph directly); ``dtype`` the precision of its
    computation (parameters and gradients stay float64).
    """

    spec = None
    over: ClassVar[str]   # "sequence" or "tree": the graphs (and engines) a subclass runs

    def __init__(self, ir: Graph, plan: Plan, engine: Engine | None = None, dtype="float64"):
        if ir.over != self.over:
            raise PlanError("GR124", f"{ir.name} is `over: {ir.over}`; a {type(self).__name__} cannot run it",
                            loc=Location(ir.file), fix="compile it with graphrnn.loads/load (a Network for "
                            "sequences, a TreeNetwork for `over: tree`)")
        self.engine = engine_for(ir) if engine is None else engine
        self.engine.check(ir)
        self.ir, self.plan = ir, plan
        self.dtype = computation_dtype(dtype)
        self.name = ir.name
        self.params = parameter_table(ir)
        self.inputs, self.outputs = dict(ir.inputs), dict(ir.outputs)
        self.input_size = sum(ir.inputs.values())
        self.output_size = sum(ir.nodes[n].size for n in ir.outputs.values())
        self.trainable = frozenset(n for n, s in self.params.items() if s.trainable)
        self.stateful = sorted(n.name for n in ir.nodes.values() if not n.is_input and OPS[n.op].stateful)
        count = self.num_params
        if count > MAX_PARAMS:
            raise RunError("GR108", f"{self.name} has {count} parameters (limit {MAX_PARAMS})",
                           loc=next(iter(ir.nodes.values())).loc if ir.nodes else None,
                           fix="use smaller nodes or sparser edges")
        self.assembler = Assembler(plan.fused, {n: s.shape for n, s in self.params.items()})
        self._shapes = [(n, tuple(s.shape)) for n, s in self.params.items()]
        # the common case of _check_params in C loops: the values in table order, then their shapes
        self._in_table_order = operator.itemgetter(*self.params) if len(self.params) > 1 else \
            (lambda params: tuple(params[n] for n in self.params))
        self._table_shapes = tuple(shape for _, shape in self._shapes)
        self._trainable_order = [n for n in self.params if n in self.trainable]   # gradients in table order

    @property
    def graph(self):
        return self.ir.nx

    @property
    def num_params(self) -> int:
        """The parameters' entries that act in the network (a mask's zeros are not counted)."""
        return sum(s.count for s in self.params.values())

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name!r}, inputs={self.inputs}, outputs="
                f"{ {k: self.ir.nodes[v].size for k, v in self.outputs.items()} }, params={self.num_params})")

    def with_engine(self, name: str) -> "CompiledNetwork":
        """The same network (graph, plan, dtype) on the engine named ``name``; its check's error
        (GR115, GR116, GR124) when that engine cannot run it."""
        other = type(self)(self.ir, self.plan, engine_for(self.ir, name), self.dtype)
        other.spec = self.spec
        return other

    def init(self, seed: int = 0) -> dict[str, np.ndarray]:
        """Fresh parameters, float64; the same seed gives the same values."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 63:
            raise RunError("GR200", f"the seed must be a whole number >= 0, got {seed!r}",
                           fix="call net.init(0), net.init(1), ...")
        return init_params(self.params, seed)

    def _check_params(self, params) -> None:
        """GR201 when ``params`` lacks or adds names, GR200 when a shape differs from the table's."""
        params = getval(params)   # look at the values without recording tape nodes
        if not isinstance(params, Mapping):
            raise RunError("GR200", f"parameters must be a dict of parameter name -> array, got "
                           f"{type(params).__name__}", fix="start from `net.init(seed)`")
        if len(params) == len(self.params):
            try:
                if tuple(map(_shape_of, self._in_table_order(params))) == self._table_shapes:
                    return   # the common case, checked in one pass
            except (KeyError, AttributeError):
                pass   # a name is missing, or a value is no array: the slow path says which
        names = set(params.keys())
        missing = sorted(set(self.params) - names)
        unknown = sorted(names - set(self.params))
        if missing or unknown:
            bits = []
            if missing:
                bits.append(f"missing {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
            if unknown:
                bits.append(f"unknown {', '.join(unknown[:5])}{did_you_mean(unknown[0], self.params)}")
            first = self.params[missing[0]].loc if missing else None
            raise RunError("GR201", f"parameters do not match {self.name}: " + "; ".join(bits),
                           loc=first, fix="start from `net.init(seed)` and keep its keys")
        for name, spec in self.params.items():
            shape = np.shape(getval(params[name]))
            if shape != spec.shape:
                raise RunError("GR200", f"parameter `{name}` has shape {shape}, expected {spec.shape}",
                               loc=spec.loc, fix="start from `net.init(seed)` and keep its shapes")

    def _arrays(self, params) -> list:
        """The engine's parameter arrays, assembled from checked ``params`` (one tape node)."""
        self._check_params(params)
        if not isbox(params) and any(isbox(v) for v in params.values()):
            params = ag_dict(params)   # one boxed dict, so assemble is one tape node
        return assemble(params, self.assembler)

    def _taped(self, loss_and_outputs, params) -> tuple:
        """(loss, gradients of the trainable parameters, outputs) by autograd's reverse pass, which
        reaches the engine's VJP through ``run``; ``loss_and_outputs(params) -> (loss, y)``."""
        kept = {}

        def loss(p):
            value, kept["y"] = loss_and_outputs(p)
            return value
        value, grads = value_and_grad(loss)(dict(params))
        return value, {name: grads[name] for name in self._trainable_order}, getval(kept["y"])


_shape_of = operator.attrgetter("shape")


def computation_dtype(dtype) -> np.dtype:
    """The numpy dtype of a run's computation; GR200 for anything but float64 or float32."""
    if str(np.dtype(dtype) if dtype is not None else "") not in DTYPES:
        raise RunError("GR200", f"dtype {dtype!r} is not supported",
                       fix="use dtype='float64' (the default; exact gradient checks) or 'float32'")
    return np.dtype(dtype)


def check_loss_kind(kind: str) -> None:
    """GR200 (with a did-you-mean) for a loss kind ops/losses.py does not have."""
    if kind not in LOSSES:
        raise RunError("GR200", f"unknown loss `{kind}`{did_you_mean(kind, LOSSES)}",
                       fix=f"use one of: {', '.join(LOSSES)}")


def check_finite_input(x: np.ndarray, ports: dict) -> None:
    """RunError GR202 naming the first NaN or infinite entry of the input ``x`` (T, B, I) by its
    index and input port (``ports``: name -> size, in order); NaN would run through silently."""
    finite = np.isfinite(x)
    if finite.all():
        return
    index = tuple(int(i) for i in np.argwhere(~finite)[0])
    unit, port = index[-1], None
    for name, size in ports.items():
        if unit < size:
            port = name
            break
        unit -= size
    raise RunError("GR202", f"x[{', '.join(map(str, index))}] is {x[index]} (input `{port}`, unit {unit}); "
                   f"{int(x.size - np.count_nonzero(finite))} of {x.size} input values are not finite",
                   fix="clean the data first; a step the loss should ignore still needs a finite input "
                       "(e.g. 0): mask it out with `mask=`")
