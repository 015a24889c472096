"""The Network users hold: init, run, loss and grad over a compiled plan."""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad
from autograd.builtins import dict as ag_dict
from autograd.tracer import getval, isbox

from ..errors import Location, RunError
from ..graph.ir import Graph
from ..ops import OPS
from ..plan.ir import Plan
from ..spec import did_you_mean
from .assemble import Assembler, assemble
from ..ops.losses import LOSSES
from .params import init_params, parameter_table
from .state import final_state
from .trace import Trace
from .fused import check_rules
from .fused_primitive import run_fused
from .unroll import unroll

MAX_PARAMS = 50_000_000


class Network:
    """A compiled network.  Arrays are time-major: x is (T, B, inputs).

    ``graph`` is the expanded networkx MultiDiGraph; ``ir`` the primitive
    Graph record it was built from; ``plan`` the vectorised schedule;
    ``params`` the table of parameter specs (name -> ParamSpec); ``spec``
    the Spec it was compiled from (None when built from a Graph directly).
    """

    spec = None

    ENGINES = ("fused", "autograd")

    DTYPES = ("float64", "float32")

    def __init__(self, ir: Graph, plan: Plan, engine: str = "fused", dtype="float64"):
        if engine not in self.ENGINES:
            raise RunError("GR200", f"unknown engine `{engine}`{did_you_mean(engine, self.ENGINES)}",
                           fix="use engine='fused' (numpy BPTT, the default) or 'autograd' (the reference)")
        if ir.over == "tree" and not getattr(self, "runs_trees", False):
            from ..errors import PlanError
            raise PlanError("GR124", f"{ir.name} is `over: tree`; a sequence Network cannot run it",
                            loc=Location(ir.file), fix="compile it with graphrnn.loads/load (which "
                            "returns a TreeNetwork), or construct graphrnn.runtime.tree_network.TreeNetwork")
        if engine == "fused":
            check_rules(ir)
        self.ir, self.plan, self.engine = ir, plan, engine
        self.dtype = self._dtype(dtype)
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

    @property
    def graph(self):
        return self.ir.nx

    @property
    def num_params(self) -> int:
        return int(sum(np.prod(s.shape, dtype=int) for s in self.params.values()))

    def __repr__(self) -> str:
        return (f"Network({self.name!r}, inputs={self.inputs}, outputs="
                f"{ {k: self.ir.nodes[v].size for k, v in self.outputs.items()} }, params={self.num_params})")

    # -- parameters ------------------------------------------------------------
    def init(self, seed: int = 0) -> dict[str, np.ndarray]:
        """Fresh parameters, float64; the same seed gives the same values."""
        return init_params(self.params, seed)

    def _check_params(self, params) -> None:
        params = getval(params)   # look at the values without recording tape nodes
        if params.keys() == self.params.keys() and all(
                getattr(params[n], "shape", None) == shape for n, shape in self._shapes):
            return   # the common case, checked in one pass
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

    def _inputs(self, x):
        if type(x).__name__ == "TreeBatch":
            raise RunError("GR200", f"{self.name} runs over sequences; got a TreeBatch",
                           fix="give x as a (T, B, inputs) array, or write `over: tree` in a spec for trees")
        if isinstance(x, dict):
            unknown = sorted(set(x) - set(self.inputs))
            if unknown or set(self.inputs) - set(x):
                raise RunError("GR200", f"input dict has keys {sorted(x)}, the network reads "
                               f"{list(self.inputs)}", fix="give one (T, B, size) array per input port")
            x = anp.concatenate([x[name] for name in self.inputs], axis=-1)
        shape = np.shape(getval(x))
        if len(shape) != 3 or shape[2] != self.input_size or shape[0] < 1 or shape[1] < 1:
            raise RunError("GR200", f"input of shape {shape}; {self.name} expects (T, B, {self.input_size})"
                           f" (time-major: steps, batch, {' + '.join(f'{k}:{v}' for k, v in self.inputs.items())})",
                           fix="for one sequence of shape (T, I) use x[:, None, :]")
        if not isbox(x):
            x = np.asarray(x, dtype=float)
        return x

    def _dtype(self, dtype) -> np.dtype:
        if str(np.dtype(dtype) if dtype is not None else "") not in self.DTYPES:
            raise RunError("GR200", f"dtype {dtype!r} is not supported",
                           fix="use dtype='float64' (the default; exact gradient checks) or 'float32'")
        return np.dtype(dtype)

    # -- running -----------------------------------------------------------------
    def run(self, params, x, dtype=None, state=None) -> Trace:
        """Simulate: x (T, B, I) -> Trace with ``y`` (T, B, O) and every node's values.

        ``dtype`` (default: the network's, float64) is the precision of the
        computation; parameters and gradients stay float64.  ``state`` (the
        ``trace.state`` of an earlier run) continues that run: delayed edges
        read its last values instead of the nodes' initial values, and no
        gradient flows back into it.
        """
        dtype = self.dtype if dtype is None else self._dtype(dtype)
        self._check_params(params)
        if not isbox(params) and any(isbox(v) for v in params.values()):
            params = ag_dict(params)   # one boxed dict, so assemble is one tape node
        arrays = assemble(params, self.assembler)
        x = self._inputs(x)
        if state is not None and self.stateful:
            raise RunError("GR200", f"{self.name} has node kinds with state ({', '.join(self.stateful)}); "
                           "a run cannot continue an earlier one yet: each run starts from their initial state",
                           fix="run the whole sequence at once (method='bptt'), without `state=`")
        records = {}
        if self.engine == "fused":
            values = run_fused(self.plan, arrays, x, dtype, state, records)
        else:
            if dtype != np.float64:
                arrays, x = [a.astype(dtype) for a in arrays], x.astype(dtype)
            values = unroll(self.plan, arrays, x, state, records)
        return Trace(self.plan, values, final_state(self.plan, arrays, values, state), records)

    def loss(self, params, x, target, kind: str = "mse", mask=None, state=None):
        """Scalar loss of the outputs against ``target`` (T, B, O); see ops/losses.py."""
        if kind not in LOSSES:
            raise RunError("GR200", f"unknown loss `{kind}`{did_you_mean(kind, LOSSES)}",
                           fix=f"use one of: {', '.join(LOSSES)}")
        y = self.run(params, x, state=state).y
        target = np.asarray(target, dtype=float if kind != "xent" or np.ndim(target) == 3 else int)
        want = tuple(y.shape) if target.ndim == 3 else tuple(y.shape[:2])
        if target.shape != want:
            raise RunError("GR200", f"target of shape {target.shape}, expected {want}",
                           fix="targets are time-major like the outputs: (T, B, O)")
        return LOSSES[kind](y, target, None if mask is None else np.asarray(mask, float))

    def value_and_grad(self, params, x, target, kind: str = "mse", mask=None, method: str = "bptt",
                       state=None, k1: int | None = None, k2: int | None = None):
        """(loss, grads) with grads for the trainable parameters.

        ``method``: ``"bptt"`` (full backpropagation through time, through
        autograd), ``"tbptt"`` (truncated: every ``k1`` steps, backpropagate
        through the last ``k2`` >= ``k1`` steps; see graphrnn/train/gradients.py)
        or ``"rtrl"`` (exact forward sensitivities, O(n^4) per step: small
        nets only; see graphrnn/train/rtrl.py).
        """
        if method in ("tbptt", "rtrl") and self.stateful:
            raise RunError("GR200", f"method `{method}` carries state between chunks or steps, which node "
                           f"kinds with state ({', '.join(self.stateful)}) do not support yet",
                           fix="use method='bptt'")
        if method == "tbptt":
            from ..train.gradients import tbptt_value_and_grad
            if state is not None:
                raise RunError("GR200", "tbptt starts from the initial state", fix="drop `state=`")
            return tbptt_value_and_grad(self, params, x, target, kind, mask, k1, k2)
        if method == "rtrl":
            from ..train.rtrl import rtrl_value_and_grad
            if state is not None:
                raise RunError("GR200", "rtrl starts from the initial state", fix="drop `state=`")
            return rtrl_value_and_grad(self, params, x, target, kind, mask)
        if method != "bptt":
            raise RunError("GR200", f"gradient method `{method}` is not available"
                           f"{did_you_mean(method, ('bptt', 'tbptt', 'rtrl'))}",
                           fix="use method='bptt', 'tbptt' or 'rtrl'")
        value, grads = value_and_grad(lambda p: self.loss(p, x, target, kind, mask, state))(dict(params))
        return value, {name: grads[name] for name in self.params if name in self.trainable}

    def grad(self, params, x, target, kind: str = "mse", mask=None, method: str = "bptt", **options):
        """Gradients of ``loss`` for the trainable parameters (dict, same names and shapes)."""
        return self.value_and_grad(params, x, target, kind, mask, method, **options)[1]
