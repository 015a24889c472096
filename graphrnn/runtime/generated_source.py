"""The Python source of a sequence plan's forward and backward passes, for the compiled engine.

Straight-line code over the plan's stages, steps, blocks and projections that calls the
kernels of generated_kernels.py; runtime/generated.py compiles it with numba.

With ``blas`` (generated_kernels.BLAS: SciPy is installed) a dense
projection's products are ``np.dot`` calls, which numba hands to BLAS: one
matrix-vector product a step for all of a projection's targets, and for
what is known for every step at once (hoisted projections, every weight
gradient) one matrix product over all steps.  Without it, the loops of
generated_kernels.py.

The generated functions take every array as an argument, named by role:
``X`` the input (T, B, I); ``W<i>`` the fused arrays; ``V<b>`` block b's
values (T, B, width); ``S<b>`` its slot space (T, B, slot_width); ``P<b>``
the rows before the start (D, B, width); on the way back ``G<b>`` (T, B,
width) and ``GS<b>`` (T, B, slot_width) their gradients, ``GW<i>`` the fused
arrays' gradients and ``GP<b>`` (B, width) the gradient of the rows before
the start.
"""
from __future__ import annotations

import math

from ..ops import OPS
from ..plan.ir import INPUT_BLOCK, Plan
from ..plan.walk import PlanOps, walk_backward, walk_forward

#: activation name -> the code generated_kernels.activate and activate_grad switch on
ACTIVATION_CODES = {"identity": 0, "tanh": 1, "sigmoid": 2, "relu": 3, "softplus": 4, "g1997": 5, "h1997": 6,
                    "softmax": 7}


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
        self.array = {name: i for i, name in enumerate(plan.array_names)}

    def W(self, array: str) -> str:
        """The variable of the fused array named ``array`` (its gradient: ``"G" + W``)."""
        return f"W{self.array[array]}"

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


#: a dense projection of at least this many weights takes its products from BLAS; below it numba's
#: loops are faster (one step at batch 1: 8 x 32 weights 0.22 us against 0.43, 16 x 64 0.57 against 0.37)
BLAS_FROM = 1024


def blas_product(plan: Plan, p) -> bool:
    """Whether projection ``p`` is dense and large enough to take its products from BLAS."""
    return p.runs is None and math.prod(plan.fused_by_name[p.weight].shape) >= BLAS_FROM


def _uses_blas(n: _Names, p, blas: bool) -> bool:
    return blas and blas_product(n.plan, p)


def _rows_back(n: _Names, src: str, delay: int) -> str:
    """Expression for every step's row of ``src`` read ``delay`` steps back, as one (T * B, S) array."""
    if not delay:
        return f"rows_back({n.V(src)}, {n.V(src)}, 0, 0)"
    return f"rows_back({n.V(src)}, {n.P(src)}, {n.depth(src)}, {delay})"


def _all_steps(n: _Names, array: str) -> str:
    """Expression for a (T, B, w) array of block rows seen as (T * B, w)."""
    return f"{array}.reshape(T * Bn, {array}.shape[2])"


def _contribute(out: _Source, n: _Names, p, row: str, t: str, blas: bool = False) -> None:
    """Add projection ``p`` of the (B, S) row ``row`` into its targets' slot rows at step ``t``."""
    out(f"r = {row}")
    W = n.W(p.weight)
    if _uses_blas(n, p, blas):
        out(f"h = np.dot(np.ascontiguousarray(r), {W})")
        for target in p.targets:
            out(f"add_cols(h, {target.start}, {n.S(target.block)}[{t}])")
        return
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
    bias = n.W(block.bias) if block.bias is not None else "empty"
    multiply = OPS[block.op].kernel == "multiply"
    out(f"finish({n.S(block.name)}[{t}], {block.factors}, {multiply}, {bias}, "
        f"{block.bias is not None}, {ACTIVATION_CODES[block.activation]}, seg{n.index[block.name]}, "
        f"{n.V(block.name)}[{t}])")


def forward_source(plan: Plan, blas: bool = False) -> str:
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
        walk_forward(plan, _ForwardSource(out, n, blas))
        out("return 0")
    return out.text()


class _Loops(PlanOps):
    """Source emitters share this: a loop stage's position is the loop variable ``t``."""

    def __init__(self, out: _Source, names: _Names, blas: bool = False):
        self.out, self.n, self.blas = out, names, blas

    def positions(self, stage):
        return ("t",)

    def end_step(self, stage, t):
        self.out.depth -= 1


class _ForwardSource(_Loops):
    """Emits the forward pass in the order of plan/walk.py."""

    def hoist(self, stage, p):
        if _uses_blas(self.n, p, self.blas):   # every step's product at once
            self.out(f"h = np.dot({_rows_back(self.n, p.source, p.delay)}, {self.n.W(p.weight)})")
            for target in p.targets:
                self.out(f"add_cols(h, {target.start}, {_all_steps(self.n, self.n.S(target.block))})")
            return
        self.out("for t in range(T):")
        with self.out.indent():
            _contribute(self.out, self.n, p, _read_row(self.n, p.source, p.delay), "t")

    def finish_all(self, stage, block):
        self.out("for t in range(T):")
        with self.out.indent():
            _finish(self.out, self.n, block, "t")

    def begin_step(self, stage, t):
        self.out("for t in range(T):")
        self.out.depth += 1

    def read(self, p, t):
        _contribute(self.out, self.n, p, _read_row(self.n, p.source, p.delay), t, self.blas)

    def finish(self, block, t):
        _finish(self.out, self.n, block, t)

    def then(self, p, t):
        _contribute(self.out, self.n, p, f"{self.n.V(p.source)}[{t}]", t, self.blas)


def _finish_vjp(out: _Source, n: _Names, block, t: str) -> None:
    """GS[t] from G[t] through the activation, the bias and the combiner."""
    bias = "G" + n.W(block.bias) if block.bias is not None else "empty"
    i = n.index[block.name]
    multiply = OPS[block.op].kernel == "multiply"
    out(f"finish_grad(S{i}[{t}], V{i}[{t}], G{i}[{t}], {block.factors}, {multiply}, {bias}, "
        f"{block.bias is not None}, {ACTIVATION_CODES[block.activation]}, seg{i}, GS{i}[{t}])")


def _contribute_vjp(out: _Source, n: _Names, p, g_row: str | None, t: str, src_row: str | None,
                    blas: bool = False) -> None:
    """Gradients of projection ``p`` at step ``t``: into the source row ``g_row`` (when not
    None) and, when ``src_row`` is given, into the weights."""
    W = n.W(p.weight)
    if _uses_blas(n, p, blas) and src_row is None:   # the weights' gradients come after the loop
        if g_row is None:
            return
        out(f"h = np.zeros((Bn, {W}.shape[1]), X.dtype)")
        for target in p.targets:
            out(f"put_cols({n.GS(target.block)}[{t}], {target.start}, h)")
        out(f"gr = {g_row}")
        out(f"gr += np.dot(h, {W}.T)")
        return
    out(f"r = {src_row if src_row is not None else 'dummy'}")
    out(f"gr = {g_row if g_row is not None else 'dummy'}")
    if p.runs is None:
        for target in p.targets:
            g = f"{n.GS(target.block)}[{t}]"
            if src_row is not None:
                out(f"dense_grad_weight(r, {g}, G{W}, {target.start})")
            if g_row is not None:
                out(f"dense_grad_source({g}, {W}, {target.start}, gr)")
        return
    for run in p.runs:
        scale = -1 if run.scale is None else run.scale
        out(f"run_grad(r, {n.GS(run.block)}[{t}], {run.src}, {run.dst}, {run.n}, {W}, {scale}, {run.broadcast}, "
            f"G{W}, gr, {src_row is not None}, {g_row is not None})")


def _dense_vjp_all_steps(out: _Source, n: _Names, p, source_gradient: bool) -> None:
    """A dense projection's weight gradient over every step as one BLAS product, and with
    ``source_gradient`` its source rows' gradients likewise."""
    W = n.W(p.weight)
    out(f"h = np.zeros((T * Bn, {W}.shape[1]), X.dtype)")
    for target in p.targets:
        out(f"put_cols({_all_steps(n, n.GS(target.block))}, {target.start}, h)")
    out(f"G{W} += np.dot({_rows_back(n, p.source, p.delay)}.T, h)")
    if source_gradient:
        before = n.GP(p.source) if p.delay else n.G(p.source) + "[0]"
        out(f"add_rows_back(np.dot(h, {W}.T), {n.G(p.source)}, {before}, {p.delay})")


def backward_source(plan: Plan, blas: bool = False) -> str:
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
        walk_backward(plan, _BackwardSource(out, n, blas))
        out("return 0")
    return out.text()


def _g_row(n: _Names, src: str, delay: int, t: str = "t") -> str:
    """Expression for the gradient row of ``src`` read ``delay`` steps back at step ``t``."""
    if not delay:
        return f"{n.G(src)}[{t}]"
    return f"({n.G(src)}[{t} - {delay}] if {t} >= {delay} else {n.GP(src)})"


class _BackwardSource(_Loops):
    """Emits the backward pass in the order of plan/walk.py."""

    def finish_all_back(self, stage, block):
        self.out("for t in range(T - 1, -1, -1):")
        with self.out.indent():
            _finish_vjp(self.out, self.n, block, "t")

    def begin_step(self, stage, t):
        self.out("for t in range(T - 1, -1, -1):")
        self.out.depth += 1

    def then_back(self, p, t):
        _contribute_vjp(self.out, self.n, p, f"{self.n.G(p.source)}[{t}]", t, None, self.blas)

    def finish_back(self, block, t):
        _finish_vjp(self.out, self.n, block, t)

    def read_back(self, p, t):
        _contribute_vjp(self.out, self.n, p, _g_row(self.n, p.source, p.delay, t), t, None, self.blas)

    def end_loop_back(self, stage):
        # the weights' gradients, after the step loop, from the forward pass's values
        for p in [p for _, projections in stage.instant for p in projections] + list(stage.delayed):
            if _uses_blas(self.n, p, self.blas):
                _dense_vjp_all_steps(self.out, self.n, p, source_gradient=False)
                continue
            self.out("for t in range(T):")
            with self.out.indent():
                _contribute_vjp(self.out, self.n, p, None, "t", _read_row(self.n, p.source, p.delay))

    def hoist_back(self, stage, p):
        if _uses_blas(self.n, p, self.blas):
            _dense_vjp_all_steps(self.out, self.n, p, source_gradient=not p.truncate)
            return
        self.out("for t in range(T):")
        with self.out.indent():
            g_row = None if p.truncate else _g_row(self.n, p.source, p.delay)
            _contribute_vjp(self.out, self.n, p, g_row, "t", _read_row(self.n, p.source, p.delay))
