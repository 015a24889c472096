"""The Neural Turing Machine's memory arithmetic (Graves, Wayne & Danihelka 2014, Section 3).

Pure functions of arrays with a leading batch axis, written in autograd.numpy
so both the step function of the ``memory`` node kind and the tests
differentiate them.  Shapes: B batch rows, N memory slots, M slot width, S
shift offsets (odd; offsets -(S//2) .. S//2).

Addressing one head, from the raw head parameters the controller emits
(:func:`split_head`): content weights by cosine similarity sharpened with
the key strength beta (softplus, >= 0), interpolation with the previous
weighting by the gate g (sigmoid), circular convolution with the shift
weighting s (softmax over the offsets), sharpening by gamma (1 + softplus,
>= 1).  Writing: erase e (sigmoid), then add a (as emitted); with several
write heads, every head's erase, then every head's add (:func:`write_heads`).  Numerically
safe by construction: the cosine's denominator and the sharpening's base
carry an epsilon and the sharpening is a softmax of logs, so zero memory, zero keys and weights that underflowed to
exactly 0 give finite values and finite gradients.
"""
from __future__ import annotations

import autograd.numpy as anp

from .activations import _softmax, _softplus, sigmoid

__all__ = ["EPS", "head_sizes", "split_head", "content_weights", "interpolate", "circular_shift",
           "sharpen", "address", "read", "write"]

EPS = 1e-8


def head_sizes(width: int, shifts: int, write: bool) -> dict[str, int]:
    """The raw parameters of one head, in the order the controller emits them."""
    sizes = {"key": width, "beta": 1, "gate": 1, "shift": shifts, "gamma": 1}
    if write:
        sizes.update({"erase": width, "add": width})
    return sizes


def split_head(raw, width: int, shifts: int, write: bool) -> dict:
    """Raw head parameters (B, sum of head_sizes) -> the constrained ones.

    key (B, M); beta (B, 1) >= 0; gate (B, 1) in (0, 1); shift (B, S), a
    distribution; gamma (B, 1) >= 1; for a write head also erase (B, M) in
    (0, 1) and add (B, M).
    """
    out, start = {}, 0
    for name, size in head_sizes(width, shifts, write).items():
        out[name] = raw[..., start:start + size]
        start += size
    out["beta"] = _softplus(out["beta"])
    out["gate"] = sigmoid(out["gate"])
    out["shift"] = _softmax(out["shift"])
    out["gamma"] = 1.0 + _softplus(out["gamma"])
    if write:
        out["erase"] = sigmoid(out["erase"])
    return out


def content_weights(memory, key, beta):
    """softmax_i(beta * cos(key, memory_i)): memory (B, N, M), key (B, M), beta (B, 1) -> (B, N)."""
    dots = anp.einsum("bnm,bm->bn", memory, key)
    norms = anp.sqrt(anp.sum(memory ** 2, axis=-1) + EPS ** 2) * anp.sqrt(anp.sum(key ** 2, axis=-1, keepdims=True)
                                                                       + EPS ** 2)
    return _softmax(beta * dots / norms)


def interpolate(content, previous, gate):
    """g * content + (1 - g) * previous: (B, N), (B, N), (B, 1) -> (B, N)."""
    return gate * content + (1.0 - gate) * previous


def circular_shift(w, shift):
    """Circular convolution: out_i = sum_k w_{(i - k) mod N} s_k over offsets k = -(S//2) .. S//2.

    w (B, N), shift (B, S) -> (B, N).  Offsets wrap around the N slots (no zero padding).
    """
    half = shift.shape[-1] // 2
    return sum(anp.roll(w, k, axis=-1) * shift[..., k + half:k + half + 1] for k in range(-half, half + 1))


def sharpen(w, gamma):
    """(w + eps)^gamma renormalised: w (B, N), gamma (B, 1) >= 1 -> (B, N).

    Computed as softmax(gamma * log(w + eps)): the same value, but a large
    gamma cannot underflow every power to 0 and divide 0 by 0.
    """
    return _softmax(gamma * anp.log(w + EPS))


def address(memory, previous, head: dict):
    """One head's weighting (B, N) from memory (B, N, M), its previous weighting (B, N) and
    the constrained head parameters of :func:`split_head`."""
    w = content_weights(memory, head["key"], head["beta"])
    w = interpolate(w, previous, head["gate"])
    w = circular_shift(w, head["shift"])
    return sharpen(w, head["gamma"])


def read(memory, w):
    """sum_i w_i memory_i: memory (B, N, M), w (B, N) -> (B, M)."""
    return anp.einsum("bn,bnm->bm", w, memory)


def write(memory, w, erase, add):
    """memory_i * (1 - w_i e) + w_i a: memory (B, N, M), w (B, N), erase, add (B, M) -> (B, N, M)."""
    return write_heads(memory, [(w, erase, add)])


def write_heads(memory, heads):
    """Several write heads at once, as the paper's Section 3.2 has it: every erase, then every add
    (eqs. 3-4; "the order in which the erasures are performed is irrelevant", and so is that of the
    adds).  ``heads``: [(w (B, N), erase (B, M), add (B, M)), ...] -> the new memory (B, N, M).

    So one head's erase never wipes another head's add of the same step: one slot of width 1 at
    0, head 1 adding 1 with no erase and head 2 erasing 0.5 and adding 0 gives 1.0, whatever
    the heads' order.
    """
    keep, added = 1.0, 0.0
    for w, erase, add in heads:
        wc = w[..., :, None]
        keep = keep * (1.0 - wc * erase[..., None, :])
        added = added + wc * add[..., None, :]
    return memory * keep + added
