"""A sequence plan's passes as generated straight-line numpy: the compiled engine's numpy kernels.

The same contract as generated_source.py (the numba loops): ``forward(X,
P..., W..., V..., S...)`` fills the block values V and slot spaces S in
place, ``backward(...)`` accumulates every gradient in place (see that
module for the names).  Here each statement is one in-place numpy call over
a whole (B, width) row, or over all (T, B, width) positions where nothing
loops: the plan is walked once (plan/walk.py) when the source is made, so
a step costs its numpy calls and nothing else -- no lookups of kinds,
activations or arrays, no allocation (the few row buffers are made once
per call).  It needs no compiler, and numpy's vectorised transcendentals
keep it ahead of the scalar loops once rows are wide (runtime/engine.py
chooses between the two per plan and batch).

A block of a kind with state (the NTM memory) is one call per step of its
``StatefulSteps`` (fused_stateful.py: the kind's numpy step, its state and
caches carried over the run), forward and back, as the interpreter calls
the same step.

What it does beyond the interpreter of fused.py: a block's bias gradient
is one sum over all positions after the step loop (from the slots'
gradients, which hold it), not one per step; the weights' gradients are
one product over all positions per projection, as there.
"""
from __future__ import annotations

import numpy as np

from ..ops import ACTIVATIONS, OPS
from ..plan.ir import INPUT_BLOCK, Plan
from ..plan.walk import walk_backward, walk_forward
from .factor_views import factor_views
from .generated_source import _g_row, _Loops, _Names, _read_row as _row, _Source


def supports(plan: Plan) -> bool:
    """Whether every block is one this source handles: a combiner kind, or a kind with state (its
    numpy step called at each step, fused_stateful.StatefulSteps) in a loop stage."""
    looped = {b.name for stage in plan.stages if stage.loop for b in stage.blocks()}
    return all(getattr(OPS[b.op], "kernel", None) in ("add", "multiply") and not b.ports
               or OPS[b.op].stateful and b.name in looped for b in plan.blocks.values())


def stateful_blocks(plan: Plan) -> list:
    """The names of the plan's blocks of kinds with state, in the order of the kernels' K arguments."""
    return [name for name, b in plan.blocks.items() if OPS[b.op].stateful]


def namespace() -> dict:
    """The generated module's globals: numpy, the shift helper and every activation's in-place forms."""
    names = {"np": np, "_shift": _shift}
    for name, activation in ACTIVATIONS.items():
        names[f"act_{name}"] = activation.fn_into or activation.apply_into
        names[f"grad_{name}"] = activation.grad_into or activation.grad_from_output_into
    return names


def _shift(seq, before, delay: int):
    """seq (T, B, W) read ``delay`` back; before the start, rows of ``before`` (D, B, W)."""
    out = np.empty_like(seq)
    head, depth = min(delay, len(seq)), len(before)
    out[:head] = before[depth - delay:depth - delay + head]
    out[head:] = seq[:len(seq) - head]
    return out


def _sequence(n: _Names, src: str, delay: int) -> str:
    """All T positions of ``src`` read ``delay`` back, (T, B, width)."""
    return f"_shift({n.V(src)}, {n.P(src)}, {delay})" if delay else n.V(src)


def _cols(at: str, a: int, b: int) -> str:
    """Index of columns [a, b) at step ``at`` of a (T, B, W) array, or at every position (``...``)."""
    return f"[..., {a}:{b}]" if at == "..." else f"[{at}, :, {a}:{b}]"


class _Emit(_Loops):
    """What forward and backward emitters share: variable names, the loop variable ``t`` as a
    loop stage's position (generated_source._Loops), buffers declared up front, and the factors
    read where they lie (factor_views)."""

    def __init__(self, out: _Source, names: _Names, plan: Plan):
        super().__init__(out, names)
        self.plan = plan
        self.buffers = []   # lines declaring row buffers, placed before the loops
        self.views = factor_views(plan)
        self.viewed = {id(run) for found in self.views.values() for _, run in found}

    def terms(self, block, k: int, at: str) -> list:
        """Expressions (..., width) whose sum is factor k of ``block`` at step ``at`` (or ``...``)."""
        w = block.width
        if (block.name, k) in self.views:
            return [f"{_row(self.n, p.source, p.delay, at)}[..., {run.src}:{run.src + w}]"
                    for p, run in self.views[block.name, k]]
        s = f"{self.n.S(block.name)}[{at}]"
        return [s if block.factors == 1 else f"{s}[..., {k * w}:{(k + 1) * w}]"]

    def factor(self, block, k: int, at: str) -> str:
        """Expression of factor k of a product ``block`` (one term) at step ``at``."""
        return self.terms(block, k, at)[0]

    def buffer(self, name: str, cols) -> str:
        self.buffers.append(f"{name} = np.empty((Bn, {cols}), X.dtype)")
        return name

    def W(self, array: str) -> str:
        return self.n.W(array)

    def K(self, block: str) -> str:
        """The variable of a stateful block's StatefulSteps."""
        return f"K{stateful_blocks(self.plan).index(block)}"


class _Forward(_Emit):
    def hoist(self, stage, p):
        out, n = self.out, self.n
        out(f"src = {_sequence(n, p.source, p.delay)}")
        if p.runs is None:
            out(f"h = np.matmul(src.reshape(-1, src.shape[-1]), {self.W(p.weight)}).reshape(T, Bn, -1)")
            for target in p.targets:
                out(f"{n.S(target.block)} += h[..., {target.start}:{target.stop}]")
            return
        self._runs(p, "src", "...")

    def _runs(self, p, src: str, at: str) -> None:
        for run in p.runs:
            if id(run) in self.viewed:
                continue
            piece = f"{src}[..., {run.src}:{run.src + 1}]" if run.broadcast else f"{src}[..., {run.src}:{run.src + run.n}]"
            if run.scale is not None:
                piece += f" * {self.W(p.weight)}[{run.scale}:{run.scale + run.n}]"
            self.out(f"{self.n.S(run.block)}{_cols(at, run.dst, run.dst + run.n)} += {piece}")

    def _project(self, p, row: str, t: str) -> None:
        out, n = self.out, self.n
        if p.runs is None:
            tmp = self.buffer(f"m_{len(self.buffers)}", self.plan.fused_by_name[p.weight].shape[1])
            out(f"np.matmul({row}, {self.W(p.weight)}, out={tmp})")
            for target in p.targets:
                whole = len(p.targets) == 1
                out(f"{n.S(target.block)}[{t}] += {tmp}" + ("" if whole else f"[:, {target.start}:{target.stop}]"))
            return
        if all(id(run) in self.viewed for run in p.runs):
            return
        out(f"r = {row}")
        self._runs(p, "r", t)

    def finish_all(self, stage, block):
        self._finish(block, "...")

    def begin_step(self, stage, t):
        self.out("for t in range(T):")
        self.out.depth += 1

    def read(self, p, t):
        self._project(p, _row(self.n, p.source, p.delay, t), t)

    def then(self, p, t):
        self._project(p, f"{self.n.V(p.source)}[{t}]", t)

    def finish(self, block, t):
        if OPS[block.op].stateful:
            self.out(f"{self.K(block.name)}.step({self.n.S(block.name)}[{t}], {self.n.V(block.name)}[{t}])")
            return
        self._finish(block, t)

    def _finish(self, block, at: str) -> None:
        """V = act(combine(factors of S) + bias) at ``at`` (a step, or ``...`` for all positions)."""
        out, n = self.out, self.n
        v = f"{n.V(block.name)}[{at}]"
        combine = "np.multiply" if OPS[block.op].kernel == "multiply" else "np.add"
        first = self.factor(block, 0, at)
        terms = [term for k in range(block.factors) for term in self.terms(block, k, at)]
        if combine == "np.add" and len(terms) > 1:
            out(f"np.add({terms[0]}, {terms[1]}, out={v})")
            for term in terms[2:]:
                out(f"{v} += {term}")
            if block.bias is not None:
                out(f"{v} += {self.W(block.bias)}")
        elif block.factors == 1:
            if block.bias is not None:
                out(f"np.add({first}, {self.W(block.bias)}, out={v})")
            elif block.activation != "identity":   # the activation reads the factor where it lies
                out(f"act_{block.activation}({first}, {v})")
                return
            else:
                out(f"np.copyto({v}, {first})")
        else:
            out(f"{combine}({first}, {self.factor(block, 1, at)}, out={v})")
            for k in range(2, block.factors):
                out(f"{combine}({v}, {self.factor(block, k, at)}, out={v})")
            if block.bias is not None:
                out(f"np.add({v}, {self.W(block.bias)}, out={v})")
        if block.activation != "identity":
            out(f"act_{block.activation}({v}, {v})")


class _Backward(_Emit):
    """The backward pass.  A block that only sums its slots (identity activation, one factor, no
    product) has its slots' gradient equal to its value's: its G array serves as both."""

    def passes_gradient(self, block) -> bool:
        return block.activation == "identity" and block.factors == 1 and getattr(OPS[block.op], "kernel", None) == "add"

    def GS(self, name: str) -> str:
        block = self.plan.blocks[name]
        return self.n.G(name) if self.passes_gradient(block) else self.n.GS(name)

    def begin_step(self, stage, t):
        self.out("for t in range(T - 1, -1, -1):")
        self.out.depth += 1
        self.out("pass   # a step whose gradients all stop (truncated, no weights) has nothing else")

    def _to_source(self, p, g_slots_at: str, g_row: str) -> None:
        """g_row (B, S) += the gradient of projection ``p``'s source from its targets' slot gradients."""
        out = self.out
        if p.runs is None:
            width = self.plan.fused_by_name[p.weight].shape[0]
            tmp = self.buffer(f"g_{len(self.buffers)}", width)
            out(f"gr = {g_row}")
            for target in p.targets:
                weight = self.W(p.weight) + ("" if len(p.targets) == 1 else f"[:, {target.start}:{target.stop}]")
                out(f"np.matmul({self.GS(target.block)}[{g_slots_at}], {weight}.T, out={tmp})")
                out(f"gr += {tmp}")
            return
        out(f"gr = {g_row}")
        self._runs_back(p, g_slots_at, "gr")

    def _runs_back(self, p, at: str, g_src: str) -> None:
        """``g_src`` (a row, or all positions when ``at`` is ``...``) += the gradient of the source
        of elementwise projection ``p`` from its runs' slot gradients."""
        for run in p.runs:
            piece = f"{self.GS(run.block)}{_cols(at, run.dst, run.dst + run.n)}"
            if run.scale is not None:
                piece += f" * {self.W(p.weight)}[{run.scale}:{run.scale + run.n}]"
            if run.broadcast:
                self.out(f"{g_src}[..., {run.src}:{run.src + 1}] += ({piece}).sum(axis=-1, keepdims=True)")
            else:
                self.out(f"{g_src}[..., {run.src}:{run.src + run.n}] += {piece}")

    def then_back(self, p, t):
        self._to_source(p, t, f"{self.n.G(p.source)}[{t}]")

    def read_back(self, p, t):
        self._to_source(p, t, _g_row(self.n, p.source, p.delay, t))

    def finish_back(self, block, t):
        if OPS[block.op].stateful:
            n = self.n
            self.out(f"{self.K(block.name)}.step_back({t}, {n.V(block.name)}[{t}], {n.G(block.name)}[{t}], "
                     f"{n.GS(block.name)}[{t}], GA)")
            return
        self._finish_back(block, t)

    def finish_all_back(self, stage, block):
        self._finish_back(block, "...")
        self._bias(block)

    def _finish_back(self, block, at: str) -> None:
        """GS at ``at`` from G through the activation and the combiner (the bias: see _bias)."""
        out, n, w = self.out, self.n, block.width
        if self.passes_gradient(block):
            return
        v, g, gs = f"{n.V(block.name)}[{at}]", f"{n.G(block.name)}[{at}]", f"{n.GS(block.name)}[{at}]"
        grad = f"grad_{block.activation}"
        if OPS[block.op].kernel != "multiply" or block.factors == 1:
            first = gs if block.factors == 1 else f"{gs}[..., 0:{w}]"
            out(f"{grad}({v}, {g}, {first})")
            for k in range(1, block.factors):
                out(f"{gs}[..., {k * w}:{(k + 1) * w}] = {first}")
            return
        if block.activation == "identity":
            gp = g   # the product's gradient is its value's
        else:
            gp = f"{n.GS(block.name)}_pre" + ("" if at == "t" else "_all")
            if at == "t":
                self.buffers.append(f"{gp} = np.empty((Bn, {w}), X.dtype)")
            else:
                out(f"{gp} = np.empty_like({v})")
            out(f"{grad}({v}, {g}, {gp})")
        for k in range(block.factors):
            others = [m for m in range(block.factors) if m != k]
            target = f"{gs}[..., {k * w}:{(k + 1) * w}]"
            out(f"np.multiply({gp}, {self.factor(block, others[0], at)}, out={target})")
            for m in others[1:]:
                out(f"{target} *= {self.factor(block, m, at)}")
        if block.bias is not None:   # a product's pre-activation is not in its slots: sum it here
            out(f"G{self.W(block.bias)} += {gp}.reshape(-1, {w}).sum(axis=0)")

    def _bias(self, block) -> None:
        """A combiner's bias gradient, all positions at once: the gradient of its pre-activation,
        which the slots' gradient holds (every slot of a sum; a product's is summed in _finish_back)."""
        if block.bias is None or OPS[block.op].stateful or OPS[block.op].kernel == "multiply" and block.factors > 1:
            return   # (a stateful block's bias: StatefulSteps.step_back, as the interpreter takes it)
        w = block.width
        self.out(f"G{self.W(block.bias)} += {self.GS(block.name)}[..., 0:{w}].reshape(-1, {w}).sum(axis=0)")

    def _weights(self, p, need_source: bool = False) -> None:
        """The gradient of ``p``'s weights over all positions; ``need_source``: leave its source's
        values over all positions in ``src`` (hoist_back takes the source's gradient next)."""
        out, n = self.out, self.n
        if p.runs is not None and all(run.scale is None for run in p.runs) and not need_source:
            return   # no weights to learn
        out(f"src = {_sequence(n, p.source, p.delay)}")
        if p.runs is None:
            out("src2 = src.reshape(-1, src.shape[-1])")
        GW = "G" + self.W(p.weight)
        if p.runs is None:
            for target in p.targets:
                gs = f"{self.GS(target.block)}.reshape(-1, {self.plan.blocks[target.block].slot_width})"
                cols = "" if len(p.targets) == 1 else f"[:, {target.start}:{target.stop}]"
                out(f"{GW}{cols} += src2.T @ {gs}")
            return
        for run in p.runs:
            if run.scale is None:
                continue
            piece = f"src[..., {run.src}:{run.src + 1}]" if run.broadcast else f"src[..., {run.src}:{run.src + run.n}]"
            out(f"{GW}[{run.scale}:{run.scale + run.n}] += ({piece} * "
                f"{self.GS(run.block)}[..., {run.dst}:{run.dst + run.n}]).reshape(-1, {run.n}).sum(axis=0)")

    def end_loop_back(self, stage):
        for _, projections in stage.instant:
            for p in projections:
                self._weights(p)
        for p in stage.delayed:
            self._weights(p)
        for block in stage.blocks():
            self._bias(block)

    def hoist_back(self, stage, p):
        self._weights(p, need_source=not p.truncate)
        if p.truncate:
            return
        if p.source == INPUT_BLOCK:   # the input's gradient only for a caller that differentiates x
            self.out("if want_x:")
            with self.out.indent():
                self._source_back(p)
            return
        self._source_back(p)

    def _source_back(self, p):
        out, n = self.out, self.n
        out("gsrc = np.zeros_like(src)")
        for target in p.targets:
            gs = f"{self.GS(target.block)}"
            if p.runs is None:
                weight = self.W(p.weight) + ("" if len(p.targets) == 1 else f"[:, {target.start}:{target.stop}]")
                out(f"gsrc += np.matmul({gs}.reshape(-1, {gs}.shape[-1]), {weight}.T).reshape(gsrc.shape)")
        if p.runs is not None:
            self._runs_back(p, "...", "gsrc")
        G = n.G(p.source)
        if not p.delay:
            out(f"{G} += gsrc")
            return
        out(f"d = min({p.delay}, T)")
        out(f"{G}[:T - d] += gsrc[d:]")
        out(f"{n.GP(p.source)} += gsrc[:d].sum(axis=0)")


def _function(header: str, emitter, walk, plan: Plan) -> str:
    out = _Source()
    out(header)
    body = _Source()
    emitter.out = body
    with body.indent():
        walk(plan, emitter)
    with out.indent():
        out("T = X.shape[0]")
        out("Bn = X.shape[1]")
        for line in emitter.buffers:
            out(line)
    out.lines += body.lines
    with out.indent():
        out("return 0")
    return out.text()


def forward_source(plan: Plan) -> str:
    """Python source of ``forward(X, P..., W..., V..., S..., K...)`` in numpy (generated_source's
    contract, and K: a fused_stateful.StatefulSteps for each stateful block)."""
    n = _Names(plan)
    args = ["X"] + [n.P(b) for b in plan.lookback] + [f"W{i}" for i in range(len(plan.fused))] + \
        [n.V(b) for b in plan.blocks] + [n.S(b) for b in plan.blocks] + _stateful_args(plan)
    return _function(f"def forward({', '.join(args)}):", _Forward(None, n, plan), walk_forward, plan)


def _stateful_args(plan: Plan) -> list:
    """The K arguments: each stateful block's StatefulSteps (none for a plan of combiners only)."""
    return [f"K{i}" for i in range(len(stateful_blocks(plan)))]


def backward_source(plan: Plan) -> str:
    """Python source of ``backward(X, P..., W..., V..., S..., GX, G..., GS..., GW..., GP..., GPX, K...,
    GA, want_x)`` in numpy; ``want_x`` false skips the input's gradient (GX is then left as it was);
    K the stateful blocks' StatefulSteps of the forward pass, GA the GW arrays by name (for them)."""
    n = _Names(plan)
    args = ["X"] + [n.P(b) for b in plan.lookback] + [f"W{i}" for i in range(len(plan.fused))] + \
        [n.V(b) for b in plan.blocks] + [n.S(b) for b in plan.blocks] + ["GX"] + \
        [n.G(b) for b in plan.blocks] + [n.GS(b) for b in plan.blocks] + \
        [f"GW{i}" for i in range(len(plan.fused))] + [n.GP(b) for b in plan.blocks] + ["GPX"] + \
        _stateful_args(plan) + ["GA=None", "want_x=True"]
    return _function(f"def backward({', '.join(args)}):", _Backward(None, n, plan), walk_backward, plan)


def load(plan: Plan):
    """(forward, backward) of ``plan`` as plain Python functions over numpy."""
    names = namespace()
    source = forward_source(plan) + "\n\n" + backward_source(plan)
    exec(compile(source, f"<graphrnn numpy passes of {len(plan.blocks)} blocks>", "exec"), names)
    return names["forward"], names["backward"]
