"""The compiled engine: a sequence plan's forward and backward passes as generated, compiled loops.

At the classic experiments' sizes (a few cells, batch 1, hundreds of
steps) the fused engine's cost is Python per block and per step, not
arithmetic.  This engine writes the whole plan -- every stage, step, block
and projection -- as straight-line loops over scalars in Python source and
compiles it with numba, so a step costs what its arithmetic costs.  The
semantics are fused.py's, line for line (delays read ``initial`` rows
before the start, truncated projections pass no gradient to their source,
weight gradients are summed over steps); the tests hold the two to 1e-10.

The generated functions take every array as an argument, named by role:
``X`` the input (T, B, I); ``W<i>`` the fused arrays; ``V<b>`` block b's
values (T, B, width); ``S<b>`` its slot space (T, B, slot_width); ``P<b>``
the rows before the start (D, B, width); on the way back ``G<b>`` (T, B,
width) and ``GS<b>`` (T, B, slot_width) their gradients, ``GW<i>`` the fused
arrays' gradients and ``GP<b>`` (B, width) the gradient of the rows before
the start.

numba is optional (``pip install graphrnn[fast]``); :func:`available` says
whether it is installed.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..ops import OPS
from ..plan.ir import INPUT_BLOCK, Plan
from .state import start_rows


#: activation name -> the code generated_kernels.activate and activate_grad switch on
ACTIVATION_CODES = {"identity": 0, "tanh": 1, "sigmoid": 2, "relu": 3, "softplus": 4, "g1997": 5, "h1997": 6,
                    "softmax": 7}

def available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def node_unsupported(node) -> str | None:
    """None when the compiled engine has kernels for ``node``'s kind and activation, else why not."""
    if node.is_input:
        return None
    if getattr(OPS[node.op], "kernel", None) not in ("add", "multiply"):
        return f"node kind `{node.op}` has no kernel in the compiled engine (see CombinerKind.kernel)"
    if node.activation not in ACTIVATION_CODES:
        return f"activation `{node.activation}` has no kernel in the compiled engine"
    return None


def dense_work(plan: Plan) -> int:
    """Multiply-adds of one step's matrix products for one sequence (hoisted ones included)."""
    total = 0
    for stage in plan.stages:
        projections = list(stage.hoisted) + list(stage.delayed) + [p for _, ps in stage.instant for p in ps]
        for p in projections:
            if p.runs is None:
                total += int(np.prod(plan.fused[p.weight].shape))
    return total


class _Source:
    """Lines of Python source with indentation."""

    def __init__(self):
        self.lines, self.depth = [], 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def indent(self):
        source = self

        class _Indent:
            def __enter__(self):
                source.depth += 1

            def __exit__(self, *exc):
                source.depth -= 1
        return _Indent()

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class _Names:
    """Variable names of the plan's blocks and arrays in the generated source."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.index = {name: i for i, name in enumerate(plan.blocks)}

    def V(self, block):
        return "X" if block == INPUT_BLOCK else f"V{self.index[block]}"

    def G(self, block):
        return "GX" if block == INPUT_BLOCK else f"G{self.index[block]}"

    def P(self, block):
        return "PX" if block == INPUT_BLOCK else f"P{self.index[block]}"

    def S(self, block):
        return f"S{self.index[block]}"

    def GS(self, block):
        return f"GS{self.index[block]}"

    def GP(self, block):
        return "GPX" if block == INPUT_BLOCK else f"GP{self.index[block]}"

    def width(self, block):
        return self.plan.input_width if block == INPUT_BLOCK else self.plan.blocks[block].width

    def depth(self, block):
        return self.plan.lookback.get(block, 0)


def _read_row(n: _Names, src: str, delay: int, t: str = "t") -> str:
    """Expression for source ``src``'s (B, width) row read ``delay`` steps back at step ``t``."""
    if not delay:
        return f"{n.V(src)}[{t}]"
    return f"({n.V(src)}[{t} - {delay}] if {t} >= {delay} else {n.P(src)}[{n.depth(src)} + {t} - {delay}])"


def _contribute(out: _Source, n: _Names, p, row: str, t: str) -> None:
    """Add projection ``p`` of the (B, S) row ``row`` into its targets' slot rows at step ``t``."""
    out(f"r = {row}")
    W = f"W{p.weight}"
    if p.runs is None:
        for target in p.targets:
            out(f"dense_add(r, {W}, {target.start}, {n.S(target.block)}[{t}])")
        return
    for run in p.runs:
        scale = -1 if run.scale is None else run.scale
        out(f"run_add(r, {run.src}, {run.dst}, {run.n}, {W}, {scale}, {run.broadcast}, {n.S(run.block)}[{t}])")


def _segments(block) -> str:
    """The column ranges an activation works over: each member node for softmax, else the whole block."""
    if block.activation == "softmax":
        return "np.array([" + ", ".join(f"[{m.start}, {m.stop}]" for m in block.members) + "], np.int64)"
    return f"np.array([[0, {block.width}]], np.int64)"


def _finish(out: _Source, n: _Names, block, t: str) -> None:
    """V[t] = act(combine(S[t]) + bias) for one block at step ``t``."""
    bias = f"W{block.bias}" if block.bias is not None else "empty"
    multiply = OPS[block.op].kernel == "multiply"
    out(f"finish({n.S(block.name)}[{t}], {block.factors}, {multiply}, {bias}, "
        f"{block.bias is not None}, {ACTIVATION_CODES[block.activation]}, seg{n.index[block.name]}, "
        f"{n.V(block.name)}[{t}])")


def forward_source(plan: Plan) -> str:
    """Python source of ``forward(X, P..., W..., V..., S...)``: fills V and S in place."""
    n = _Names(plan)
    out = _Source()
    args = ["X"] + [n.P(b) for b in plan.lookback] + [f"W{i}" for i in range(len(plan.fused))] + \
        [n.V(b) for b in plan.blocks] + [n.S(b) for b in plan.blocks]
    out(f"def forward({', '.join(args)}):")
    with out.indent():
        out("T = X.shape[0]")
        out("Bn = X.shape[1]")
        out("empty = np.zeros(1, X.dtype)")
        for name, block in plan.blocks.items():
            out(f"seg{n.index[name]} = {_segments(block)}")
        for stage in plan.stages:
            after = dict(stage.instant)
            for p in stage.hoisted:
                out("for t in range(T):")
                with out.indent():
                    _contribute(out, n, p, _read_row(n, p.source, p.delay), "t")
            out("for t in range(T):")
            with out.indent():
                for p in stage.delayed:
                    _contribute(out, n, p, _read_row(n, p.source, p.delay), "t")
                for level in stage.levels:
                    for block in level:
                        _finish(out, n, block, "t")
                        for p in after.get(block.name, ()):
                            _contribute(out, n, p, f"{n.V(block.name)}[t]", "t")
        out("return 0")
    return out.text()


def _finish_vjp(out: _Source, n: _Names, block, t: str) -> None:
    """GS[t] from G[t] through the activation, the bias and the combiner."""
    bias = f"GW{block.bias}" if block.bias is not None else "empty"
    i = n.index[block.name]
    multiply = OPS[block.op].kernel == "multiply"
    out(f"finish_grad(S{i}[{t}], V{i}[{t}], G{i}[{t}], {block.factors}, {multiply}, {bias}, "
        f"{block.bias is not None}, {ACTIVATION_CODES[block.activation]}, seg{i}, GS{i}[{t}])")


def _contribute_vjp(out: _Source, n: _Names, p, g_row: str | None, t: str, src_row: str | None) -> None:
    """Gradients of projection ``p`` at step ``t``: into the source row ``g_row`` (when not
    None) and, when ``src_row`` is given, into the weights."""
    W = f"W{p.weight}"
    out(f"r = {src_row if src_row is not None else 'dummy'}")
    out(f"gr = {g_row if g_row is not None else 'dummy'}")
    if p.runs is None:
        for target in p.targets:
            g = f"{n.GS(target.block)}[{t}]"
            if src_row is not None:
                out(f"dense_grad_weight(r, {g}, GW{p.weight}, {target.start})")
            if g_row is not None:
                out(f"dense_grad_source({g}, {W}, {target.start}, gr)")
        return
    for run in p.runs:
        scale = -1 if run.scale is None else run.scale
        out(f"run_grad(r, {n.GS(run.block)}[{t}], {run.src}, {run.dst}, {run.n}, {W}, {scale}, {run.broadcast}, "
            f"GW{p.weight}, gr, {src_row is not None}, {g_row is not None})")


def backward_source(plan: Plan) -> str:
    """Python source of ``backward(X, P..., W..., V..., S..., G..., GS..., GW..., GP...)``.

    G holds the cotangents of the block values on entry (GX zeros) and every
    gradient is accumulated in place; GP<b> (B, width) collects the gradient
    of the rows read before the start (summed into ``initial`` by the caller).
    """
    n = _Names(plan)
    out = _Source()
    args = ["X"] + [n.P(b) for b in plan.lookback] + [f"W{i}" for i in range(len(plan.fused))] + \
        [n.V(b) for b in plan.blocks] + [n.S(b) for b in plan.blocks] + ["GX"] + \
        [n.G(b) for b in plan.blocks] + [n.GS(b) for b in plan.blocks] + \
        [f"GW{i}" for i in range(len(plan.fused))] + [n.GP(b) for b in plan.blocks] + ["GPX"]
    out(f"def backward({', '.join(args)}):")
    with out.indent():
        out("T = X.shape[0]")
        out("Bn = X.shape[1]")
        out("dummy = np.zeros((Bn, 1), X.dtype)")
        out("empty = np.zeros(1, X.dtype)")
        for name, block in plan.blocks.items():
            out(f"seg{n.index[name]} = {_segments(block)}")
        for stage in reversed(plan.stages):
            after = dict(stage.instant)
            order = [b for level in reversed(stage.levels) for b in reversed(level)]
            out("for t in range(T - 1, -1, -1):")
            with out.indent():
                for block in order:
                    for p in after.get(block.name, ()):
                        if not p.truncate:
                            _contribute_vjp(out, n, p, f"{n.G(block.name)}[t]", "t", None)
                    _finish_vjp(out, n, block, "t")
                for p in stage.delayed:
                    if not p.truncate:
                        row = f"({n.G(p.source)}[t - {p.delay}] if t >= {p.delay} else {n.GP(p.source)})"
                        _contribute_vjp(out, n, p, row, "t", None)
            for _, projections in stage.instant:
                for p in projections:
                    out("for t in range(T):")
                    with out.indent():
                        _contribute_vjp(out, n, p, None, "t", f"{n.V(p.source)}[t]")
            for p in stage.delayed:
                out("for t in range(T):")
                with out.indent():
                    _contribute_vjp(out, n, p, None, "t", _read_row(n, p.source, p.delay))
            for p in stage.hoisted:
                out("for t in range(T):")
                with out.indent():
                    if p.truncate:
                        g_row = None
                    elif not p.delay:
                        g_row = f"{n.G(p.source)}[t]"
                    else:
                        g_row = f"({n.G(p.source)}[t - {p.delay}] if t >= {p.delay} else {n.GP(p.source)})"
                    _contribute_vjp(out, n, p, g_row, "t", _read_row(n, p.source, p.delay))
        out("return 0")
    return out.text()


def cache_dir() -> Path:
    """Where generated plan modules and numba's compiled code are kept: $GRAPHRNN_CACHE_DIR, else
    $XDG_CACHE_HOME/graphrnn, else ~/.cache/graphrnn."""
    if os.environ.get("GRAPHRNN_CACHE_DIR"):
        return Path(os.environ["GRAPHRNN_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "graphrnn"


MODULE_HEADER = """# generated by graphrnn.runtime.generated from a plan; safe to delete
import numba
import numpy as np

from graphrnn.runtime.generated_kernels import dense_add, dense_grad_source, dense_grad_weight, finish, \\
    finish_grad, run_add, run_grad

"""


def load_module(source: str):
    """The module of the generated ``source`` (functions decorated with numba.njit(cache=True)).

    It is written to the cache folder under a name made from its text, so a
    plan compiled once is loaded from numba's cache by every later process;
    where the folder cannot be written it is compiled in memory, uncached.
    """
    import numba
    text = MODULE_HEADER + source
    digest = hashlib.sha256((text + numba.__version__ + np.__version__).encode()).hexdigest()[:24]
    name = f"graphrnn_plan_{digest}"
    path = cache_dir() / "plans" / f"{name}.py"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module   # numba's cache finds the functions' module by name
        spec.loader.exec_module(module)
        return module
    except OSError:
        module = types.ModuleType(name)
        exec(compile(text.replace("cache=True", "cache=False"), f"<{name}>", "exec"), module.__dict__)
        return module


class _Buffers:
    """Every array one forward and backward pass of a plan writes, for one (T, B, dtype).

    The gradients of the fused arrays are views of one flat vector, so they
    are zeroed with one call.
    """

    def __init__(self, plan: Plan, fused_shapes, T: int, B: int, dtype):
        blocks = plan.blocks.items()
        self.key = (T, B, np.dtype(dtype))
        self.values = {name: np.empty((T, B, b.width), dtype) for name, b in blocks}
        self.slots = {name: np.empty((T, B, b.slot_width), dtype) for name, b in blocks}
        self.G = {name: np.empty((T, B, b.width), dtype) for name, b in blocks}
        self.GS = {name: np.empty((T, B, b.slot_width), dtype) for name, b in blocks}
        self.GP = {name: np.empty((B, b.width), dtype) for name, b in blocks}
        self.GX = np.empty((T, B, plan.input_width), dtype)
        self.input_before = np.empty((B, plan.input_width), dtype)
        sizes = [int(np.prod(shape, dtype=int)) for shape in fused_shapes]
        self.GW_flat = np.empty(sum(sizes), dtype)
        bounds = np.cumsum([0] + sizes)
        self.GW = [self.GW_flat[a:b].reshape(shape) for a, b, shape in zip(bounds[:-1], bounds[1:], fused_shapes)]


class CompiledPlan:
    """A plan's forward and backward passes compiled once (numba); call with numpy arrays.

    The passes fit fused_primitive.run_fused.  With ``scratch=True`` (a caller
    that keeps none of the arrays, as Network.value_and_grad's direct path)
    they write into buffers kept from the last call of the same shape instead
    of allocating new ones; the values they return are then overwritten by
    the next such call (so a network on this engine is not for concurrent
    calls from several threads; processes, as Dask's workers, are fine).
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.names = _Names(plan)
        decorator = "@numba.njit(cache=True, error_model='numpy')\n"
        module = load_module(decorator + forward_source(plan) + "\n\n" + decorator + backward_source(plan))
        self._forward, self._backward = module.forward, module.backward
        self._buffers = None

    def _before(self, arrays, B, dtype, state):
        """(D, B, width) rows read before the first step of each looked-back block, contiguous."""
        rows = []
        for name, depth in self.plan.lookback.items():
            width = self.plan.input_width if name == INPUT_BLOCK else self.plan.blocks[name].width
            if state is not None and name in state:
                rows.append(np.ascontiguousarray(start_rows(self.plan, arrays, state, name, B, width, dtype)))
                continue
            block = np.empty((depth, B, width), dtype)
            block[...] = 0.0 if name == INPUT_BLOCK else arrays[self.plan.blocks[name].initial]
            rows.append(block)
        return rows

    def _scratch(self, arrays, T, B, dtype) -> _Buffers:
        key = (T, B, np.dtype(dtype))
        if self._buffers is None or self._buffers.key != key:
            self._buffers = _Buffers(self.plan, [np.shape(a) for a in arrays], T, B, dtype)
        return self._buffers

    def forward(self, arrays, x, state=None, records=None, scratch=False):
        """(values: block -> (T, B, width), slots: block -> (T, B, slot_width)) for x (T, B, I)."""
        plan = self.plan
        T, B = x.shape[:2]
        dtype = x.dtype
        if scratch:
            buffers = self._scratch(arrays, T, B, dtype)
            values, slots = dict(buffers.values), buffers.slots
            for array in slots.values():
                array.fill(0.0)
        else:
            values = {name: np.empty((T, B, b.width), dtype) for name, b in plan.blocks.items()}
            slots = {name: np.zeros((T, B, b.slot_width), dtype) for name, b in plan.blocks.items()}
        self._forward(x, *self._before(arrays, B, dtype, state), *arrays, *values.values(), *slots.values())
        values[INPUT_BLOCK] = x
        return values, slots

    def backward(self, arrays, x, values, slots, g_values, state=None, want_x=True, scratch=False):
        """(gradients of the fused arrays, gradient of x) from the cotangents ``g_values`` of blocks.

        Reads before the first step reach the blocks' ``initial`` values, unless
        the run continued a ``state``: that is data, and takes no gradient.
        The loops always compute x's gradient (cheap at the sizes this engine
        is for); it is returned only when ``want_x``.
        """
        plan = self.plan
        T, B = x.shape[:2]
        dtype = x.dtype
        if scratch:
            buffers = self._scratch(arrays, T, B, dtype)
            G, GS, GP, GX, GW = buffers.G, buffers.GS, buffers.GP, buffers.GX, buffers.GW
            for name, array in G.items():
                if name in g_values:
                    array[...] = g_values[name]
                else:
                    array.fill(0.0)
            for array in GP.values():
                array.fill(0.0)
            GX.fill(0.0)
            buffers.GW_flat.fill(0.0)
            before_input = buffers.input_before
        else:
            G = {name: (np.array(g_values[name], dtype) if name in g_values else np.zeros((T, B, b.width), dtype))
                 for name, b in plan.blocks.items()}
            GS = {name: np.empty((T, B, b.slot_width), dtype) for name, b in plan.blocks.items()}
            GW = [np.zeros_like(a) for a in arrays]
            GP = {name: np.zeros((B, b.width), dtype) for name, b in plan.blocks.items()}
            GX = np.zeros_like(x)
            before_input = np.zeros((B, plan.input_width), dtype)   # reads of the input before the start
        self._backward(x, *self._before(arrays, B, dtype, state), *arrays,
                       *(values[name] for name in plan.blocks), *slots.values(), GX,
                       *G.values(), *GS.values(), *GW, *GP.values(), before_input)
        for name, block in plan.blocks.items():
            if state is None or name not in state:
                GW[block.initial] += GP[name].sum(axis=0)
        return GW, (GX if want_x else None)
