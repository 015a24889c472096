"""The compiled engine's building blocks: numba kernels the generated step code calls.

Keeping the loops of a projection here (compiled once, cached on disk by
numba) keeps the generated code of a plan short, so compiling a new plan
costs a fraction of a second instead of seconds.  Rows are (B, width)
arrays of one step; ``c0`` is the first column of a projection's weight
matrix that a target reads.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def dense_add(r, W, c0, out):
    """out (B, w) += r (B, S) @ W[:, c0:c0 + w]."""
    B, S = r.shape
    w = out.shape[1]
    for b in range(B):
        for j in range(w):
            acc = 0.0
            for i in range(S):
                acc += r[b, i] * W[i, c0 + j]
            out[b, j] += acc


@numba.njit(cache=True)
def dense_grad_source(g, W, c0, gr):
    """gr (B, S) += g (B, w) @ W[:, c0:c0 + w].T."""
    B, S = gr.shape
    w = g.shape[1]
    for b in range(B):
        for i in range(S):
            acc = 0.0
            for j in range(w):
                acc += g[b, j] * W[i, c0 + j]
            gr[b, i] += acc


@numba.njit(cache=True)
def dense_grad_weight(r, g, GW, c0):
    """GW[:, c0:c0 + w] += r (B, S).T @ g (B, w)."""
    B, S = r.shape
    w = g.shape[1]
    for b in range(B):
        for i in range(S):
            ri = r[b, i]
            if ri != 0.0:
                for j in range(w):
                    GW[i, c0 + j] += ri * g[b, j]


@numba.njit(cache=True)
def run_add(r, src, dst, n, W, scale, broadcast, out):
    """out[:, dst:dst + n] += r[:, src:src + n] (or r[:, src] repeated) * W[scale:scale + n] (scale >= 0)."""
    for b in range(out.shape[0]):
        for k in range(n):
            v = r[b, src] if broadcast else r[b, src + k]
            if scale >= 0:
                v *= W[scale + k]
            out[b, dst + k] += v


@numba.njit(cache=True)
def run_grad(r, g, src, dst, n, W, scale, broadcast, GW, gr, weights, source):
    """The gradients of run_add: into GW[scale:scale + n] (``weights``) and the source rows ``gr`` (``source``)."""
    for b in range(g.shape[0]):
        for k in range(n):
            gk = g[b, dst + k]
            col = src if broadcast else src + k
            if scale >= 0:
                if weights:
                    GW[scale + k] += r[b, col] * gk
                gk *= W[scale + k]
            if source:
                gr[b, col] += gk


SOFTMAX = 7   # the activation codes are generated.ACTIVATION_CODES


@numba.njit(cache=True, inline="always")
def _sigmoid(a):
    return 0.5 * (np.tanh(0.5 * a) + 1.0)


@numba.njit(cache=True, inline="always")
def activate(a, code):
    """The activation ``code`` of one pre-activation value (softmax is applied per node in ``finish``)."""
    if code == 1:
        return np.tanh(a)
    if code == 2:
        return _sigmoid(a)
    if code == 3:
        return a if a > 0.0 else 0.0
    if code == 4:
        return np.logaddexp(0.0, a)
    if code == 5:
        return 4.0 * _sigmoid(a) - 2.0
    if code == 6:
        return 2.0 * _sigmoid(a) - 1.0
    return a


@numba.njit(cache=True, inline="always")
def activate_grad(y, g, code):
    """d act / d a times ``g``, from the output ``y`` (as ops/activations.py's grad_from_output)."""
    if code == 1:
        return g * (1.0 - y * y)
    if code == 2:
        return g * y * (1.0 - y)
    if code == 3:
        return g if y > 0.0 else 0.0
    if code == 4:
        return g * -np.expm1(-y)
    if code == 5:
        s = (y + 2.0) / 4.0
        return g * 4.0 * s * (1.0 - s)
    if code == 6:
        s = (y + 1.0) / 2.0
        return g * 2.0 * s * (1.0 - s)
    return g


@numba.njit(cache=True)
def finish(S, factors, product, bias, has_bias, code, segments, V):
    """V (B, w) = act(combine(factors of S (B, factors * w)) + bias); softmax over each segment."""
    B, w = V.shape
    for b in range(B):
        for j in range(w):
            a = S[b, j]
            for k in range(1, factors):
                if product:
                    a *= S[b, j + k * w]
                else:
                    a += S[b, j + k * w]
            if has_bias:
                a += bias[j]
            V[b, j] = activate(a, code)
        if code == SOFTMAX:
            for s in range(segments.shape[0]):
                s0, s1 = segments[s, 0], segments[s, 1]
                m = V[b, s0]
                for j in range(s0 + 1, s1):
                    m = max(m, V[b, j])
                z = 0.0
                for j in range(s0, s1):
                    V[b, j] = np.exp(V[b, j] - m)
                    z += V[b, j]
                for j in range(s0, s1):
                    V[b, j] /= z


@numba.njit(cache=True)
def finish_grad(S, V, G, factors, product, GB, has_bias, code, segments, GS):
    """GS (B, factors * w): the gradient of the slots from G (B, w), the gradient of V; bias into GB."""
    B, w = V.shape
    for b in range(B):
        for s in range(segments.shape[0]):
            s0, s1 = segments[s, 0], segments[s, 1]
            dot = 0.0
            if code == SOFTMAX:
                for j in range(s0, s1):
                    dot += G[b, j] * V[b, j]
            for j in range(s0, s1):
                y = V[b, j]
                gp = y * (G[b, j] - dot) if code == SOFTMAX else activate_grad(y, G[b, j], code)
                if has_bias:
                    GB[j] += gp
                for k in range(factors):
                    v = gp
                    if product:
                        for m in range(factors):
                            if m != k:
                                v *= S[b, j + m * w]
                    GS[b, j + k * w] = v
