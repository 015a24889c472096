"""The Network users hold for sequences: run, loss and BPTT over a compiled plan."""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval, isbox

from ..errors import RunError
from ..ops.losses import LOSS_GRADS, LOSSES
from ..plan.limits import check_run, memory_limit, run_bytes
from ..trees import TreeBatch
from .network_base import CompiledNetwork, check_finite_input, check_loss_kind, computation_dtype
from .state import final_state
from .trace import NodeValues, Trace


class Network(CompiledNetwork):
    """A compiled sequence network.  Arrays are time-major: x is (T, B, inputs).

    It runs on ``engine`` (fused or autograd; see runtime/engine.py) and
    differentiates by full backpropagation through time through that
    engine; the other gradient methods (truncated BPTT, RTRL) are
    graphrnn.train.methods.
    """

    over = "sequence"

    def _inputs(self, x):
        if isinstance(x, TreeBatch):
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
            check_finite_input(x, self.inputs)
        check_run(self.plan, *np.shape(x)[:2], engine=self.engine.name, graph=self.ir)   # GR108 before allocating
        return x

    def largest_batch(self, steps: int) -> int:
        """The most sequences one run of ``steps`` steps may take within the memory budget
        (graphrnn.plan.limits, the estimate ``run`` checks); at least 1."""
        per_sequence, _ = run_bytes(self.plan, int(steps), 1, delays_materialised=self.engine.name == "compiled")
        return max(1, memory_limit() // max(per_sequence, 1))

    def _check_state(self, state) -> None:
        if state is not None and self.stateful:
            raise RunError("GR200", f"{self.name} has node kinds with state ({', '.join(self.stateful)}); "
                           "a run cannot continue an earlier one yet: each run starts from their initial state",
                           fix="run the whole sequence at once, without `state=`")

    def run(self, params, x, dtype=None, state=None) -> Trace:
        """Simulate: x (T, B, I) -> Trace with ``y`` (T, B, O) and every node's values.

        ``x`` may also be a dict of one (T, B, size) array per input port.
        ``dtype`` (default: the network's, float64) is the precision of the
        computation; parameters and gradients stay float64.  ``state`` (the
        ``trace.state`` of an earlier run) continues that run: delayed edges
        read its last values instead of the nodes' initial values, and no
        gradient flows back into it.
        """
        dtype = self.dtype if dtype is None else computation_dtype(dtype)
        arrays = self._arrays(params)
        x = self._inputs(x)
        self._check_state(state)
        records = {}
        values = self.engine.run(self.plan, arrays, x, dtype, state, records)
        # the state is built when asked for: a delay longer than the run costs nothing otherwise
        return Trace(self.plan, values, lambda: final_state(self.plan, arrays, values, state), records)

    def loss(self, params, x, target, kind: str = "mse", mask=None, state=None):
        """Scalar loss of the outputs against ``target`` (T, B, O), or classes (T, B) for xent;
        ``mask`` (T, B) weighs the positions; see ops/losses.py."""
        return self._loss_and_outputs(params, x, target, kind, mask, state)[0]

    def _loss_and_outputs(self, params, x, target, kind, mask, state):
        check_loss_kind(kind)
        y = self.run(params, x, state=state).y
        target = self._target(target, kind, y.shape)
        return LOSSES[kind](y, target, None if mask is None else np.asarray(mask, float)), y

    def _target(self, target, kind: str, y_shape) -> np.ndarray:
        target = np.asarray(target, dtype=float if kind != "xent" or np.ndim(target) == 3 else int)
        want = tuple(y_shape) if target.ndim == 3 else tuple(y_shape[:2])
        if target.shape != want:
            raise RunError("GR200", f"target of shape {target.shape}, expected {want}",
                           fix="targets are time-major like the outputs: (T, B, O)")
        return target

    def value_and_grad(self, params, x, target, kind: str = "mse", mask=None, state=None):
        """(loss, grads) by full BPTT through the engine; grads: the trainable parameters' (same
        names and shapes).  Truncated BPTT and RTRL: graphrnn.train.methods.value_and_grad.

        An engine with numpy passes (fused, compiled) differentiates the loss
        with its own backward pass and the loss's rule (ops/losses.py
        LOSS_GRADS), without autograd's tape, unless ``params`` or ``x`` are
        themselves being differentiated; the autograd and tree engines go
        through autograd.
        """
        return self.value_grad_and_outputs(params, x, target, kind, mask, state)[:2]

    def value_grad_and_outputs(self, params, x, target, kind: str = "mse", mask=None, state=None):
        """(loss, grads, y): value_and_grad and the outputs y (T, B, O) it computed on the way."""
        check_loss_kind(kind)
        if not (isbox(params) or isbox(x) or isinstance(x, dict)):
            passes = self.engine.passes(self.plan, np.shape(x)[1] if np.ndim(x) == 3 else 0)
            if passes is not None:
                return self._direct(passes, params, x, target, kind, mask, state)
        return self._taped(lambda p: self._loss_and_outputs(p, x, target, kind, mask, state), params)

    def _direct(self, passes, params, x, target, kind, mask, state):
        """value_and_grad by the engine's passes: forward, the loss's gradient, backward, scatter."""
        theta = self.assembler.flatten_checked(params) \
            if isinstance(params, dict) and params.keys() == self.params.keys() else None
        if theta is None:
            self._check_params(params)   # raises the located error
            theta = self.assembler.flatten(params)
        x = self._inputs(x)
        self._check_state(state)
        dtype = self.dtype
        arrays = [np.asarray(a, dtype=dtype) for a in self.assembler.forward(theta)]
        x = np.asarray(x, dtype=dtype)
        values, tape = passes.forward(arrays, x, state, None, scratch=True)   # nothing of the pass escapes
        outputs = NodeValues(self.plan, values)
        parts = [outputs[node] for node in self.plan.outputs.values()]
        y = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
        target = self._target(target, kind, y.shape)
        mask = None if mask is None else np.asarray(mask, float)
        loss = LOSSES[kind](y, target, mask)
        g_y = LOSS_GRADS[kind](y, target, mask)
        g_values, column = {}, 0
        for node in self.plan.outputs.values():
            block, member = self.plan.node_block[node]
            if block not in g_values:
                g_values[block] = np.zeros_like(values[block])
            width = member.stop - member.start
            g_values[block][..., member.start:member.stop] += g_y[..., column:column + width]
            column += width
        g_arrays, _ = passes.backward(arrays, x, values, tape, g_values, state, False, scratch=True)
        g_theta = self.assembler.backward([np.asarray(g, dtype=float) for g in g_arrays], theta.size)
        grads = self.assembler.split(g_theta)
        if self._trainable_order != self.assembler.names:   # else every parameter learns, in table order
            grads = {name: grads[name] for name in self._trainable_order}
        return loss, grads, y.copy()   # y is a view of buffers the next call reuses

    def grad(self, params, x, target, kind: str = "mse", mask=None, state=None):
        """Gradients of ``loss`` for the trainable parameters (dict, same names and shapes)."""
        return self.value_and_grad(params, x, target, kind, mask, state)[1]
