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
    """(M, S, reads, writes, column indices into raw) of a node's options, once per node: the
    addressing parameters of every head (H, M+3+S), and each write head's erase and add (W, M),
    so all heads are gathered by one indexing each and addressed together."""
    o = dict(options)
    M, S, R, W = o["width"], o["shifts"], o["reads"], o["writes"]
    read, write = sum(head_sizes(M, S, False).values()), sum(head_sizes(M, S, True).values())
    starts = np.array([i * read for i in range(R)] + [R * read + j * write for j in range(W)], dtype=np.intp)
    span = M + 3 + S
    addressing = starts[:, None] + np.arange(span)
    erase = starts[R:, None] + span + np.arange(M)
    return M, S, R, W, addressing, erase, erase + M


@lru_cache(maxsize=64)
def _rolls(N: int, S: int, back: bool = False) -> np.ndarray:
    """(S, N) indices: row j gathers np.roll(w, k) for k = j - S // 2 (or np.roll(w, -k) when
    ``back``), so a shift weighting's S rolls are one gather instead of S copies."""
    shifts = np.arange(S) - S // 2
    return (np.arange(N)[None, :] + (shifts[:, None] if back else -shifts[:, None])) % N


def _address(memory, prev, a, M, S):
    """Every head's weighting (B, H, N) from the memory (B, N, M), the previous weightings
    (B, H, N) and the addressing parameters a (B, H, M+3+S); with what the backward pass needs
    (see ntm.address)."""
    key = a[..., :M]
    beta, g = np.logaddexp(0.0, a[..., M:M + 1]), _sigmoid(a[..., M + 1:M + 2])
    s, gamma = _softmax(a[..., M + 2:M + 2 + S]), 1.0 + np.logaddexp(0.0, a[..., M + 2 + S:M + 3 + S])
    dots = key @ memory.transpose(0, 2, 1)                                 # (B, H, N)
    n_mem = np.sqrt((memory * memory).sum(axis=-1) + EPS ** 2)[:, None, :]   # (B, 1, N)
    n_key = np.sqrt((key * key).sum(axis=-1, keepdims=True) + EPS ** 2)      # (B, H, 1)
    cos = dots / (n_mem * n_key)
    wc = _softmax(beta * cos)
    wg = g * wc + (1.0 - g) * prev
    rolled = wg[..., _rolls(wg.shape[-1], S)]          # (B, H, S, N): [..., j, :] = roll(wg, j - S // 2)
    ws = (rolled * s[..., None]).sum(axis=-2)
    log_ws = np.log(ws + EPS)
    w = _softmax(gamma * log_ws)
    return w, (key, beta, g, s, gamma, n_mem, n_key, cos, wc, wg, rolled, ws, log_ws)


def _address_back(dw, w, memory, prev, a, cache, M, S):
    """(d a (B, H, M+3+S), d memory (B, N, M), d prev (B, H, N)) for :func:`_address`."""
    key, beta, g, s, gamma, n_mem, n_key, cos, wc, wg, rolled, ws, log_ws = cache
    du = _softmax_back(w, dw)                           # u = gamma * log(ws + eps)
    dgamma = (du * log_ws).sum(axis=-1, keepdims=True)
    dws = du * gamma / (ws + EPS)
    dwg = (dws[..., _rolls(dws.shape[-1], S, back=True)] * s[..., None]).sum(axis=-2)
    ds = (dws[..., None, :] * rolled).sum(axis=-1)
    dg = (dwg * (wc - prev)).sum(axis=-1, keepdims=True)
    dprev = (1.0 - g) * dwg
    dz = _softmax_back(wc, g * dwg)                     # z = beta * cos
    dbeta = (dz * cos).sum(axis=-1, keepdims=True)
    dcos = dz * beta                                    # cos = dots / (n_mem n_key)
    ddots = dcos / (n_mem * n_key)
    dn_mem = -(dcos * cos).sum(axis=1) / n_mem[:, 0]    # (B, N), every head's share
    dn_key = -(dcos * cos).sum(axis=-1, keepdims=True) / n_key
    dmemory = ddots.transpose(0, 2, 1) @ key + (dn_mem / n_mem[:, 0])[..., None] * memory
    dkey = ddots @ memory + dn_key / n_key * key
    da = np.concatenate([dkey, dbeta * _sigmoid(a[..., M:M + 1]), dg * g * (1.0 - g),
                         _softmax_back(s, ds), dgamma * _sigmoid(a[..., M + 2 + S:M + 3 + S])], axis=-1)
    return da, dmemory, dprev


def step_forward(raw, memory, weightings, options):
    """((read vectors, new memory, new weightings), what :func:`step_backward` needs); numpy.
    Every head addresses the old memory at once; the reads read it; then the writes."""
    M, S, R, W, addressing, erase_cols, add_cols = _layout(options)
    a = raw[:, addressing]                                # (B, H, M+3+S)
    new_w, cache = _address(memory, weightings, a, M, S)
    B = raw.shape[0]
    value = (new_w[:, :R] @ memory).reshape(B, R * M)
    if not W:
        return (value, memory, new_w), (a, cache, None, None, ())
    # every erase, then every add (the paper's Section 3.2): the heads' order is irrelevant
    erase, add, ww = _sigmoid(raw[:, erase_cols]), raw[:, add_cols], new_w[:, R:]
    keeps = [1.0 - ww[:, j, :, None] * erase[:, j, None, :] for j in range(W)]
    keep = keeps[0]
    for k in keeps[1:]:
        keep = keep * k
    new_memory = memory * keep + ww.transpose(0, 2, 1) @ add
    return (value, new_memory, new_w), (a, cache, erase, keep, keeps)


@primitive
def memory_step(raw, memory, weightings, options: tuple):
    """raw (B, P), memory (B, N, M), weightings (B, H, N) -> (read vectors (B, R*M), the new
    memory (B, N, M), the new weightings (B, H, N)); ``options`` the node's sorted option pairs."""
    return step_forward(raw, memory, weightings, options)[0]


def _others(memory, keeps):
    """memory times every keep but the j-th, for each write head j: prefix and suffix products,
    no division by a keep that may be exactly 0."""
    before, after = [memory], [None] * len(keeps)
    for k in keeps[:-1]:
        before.append(before[-1] * k)
    rest = 1.0
    for j in range(len(keeps) - 1, -1, -1):
        after[j] = before[j] * rest
        rest = rest * keeps[j]
    return after


def step_backward(raw, memory, weightings, options, outputs, cache, g):
    """(d raw, d memory, d weightings) from the cotangents ``g`` of the three outputs (None: zero)."""
    M, S, R, W, addressing, erase_cols, add_cols = _layout(options)
    new_w = outputs[2]
    a, address_cache, erase, keep, keeps = cache
    g_value, g_memory, g_w = (np.zeros_like(o) if c is None else c for o, c in zip(outputs, g))
    B = raw.shape[0]
    draw = np.zeros_like(raw)
    dw = np.array(g_w, copy=True)
    dnew = np.asarray(g_memory)
    if W:                                            # new = memory * prod_j keep_j + sum_j w_j add_j
        ww, add = new_w[:, R:], raw[:, add_cols]
        dw[:, R:] += (dnew @ add.transpose(0, 2, 1)).transpose(0, 2, 1)
        derase = np.empty_like(erase)
        for j, others in enumerate(_others(memory, keeps)):
            dkeep_j = dnew * others
            dw[:, R + j] -= (dkeep_j @ erase[:, j, :, None])[..., 0]
            derase[:, j] = -(ww[:, j, None, :] @ dkeep_j)[:, 0]
        draw[:, erase_cols] = derase * erase * (1.0 - erase)
        draw[:, add_cols] = ww @ dnew
        dmem = dnew * keep
    else:
        dmem = np.array(dnew, copy=True)
    dr = np.asarray(g_value).reshape(B, R, M)        # the reads of the old memory
    dw[:, :R] += dr @ memory.transpose(0, 2, 1)
    dmem += new_w[:, :R].transpose(0, 2, 1) @ dr
    da, d_m, dweights = _address_back(dw, new_w, memory, weightings, a, address_cache, M, S)
    draw[:, addressing] = da
    dmem += d_m
    return draw, dmem, dweights


def _memory_step_vjp(argnums, ans, args, kwargs):
    raw, memory, weightings, options = args
    outputs, cache = step_forward(raw, memory, weightings, options)

    def vjp(g):
        grads = step_backward(raw, memory, weightings, options, outputs, cache, g)
        return tuple(grads[n] for n in argnums)
    return vjp


defvjp_argnums(memory_step, _memory_step_vjp)
