"""Gradient algorithms beyond full BPTT: truncated BPTT.

Full BPTT is ``Network.value_and_grad`` (autograd over the whole run,
through the network's engine).  Truncated BPTT (Williams & Peng 1990, "BPTT(h; h')")
walks the sequence in windows: every ``k1`` steps it backpropagates the
error of those ``k1`` steps through the last ``k2 >= k1`` steps only,
starting from the state the forward pass reached there, carried without
gradient.  Peak memory depends on ``k2``, not on the sequence length.
"""
from __future__ import annotations

import numpy as np

from ..errors import RunError


def tbptt_value_and_grad(net, params, x, target, kind: str, mask, k1: int | None = None, k2: int | None = None):
    """(loss over the whole sequence, gradients) by truncated BPTT(k2; k1).

    x (T, B, I), target (T, B, O) or class indices (T, B), mask (T, B) or
    None.  The loss is the same mean over positions as ``net.loss``; only
    its gradient is truncated.  The sequence is cut into chunks of k1
    steps (the last may be shorter); the errors of a chunk flow back through
    the chunk and the k2 - k1 steps before it.  With k1 = k2 = k this is
    the common "chunked" TBPTT.
    """
    k2 = k1 if k2 is None else k2
    if not (isinstance(k1, int) and isinstance(k2, int) and 1 <= k1 <= k2):
        raise RunError("GR200", f"tbptt needs whole numbers 1 <= k1 <= k2, got k1={k1}, k2={k2}",
                       fix="e.g. method='tbptt', k1=20 (and k2=40 to look further back)")
    x = np.asarray(x, dtype=float)
    T, B = x.shape[:2]
    target = np.asarray(target)
    weights = np.ones((T, B)) if mask is None else np.asarray(mask, dtype=float)
    total = max(weights.sum(), 1.0)
    ends = list(range(k1, T, k1)) + [T]
    # the window of the chunk [previous end, end) reaches k2 - k1 steps further back
    starts = sorted({max(0, begin - (k2 - k1)) for begin in [0] + ends[:-1]})
    # one forward pass, cut where windows start, to learn the state there
    states, state, last = {0: None}, None, 0
    for start in starts[1:]:
        state = net.run(params, x[last:start], state=state).state
        states[start], last = state, start
    loss, grads = 0.0, {name: np.zeros(np.shape(params[name])) for name in net.trainable}
    previous_end = 0
    for end in ends:
        start = max(0, previous_end - (k2 - k1))
        window = np.zeros((end - start, B))
        window[previous_end - start:] = weights[previous_end:end]   # errors of the last k1 steps only
        share = window.sum()
        if share > 0:
            value, g = net.value_and_grad(params, x[start:end], target[start:end], kind, window,
                                          state=states[start])
            loss += value * share / total
            for name in grads:
                grads[name] += g[name] * (share / total)
        previous_end = end
    return loss, grads
