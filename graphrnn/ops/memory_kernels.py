"""The NTM memory's step and its backward pass as loops compiled by numba: the compiled engine's.

The same arithmetic as memory_step.py (its numpy form, which the fused
engine runs and the tests hold this to), written as loops over one batch
row, head, slot and column at a time.  At the NTM papers' sizes (batch 1,
128 x 20 memory, 2 to 10 heads) the numpy form costs its ~80 calls a step
(about 300 us); these loops cost the arithmetic.  numba is optional
(``pip install graphrnn[fast]``); only the compiled engine imports this.

Shapes as in memory_step.py: B rows, N slots, M width, S shifts, H heads
(R reads, then W writes), P the ports' raw parameters side by side.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .memory_step import _layout
from .ntm import EPS

__all__ = ["step_forward", "step_backward"]


@numba.njit(cache=True)
def _sigmoid(z):
    return 0.5 * (math.tanh(0.5 * z) + 1.0)


@numba.njit(cache=True)
def _softplus(z):
    """log(1 + e^z), as np.logaddexp(0, z) computes it."""
    if z == 0.0:
        return math.log(2.0)
    return math.log1p(math.exp(z)) if z < 0.0 else z + math.log1p(math.exp(-z))


@numba.njit(cache=True)
def _wrap(i, N):
    """i mod N for -N <= i < 2N, without a division."""
    return i + N if i < 0 else (i - N if i >= N else i)


@numba.njit(cache=True)
def _softmax_into(z, out):
    top = z[0]
    for i in range(1, z.shape[0]):
        top = max(top, z[i])
    total = 0.0
    for i in range(z.shape[0]):
        out[i] = math.exp(z[i] - top)
        total += out[i]
    for i in range(z.shape[0]):
        out[i] /= total


@numba.njit(cache=True)
def _forward(raw, memory, prev, addressing, erase_cols, add_cols, R, M, S, value, new_memory, w,
             n_mem, n_key, beta, gate, shift, gamma, cos, wc, wg, ws):
    """Fills value (B, R*M), new_memory (B, N, M), w (B, H, N) and what the backward pass reads."""
    B, N = memory.shape[0], memory.shape[1]
    H = prev.shape[1]
    half = S // 2
    z = np.empty(N)
    key = np.empty(M)
    for b in range(B):
        for n in range(N):
            acc = 0.0
            for m in range(M):
                acc += memory[b, n, m] * memory[b, n, m]
            n_mem[b, n] = math.sqrt(acc + EPS * EPS)
        for h in range(H):
            a = addressing[h]
            acc = 0.0
            for m in range(M):
                key[m] = raw[b, a[m]]
                acc += key[m] * key[m]
            n_key[b, h] = math.sqrt(acc + EPS * EPS)
            beta[b, h] = _softplus(raw[b, a[M]])
            gate[b, h] = _sigmoid(raw[b, a[M + 1]])
            for j in range(S):
                z[j] = raw[b, a[M + 2 + j]]
            _softmax_into(z[:S], shift[b, h])
            gamma[b, h] = 1.0 + _softplus(raw[b, a[M + 2 + S]])
            for n in range(N):
                dot = 0.0
                for m in range(M):
                    dot += memory[b, n, m] * key[m]
                cos[b, h, n] = dot / (n_mem[b, n] * n_key[b, h])
                z[n] = beta[b, h] * cos[b, h, n]
            _softmax_into(z, wc[b, h])
            g = gate[b, h]
            for n in range(N):
                wg[b, h, n] = g * wc[b, h, n] + (1.0 - g) * prev[b, h, n]
            for n in range(N):
                acc = 0.0
                for j in range(S):
                    acc += shift[b, h, j] * wg[b, h, _wrap(n - j + half, N)]
                ws[b, h, n] = acc
                z[n] = gamma[b, h] * math.log(acc + EPS)
            _softmax_into(z, w[b, h])
        for i in range(R):
            for m in range(M):
                acc = 0.0
                for n in range(N):
                    acc += w[b, i, n] * memory[b, n, m]
                value[b, i * M + m] = acc
        # every erase, then every add (the paper's Section 3.2)
        W = erase_cols.shape[0]
        erase = np.empty((W, M))
        for j in range(W):
            for m in range(M):
                erase[j, m] = _sigmoid(raw[b, erase_cols[j, m]])
        for n in range(N):
            for m in range(M):
                keep, added = 1.0, 0.0
                for j in range(W):
                    keep *= 1.0 - w[b, R + j, n] * erase[j, m]
                    added += w[b, R + j, n] * raw[b, add_cols[j, m]]
                new_memory[b, n, m] = memory[b, n, m] * keep + added


@numba.njit(cache=True)
def _backward(raw, memory, prev, addressing, erase_cols, add_cols, R, M, S, w,
              n_mem, n_key, beta, gate, shift, gamma, cos, wc, wg, ws, g_value, g_memory, g_w,
              draw, dmemory, dprev):
    """Fills draw (B, P), dmemory (B, N, M) and dprev (B, H, N) from the outputs' cotangents."""
    B, N = memory.shape[0], memory.shape[1]
    H, W = prev.shape[1], erase_cols.shape[0]
    half = S // 2
    dw = np.empty(N)
    du = np.empty(N)
    dws = np.empty(N)
    dwg = np.empty(N)
    ds = np.empty(S)
    dn_mem = np.empty(N)
    key = np.empty(M)
    dkey = np.empty(M)
    erase = np.empty((W, M))
    add = np.empty((W, M))
    derase = np.empty((W, M))
    dadd = np.empty((W, M))
    before = np.empty(W + 1)       # before[j]: the keeps of heads 0..j-1 multiplied
    dw_write = np.empty((W, N))   # each write head's weighting gradient from the write itself
    for b in range(B):
        draw[b, :] = 0.0
        dn_mem[:] = 0.0
        for j in range(W):
            for m in range(M):
                erase[j, m] = _sigmoid(raw[b, erase_cols[j, m]])
                add[j, m] = raw[b, add_cols[j, m]]
        # the writes: new = memory * prod_j keep_j + sum_j w_j add_j, keep_j = 1 - w_j erase_j;
        # head j's share needs memory times the other heads' keeps: prefix times suffix products,
        # O(W) a slot and column, no division (a keep can be 0)
        derase[:, :] = 0.0
        dadd[:, :] = 0.0
        dw_write[:, :] = 0.0
        for n in range(N):
            for m in range(M):
                d = g_memory[b, n, m]
                before[0] = 1.0
                for j in range(W):
                    before[j + 1] = before[j] * (1.0 - w[b, R + j, n] * erase[j, m])
                dmemory[b, n, m] = d * before[W]
                after = memory[b, n, m]   # memory times the keeps of heads j+1..W-1
                for j in range(W - 1, -1, -1):
                    wj = w[b, R + j, n]
                    others = after * before[j]
                    derase[j, m] -= d * others * wj
                    dadd[j, m] += d * wj
                    dw_write[j, n] += d * (add[j, m] - others * erase[j, m])
                    after *= 1.0 - wj * erase[j, m]
        for j in range(W):
            for m in range(M):
                e = erase[j, m]
                draw[b, erase_cols[j, m]] = derase[j, m] * e * (1.0 - e)
                draw[b, add_cols[j, m]] = dadd[j, m]
        for h in range(H):
            a = addressing[h]
            for n in range(N):
                dw[n] = g_w[b, h, n]
            if h >= R:
                for n in range(N):
                    dw[n] += dw_write[h - R, n]
            else:   # a read of the old memory
                for n in range(N):
                    acc = 0.0
                    for m in range(M):
                        acc += g_value[b, h * M + m] * memory[b, n, m]
                        dmemory[b, n, m] += w[b, h, n] * g_value[b, h * M + m]
                    dw[n] += acc
            # the addressing, back from w = softmax(gamma log(ws + eps))
            dot = 0.0
            for n in range(N):
                dot += dw[n] * w[b, h, n]
            dgamma = 0.0
            for n in range(N):
                du[n] = w[b, h, n] * (dw[n] - dot)
                dgamma += du[n] * math.log(ws[b, h, n] + EPS)
                dws[n] = du[n] * gamma[b, h] / (ws[b, h, n] + EPS)
            for j in range(S):
                acc = 0.0
                for n in range(N):
                    acc += dws[n] * wg[b, h, _wrap(n - j + half, N)]
                ds[j] = acc
            g = gate[b, h]
            dg, dot = 0.0, 0.0
            for n in range(N):
                acc = 0.0
                for j in range(S):
                    acc += shift[b, h, j] * dws[_wrap(n + j - half, N)]
                dwg[n] = acc
                dg += acc * (wc[b, h, n] - prev[b, h, n])
                dprev[b, h, n] = (1.0 - g) * acc
                dot += g * acc * wc[b, h, n]
            dbeta, dkey_norm = 0.0, 0.0
            for m in range(M):
                key[m] = raw[b, a[m]]
                dkey[m] = 0.0
            for n in range(N):
                dz = wc[b, h, n] * (g * dwg[n] - dot)
                dbeta += dz * cos[b, h, n]
                dcos = dz * beta[b, h]
                ddots = dcos / (n_mem[b, n] * n_key[b, h])
                dn_mem[n] -= dcos * cos[b, h, n] / n_mem[b, n]
                dkey_norm -= dcos * cos[b, h, n] / n_key[b, h]
                for m in range(M):
                    dmemory[b, n, m] += ddots * key[m]
                    dkey[m] += ddots * memory[b, n, m]
            for m in range(M):
                draw[b, a[m]] = dkey[m] + dkey_norm / n_key[b, h] * key[m]
            draw[b, a[M]] = dbeta * _sigmoid(raw[b, a[M]])
            draw[b, a[M + 1]] = dg * g * (1.0 - g)
            dot = 0.0
            for j in range(S):
                dot += ds[j] * shift[b, h, j]
            for j in range(S):
                draw[b, a[M + 2 + j]] = shift[b, h, j] * (ds[j] - dot)
            draw[b, a[M + 2 + S]] = dgamma * _sigmoid(raw[b, a[M + 2 + S]])
        for n in range(N):
            for m in range(M):
                dmemory[b, n, m] += dn_mem[n] / n_mem[b, n] * memory[b, n, m]


def step_forward(raw, memory, weightings, options):
    """memory_step.step_forward's contract: ((read vectors (B, R*M), new memory, new weightings),
    what :func:`step_backward` needs)."""
    M, S, R, W, addressing, erase_cols, add_cols = _layout(options)
    B, N = memory.shape[:2]
    H, dtype = R + W, memory.dtype
    raw, memory, weightings = (np.ascontiguousarray(a, dtype) for a in (raw, memory, weightings))
    value, new_memory, w = np.empty((B, R * M), dtype), np.empty_like(memory), np.empty_like(weightings)
    n_mem, n_key, beta, gate, gamma = (np.empty((B, N), dtype), np.empty((B, H), dtype),
                                       np.empty((B, H), dtype), np.empty((B, H), dtype), np.empty((B, H), dtype))
    shift = np.empty((B, H, S), dtype)
    cos, wc, wg, ws = (np.empty((B, H, N), dtype) for _ in range(4))
    inner = (n_mem, n_key, beta, gate, shift, gamma, cos, wc, wg, ws)
    _forward(raw, memory, weightings, addressing, erase_cols, add_cols, R, M, S, value, new_memory, w, *inner)
    return (value, new_memory, w), (raw, memory, weightings, inner)


def step_backward(raw, memory, weightings, options, outputs, cache, g):
    """memory_step.step_backward's contract: (d raw, d memory, d weightings) from the cotangents ``g``
    of the three outputs (None: zero)."""
    M, S, R, W, addressing, erase_cols, add_cols = _layout(options)
    raw, memory, weightings, inner = cache
    g_value, g_memory, g_w = (np.zeros_like(o) if c is None else np.ascontiguousarray(c, o.dtype)
                              for o, c in zip(outputs, g))
    draw, dmemory, dprev = np.empty_like(raw), np.empty_like(memory), np.empty_like(weightings)
    _backward(raw, memory, weightings, addressing, erase_cols, add_cols, R, M, S, outputs[2], *inner,
              g_value, g_memory, g_w, draw, dmemory, dprev)
    return draw, dmemory, dprev
