"""The compiled engine's building blocks: numba kernels the generated step code calls.

Keeping the loops of a projection here (compiled once, cached on disk by
numba) keeps the generated code of a plan short, so compiling a new plan
costs a fraction of a second instead of seconds.  Rows are (B, width)
arrays of one step; ``c0`` is the first column of a projection's weight
matrix that a target reads.

Where SciPy is installed, numba's ``np.dot`` calls BLAS (SciPy's bindings),
and the generated code takes a dense projection's products from it: the
loops below (``dense_*``) stay for machines without SciPy, at about a fifth
of BLAS's speed on a 128 x 512 product.  The column and row kernels here
move a projection's product between its targets' slots and one contiguous
array, which is what BLAS takes.
"""
from __future__ import annotations

import importlib.util

import numba
import numpy as np

#: whether numba's np.dot can call BLAS, which it reaches through SciPy
BLAS = importlib.util.find_spec("scipy") is not None


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
def add_cols(h, c0, out):
    """out (R, w) += h[:, c0:c0 + w]: a target's columns of a projection's product (R rows)."""
    R, w = out.shape
    for b in range(R):
        for j in range(w):
            out[b, j] += h[b, c0 + j]


@numba.njit(cache=True)
def put_cols(g, c0, h):
    """h[:, c0:c0 + w] = g (R, w): a target's slot gradients into a projection's columns."""
    R, w = g.shape
    for b in range(R):
        for j in range(w):
            h[b, c0 + j] = g[b, j]


@numba.njit(cache=True)
def rows_back(V, P, depth, delay):
    """(T * B, S), row t * B + b = the source row read ``delay`` steps back at step t: V[t - delay, b],
    or before the start P[depth + t - delay, b]; V (T, B, S), P (depth, B, S)."""
    T, B, S = V.shape
    R = np.empty((T * B, S), V.dtype)
    for t in range(T):
        for b in range(B):
            for i in range(S):
                R[t * B + b, i] = V[t - delay, b, i] if t >= delay else P[depth + t - delay, b, i]
    return R


@numba.njit(cache=True)
def add_rows_back(H, G, GP, delay):
    """The gradient of rows_back: G[t - delay, b] += H[t * B + b] where t >= delay, else GP[b] += it;
    G (T, B, S), GP (B, S)."""
    T, B, S = G.shape
    for t in range(T):
        for b in range(B):
            for i in range(S):
                if t >= delay:
                    G[t - delay, b, i] += H[t * B + b, i]
                else:
                    GP[b, i] += H[t * B + b, i]


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
