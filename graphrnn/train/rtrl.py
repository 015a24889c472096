"""Real-time recurrent learning (Williams & Zipser 1989): exact gradients, forward in time.

RTRL carries the sensitivities P_t = d s_t / d theta of the network's state
s_t (every value a delayed edge reads, see runtime/state.py) with respect to
every trainable parameter theta, and updates them at each step:

    P_t = (d s_t / d s_{t-1}) P_{t-1} + d s_t / d theta
    dL/dtheta += (d L_t / d y_t) [(d y_t / d s_{t-1}) P_{t-1} + d y_t / d theta]

so the gradient is complete when the sequence ends, with no backward pass
through time.  The result equals full BPTT's.  The cost is what makes RTRL
a tool for small networks: with n state units and about n^2 weights, P has
n^3 entries and each step's product (d s_t / d s_{t-1}) P_{t-1} costs
O(n^4) time (and the Jacobians here are formed by autograd, one reverse
pass per state entry); memory is O(n^3), independent of the sequence length.
"""
from __future__ import annotations

import warnings

import autograd.numpy as anp
import numpy as np
from autograd import jacobian
from autograd.builtins import dict as ag_dict

from ..ops.losses import LOSSES
from ..plan.ir import INPUT_BLOCK
from ..runtime.assemble import assemble
from ..runtime.engine import AutogradEngine
from ..runtime.network import Network


def rtrl_value_and_grad(net, params, x, target, kind: str = "mse", mask=None):
    """(loss, grads for the trainable parameters) by RTRL; the same loss as ``net.loss``.

    x (T, B, I); target (T, B, O) or classes (T, B); mask (T, B) or None.
    """
    stepper = Network(net.ir, net.plan, AutogradEngine())   # differentiable through its state
    names = sorted(net.trainable)
    shapes = [np.shape(params[n]) for n in names]
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    fixed = {n: v for n, v in params.items() if n not in net.trainable}
    x = np.asarray(x, dtype=float)
    T, B = x.shape[:2]
    target = np.asarray(target)
    weights = np.ones((T, B)) if mask is None else np.asarray(mask, dtype=float)
    total = max(weights.sum(), 1.0)
    lookback = {name: depth for name, depth in net.plan.lookback.items()}
    widths = {name: (x.shape[2] if name == INPUT_BLOCK else net.plan.blocks[name].width) for name in lookback}

    def unflatten(theta):
        out, start = dict(fixed), 0
        for name, shape, size in zip(names, shapes, sizes):
            out[name] = anp.reshape(theta[start:start + size], shape)
            start += size
        return ag_dict(out)   # one boxed dict: assemble sees a single differentiable argument

    def state_of(flat):
        out, start = {}, 0
        for name, depth in lookback.items():
            size = depth * B * widths[name]
            out[name] = anp.reshape(flat[start:start + size], (depth, B, widths[name]))
            start += size
        return out

    def initial_state(theta):
        arrays = assemble(unflatten(theta), net.assembler)
        parts = []
        for name, depth in lookback.items():
            if name == INPUT_BLOCK:
                parts.append(anp.zeros(depth * B * widths[name]))
            else:
                rows = net.plan.named(arrays)[net.plan.blocks[name].initial] * anp.ones((depth, B, 1))
                parts.append(anp.ravel(rows))
        return anp.concatenate(parts) if parts else anp.zeros(0)

    def step(theta, flat, t):
        """(next state, this step's share of the loss)."""
        state = state_of(flat)
        trace = stepper.run(unflatten(theta), x[t:t + 1], state=state)
        parts = []
        for name, depth in lookback.items():
            rows = anp.concatenate([state[name], trace.block(name)], axis=0)
            parts.append(anp.ravel(rows[-depth:]))
        share = weights[t].sum()
        loss = LOSSES[kind](trace.y, target[t:t + 1], weights[t:t + 1]) * (share / total) if share else 0.0 * anp.sum(trace.y)
        return (anp.concatenate(parts) if parts else anp.zeros(0)), loss

    if not names:   # nothing to learn: the loss alone
        return float(net.loss(params, x, target, kind, mask)), {}
    theta = np.concatenate([np.ravel(params[n]) for n in names])
    flat = initial_state(theta)
    with warnings.catch_warnings():
        # a step's loss may not depend on the state: autograd then warns; the zero Jacobian is right
        warnings.filterwarnings("ignore", message="Output seems independent of input")
        loss, grad = _sensitivities(theta, flat, initial_state, step, T)
    out, start = {}, 0
    for name, shape, size in zip(names, shapes, sizes):
        out[name] = grad[start:start + size].reshape(shape)
        start += size
    return loss, out


def _sensitivities(theta, flat, initial_state, step, T):
    """Run RTRL's forward recursion; returns (loss, gradient as a flat vector)."""
    recurrent = flat.size > 0   # a network whose every delay is zero has no state to carry
    P = jacobian(initial_state)(theta) if recurrent else None   # d s_0 / d theta
    loss, grad = 0.0, np.zeros_like(theta)
    for t in range(T):
        def next_state(s, th):
            return step(th, s, t)[0]

        def step_loss(s, th):
            return step(th, s, t)[1]
        grad += jacobian(step_loss, 1)(flat, theta)
        if recurrent:
            grad += jacobian(step_loss, 0)(flat, theta) @ P
            P = jacobian(next_state, 0)(flat, theta) @ P + jacobian(next_state, 1)(flat, theta)
        new_flat, value = step(theta, flat, t)
        loss += float(value)
        flat = np.asarray(new_flat)
    return loss, grad
