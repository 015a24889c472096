"""One step of the NTM memory as a single autograd primitive, its vector-Jacobian product beside it.

Composed from autograd.numpy (``memory.step_composed``), a step of a
128 x 20 memory with two heads records some 150 tape nodes; as one primitive
it is one node, and the backward pass is the plain numpy below.  Shapes: B
rows, N slots, M width, S shifts, H = reads + writes heads, P the ports'
raw parameters side by side (read heads first, then write heads, as
``memory.port_sizes`` orders them).

``tests/ops/test_memory_step.py`` checks this rule against autograd's
gradient of the composed step and against central differences.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from autograd.extend import defvjp_argnums, primitive

from .ntm import EPS, head_sizes

__all__ = ["memory_step", "step_forward", "step_backward"]


def _sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_back(y, g):
    return y * (g - np.sum(g * y, axis=-1, keepdims=True))


@lru_cache(maxsize=64)
def _layout(options: tuple):
    """(M, S, reads, writes, each head's first column in raw) of a node's options; once per node,
    not once per step."""
    o = dict(options)
    M, S, R, W = o["width"], o["shifts"], o["reads"], o["writes"]
    read, write = sum(head_sizes(M, S, False).values()), sum(head_sizes(M, S, True).values())
    starts = [i * read for i in range(R)] + [R * read + j * write for j in range(W)]
    return M, S, R, W, starts


@lru_cache(maxsize=64)
def _rolls(N: int, S: int, back: bool = False) -> np.ndarray:
    """(S, N) indices: row j gathers np.roll(w, k) for k = j - S // 2 (or np.roll(w, -k) when
    ``back``), so a shift weighting's S rolls are one gather instead of S copies."""
    shifts = np.arange(S) - S // 2
    return (np.arange(N)[None, :] + (shifts[:, None] if back else -shifts[:, None])) % N


def _address(memory, prev, raw, M, S):
    """A head's weighting (B, N) and what its backward pass needs (see ntm.address)."""
    key = raw[:, :M]
    beta, g = np.logaddexp(0.0, raw[:, M:M + 1]), _sigmoid(raw[:, M + 1:M + 2])
    s, gamma = _softmax(raw[:, M + 2:M + 2 + S]), 1.0 + np.logaddexp(0.0, raw[:, M + 2 + S:M + 3 + S])
    dots = np.einsum("bnm,bm->bn", memory, key)
    n_mem = np.sqrt(np.sum(memory ** 2, axis=-1) + EPS ** 2)
    n_key = np.sqrt(np.sum(key ** 2, axis=-1, keepdims=True) + EPS ** 2)
    cos = dots / (n_mem * n_key)
    wc = _softmax(beta * cos)
    wg = g * wc + (1.0 - g) * prev
    rolled = wg[:, _rolls(wg.shape[1], S)]              # (B, S, N): rolled[:, j] = roll(wg, j - S // 2)
    ws = np.sum(rolled * s[:, :, None], axis=1)
    log_ws = np.log(ws + EPS)
    w = _softmax(gamma * log_ws)
    return w, (key, beta, g, s, gamma, dots, n_mem, n_key, cos, wc, wg, rolled, ws, log_ws)


def _address_back(dw, w, memory, prev, raw, cache, M, S):
    """(d raw of the addressing parameters (B, M+3+S), d memory (B, N, M), d prev (B, N))."""
    key, beta, g, s, gamma, dots, n_mem, n_key, cos, wc, wg, rolled, ws, log_ws = cache
    du = _softmax_back(w, dw)                           # u = gamma * log(ws + eps)
    dgamma = np.sum(du * log_ws, axis=-1, keepdims=True)
    dws = du * gamma / (ws + EPS)
    dwg = np.sum(dws[:, _rolls(dws.shape[1], S, back=True)] * s[:, :, None], axis=1)
    ds = np.sum(dws[:, None, :] * rolled, axis=-1)
    dg = np.sum(dwg * (wc - prev), axis=-1, keepdims=True)
    dprev = (1.0 - g) * dwg
    dz = _softmax_back(wc, g * dwg)                     # z = beta * cos
    dbeta = np.sum(dz * cos, axis=-1, keepdims=True)
    dcos = dz * beta
    ddots = dcos / (n_mem * n_key)
    dn_mem = -dcos * dots / (n_mem ** 2 * n_key)
    dn_key = -np.sum(dcos * dots / (n_mem * n_key ** 2), axis=-1, keepdims=True)
    dmemory = ddots[:, :, None] * key[:, None, :] + (dn_mem / n_mem)[:, :, None] * memory
    dkey = np.einsum("bn,bnm->bm", ddots, memory) + dn_key / n_key * key
    draw = np.concatenate([dkey, dbeta * _sigmoid(raw[:, M:M + 1]), dg * g * (1.0 - g),
                           _softmax_back(s, ds), dgamma * _sigmoid(raw[:, M + 2 + S:M + 3 + S])], axis=-1)
    return draw, dmemory, dprev


def step_forward(raw, memory, weightings, options):
    """((read vectors, new memory, new weightings), what :func:`step_backward` needs); numpy."""
    M, S, R, W, starts = _layout(options)
    span = M + 3 + S
    new_w, caches, reads = [], [], []
    for h in range(R + W):
        w, cache = _address(memory, weightings[:, h], raw[:, starts[h]:starts[h] + span], M, S)
        new_w.append(w)
        caches.append(cache)
    for i in range(R):
        reads.append(np.einsum("bn,bnm->bm", new_w[i], memory))
    # every erase, then every add (the paper's Section 3.2): the heads' order is irrelevant
    keeps, keep, added = [], 1.0, 0.0
    for j in range(W):
        start = starts[R + j] + span
        erase, add = _sigmoid(raw[:, start:start + M]), raw[:, start + M:start + 2 * M]
        w = new_w[R + j][:, :, None]
        keeps.append(1.0 - w * erase[:, None, :])
        keep = keep * keeps[-1]
        added = added + w * add[:, None, :]
    new_memory = memory * keep + added if W else memory
    value = reads[0] if R == 1 else np.concatenate(reads, axis=-1)
    return (value, new_memory, np.stack(new_w, axis=1)), (caches, keeps)


@primitive
def memory_step(raw, memory, weightings, options: tuple):
    """raw (B, P), memory (B, N, M), weightings (B, H, N) -> (read vectors (B, R*M), the new
    memory (B, N, M), the new weightings (B, H, N)); ``options`` the node's sorted option pairs."""
    return step_forward(raw, memory, weightings, options)[0]


def step_backward(raw, memory, weightings, options, outputs, cache, g):
    """(d raw, d memory, d weightings) from the cotangents ``g`` of the three outputs (None: zero)."""
    M, S, R, W, starts = _layout(options)
    span = M + 3 + S
    new_w = outputs[2]
    caches, keeps = cache
    g_value, g_memory, g_w = (np.zeros_like(a) if c is None else c for a, c in zip(outputs, g))
    dw = [g_w[:, h].copy() for h in range(R + W)]
    draw = np.zeros_like(raw)
    dnew = np.asarray(g_memory)
    dmem = np.array(g_memory, copy=True)             # new = memory * prod_j keep_j + sum_j w_j add_j
    for j in range(W):
        others = memory                              # memory times the other heads' keeps: no division
        for k in range(W):                           # by a keep that may be exactly 0
            if k != j:
                others = others * keeps[k]
        dkeep_j = dnew * others
        start = starts[R + j] + span
        erase, add = _sigmoid(raw[:, start:start + M]), raw[:, start + M:start + 2 * M]
        w = new_w[:, R + j]
        dw[R + j] += np.sum(dnew * add[:, None, :] - dkeep_j * erase[:, None, :], axis=-1)
        derase = -np.einsum("bnm,bn->bm", dkeep_j, w)
        draw[:, start:start + M] = derase * erase * (1.0 - erase)
        draw[:, start + M:start + 2 * M] = np.einsum("bnm,bn->bm", dnew, w)
        dmem *= keeps[j]
    for i in range(R):                               # the reads of the old memory
        dr = g_value[:, i * M:(i + 1) * M]
        dw[i] += np.einsum("bm,bnm->bn", dr, memory)
        dmem += new_w[:, i][:, :, None] * dr[:, None, :]
    dweights = np.zeros_like(weightings)
    for h in range(R + W):
        d_addr, d_m, d_prev = _address_back(dw[h], new_w[:, h], memory, weightings[:, h],
                                            raw[:, starts[h]:starts[h] + span], caches[h], M, S)
        draw[:, starts[h]:starts[h] + span] += d_addr
        dmem += d_m
        dweights[:, h] = d_prev
    return draw, dmem, dweights


def _memory_step_vjp(argnums, ans, args, kwargs):
    raw, memory, weightings, options = args
    outputs, cache = step_forward(raw, memory, weightings, options)

    def vjp(g):
        grads = step_backward(raw, memory, weightings, options, outputs, cache, g)
        return tuple(grads[n] for n in argnums)
    return vjp


defvjp_argnums(memory_step, _memory_step_vjp)
