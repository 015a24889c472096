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
>= 1).  Writing: erase e (sigmoid), then add a (as emitted).  Numerically
safe by construction: the cosine's denominator and the sharpening's base
carry an epsilon and the sharpening is a softmax of logs, so zero memory, zero keys and weights that underflowed to
exactly 0 give finite values and finite gradients.
"""
from __future__ import annotations

import autograd.numpy as anp
from autograd.tracer import getval

from .activations import _softmax, _softplus, sigmoid
from .registry import OpKind, register_op

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
    wc = w[..., :, None]
    return memory * (1.0 - wc * erase[..., None, :]) + wc * add[..., None, :]


# -- the `memory` node kind --------------------------------------------------------------------
# A memory node's value is its read vectors (reads x width); its state is the memory matrix
# and one weighting per head.  Ports read1.., write1.. take each head's raw parameters.
OPTIONS = {"slots": 128, "width": 20, "reads": 1, "writes": 1, "shifts": 3, "init": 1e-6}


def _options(options) -> dict:
    return {**OPTIONS, **dict(options)}


def check_options(options: dict, size: int) -> tuple | None:
    """(the option to blame or None, message) for bad memory options or a size that is not
    reads x width (``size`` None: not given); None when they are fine."""
    for key, low in (("slots", 1), ("width", 1), ("reads", 1), ("writes", 0), ("shifts", 1)):
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            return key, f"memory option `{key}` must be an integer >= {low}, got {value!r}"
    if options["shifts"] % 2 == 0 or options["shifts"] > options["slots"]:
        return "shifts", (f"memory option `shifts` must be odd and at most `slots` (offsets -s//2 .. s//2), "
                          f"got {options['shifts']}")
    init = options["init"]
    if init != "learned" and (isinstance(init, bool) or not isinstance(init, (int, float))):
        return "init", f"memory option `init` must be a number or `learned`, got {init!r}"
    if size is not None and size != options["reads"] * options["width"]:
        return None, (f"a memory node's size is its read vectors, reads x width = {options['reads']} x "
                      f"{options['width']} = {options['reads'] * options['width']}, not {size}")
    return None


def size_of(options) -> int:
    """A memory node's value is its read vectors."""
    o = _options(options)
    return o["reads"] * o["width"]


def port_sizes(options) -> dict[str, int]:
    o = _options(options)
    read_size = sum(head_sizes(o["width"], o["shifts"], False).values())
    write_size = sum(head_sizes(o["width"], o["shifts"], True).values())
    ports = {f"read{i + 1}": read_size for i in range(o["reads"])}
    ports.update({f"write{i + 1}": write_size for i in range(o["writes"])})
    return ports


def state_params(options) -> dict:
    o = _options(options)
    return {"memory_initial": ((o["slots"], o["width"]), 1e-6)} if o["init"] == "learned" else {}


def initial_state(options, learned: dict, B: int, dtype) -> tuple:
    """(memory (B, N, M), the heads' weightings (B, H, N)): the memory a small constant (Collier &
    Beel 2018) or learned (``learned["memory_initial"]``, (N, M)); every weighting on slot 0, so
    a head can shift from a known place."""
    o = _options(options)
    N, M = o["slots"], o["width"]
    if o["init"] == "learned":
        memory = learned["memory_initial"] * anp.ones((B, 1, 1), dtype=dtype)
    else:
        memory = anp.full((B, N, M), float(o["init"]), dtype=dtype)
    start = anp.zeros((B, o["reads"] + o["writes"], N), dtype=dtype) + (anp.arange(N) == 0)
    return memory, start


def step(options, ports: dict, state: tuple):
    """One step: every head addresses the memory of the previous step; the read heads read it;
    then the write heads erase and add in turn.  Returns (read vectors (B, reads*width), new
    state, what to record: each head's weighting and each write head's erase and add vectors).

    One autograd primitive with a hand-written backward pass (memory_step.py); the same
    arithmetic composed of autograd.numpy operations is :func:`step_composed`.
    """
    from .memory_step import memory_step
    o = _options(options)
    raw = anp.concatenate([ports[p] for p in port_sizes(o)], axis=-1)
    value, memory, weightings = memory_step(raw, state[0], state[1], tuple(sorted(o.items())))
    return value, (memory, weightings), _record(o, getval(raw), weightings)


def _record(o: dict, raw, weightings) -> dict:
    M, S, R = o["width"], o["shifts"], o["reads"]
    record, span = {}, M + 3 + S
    for h, port in enumerate(port_sizes(o)):
        record[f"{port}.w"] = weightings[:, h]
        if h >= R:
            start = R * span + (h - R) * (span + 2 * M) + span
            record[f"{port}.erase"] = sigmoid(raw[:, start:start + M])
            record[f"{port}.add"] = raw[:, start + M:start + 2 * M]
    return record


def fused_step(options, raw, state: tuple):
    """:func:`step` for the fused engine, in numpy: (value, state, record, cache)."""
    from .memory_step import step_forward
    key = tuple(sorted(_options(options).items()))
    outputs, cache = step_forward(raw, state[0], state[1], key)
    return outputs[0], (outputs[1], outputs[2]), _record(dict(key), raw, outputs[2]), \
        (raw, state, key, outputs, cache)


def fused_step_vjp(options, cache, g_value, g_state):
    """(d raw (B, P), (d memory, d weightings) of the previous state) for one :func:`fused_step`."""
    from .memory_step import step_backward
    raw, state, key, outputs, inner = cache
    draw, dmemory, dweightings = step_backward(raw, state[0], state[1], key, outputs, inner,
                                               (g_value, g_state[0], g_state[1]))
    return draw, (dmemory, dweightings)


def initial_state_vjp(options, g_state) -> dict:
    """The gradient of a learned initial memory (its batch rows summed)."""
    return {"memory_initial": g_state[0].sum(axis=0)} if _options(options)["init"] == "learned" else {}


def step_composed(options, ports: dict, state: tuple):
    """:func:`step` composed of autograd.numpy operations (the oracle of its backward pass)."""
    o = _options(options)
    M, S = o["width"], o["shifts"]
    memory, weightings = state[0], [state[1][:, h] for h in range(state[1].shape[1])]
    reads, record = [], {}
    for i in range(o["reads"]):
        head = split_head(ports[f"read{i + 1}"], M, S, write=False)
        weightings[i] = address(memory, weightings[i], head)
        reads.append(read(memory, weightings[i]))
        record[f"read{i + 1}.w"] = weightings[i]
    writes = []
    for j in range(o["writes"]):
        k = o["reads"] + j
        head = split_head(ports[f"write{j + 1}"], M, S, write=True)
        weightings[k] = address(memory, weightings[k], head)
        writes.append((weightings[k], head))
        record.update({f"write{j + 1}.w": weightings[k], f"write{j + 1}.erase": head["erase"],
                       f"write{j + 1}.add": head["add"]})
    for w, head in writes:
        memory = write(memory, w, head["erase"], head["add"])
    value = reads[0] if len(reads) == 1 else anp.concatenate(reads, axis=-1)
    return value, (memory, anp.stack(weightings, axis=1)), record


def _no_combine(slots):
    raise TypeError("a memory node steps with its state; it has no stateless combine")


MEMORY = register_op(OpKind(
    name="memory", doc="NTM memory: read vectors from N x M memory; ports read<i>, write<j> take head "
                       "parameters (Graves et al. 2014)",
    combine=_no_combine, factor_per_edge=False, bias_default=True, allows_bias=True, needs_inputs=True,
    options=OPTIONS, check_options=check_options, size_of=size_of, port_sizes=port_sizes, state_params=state_params,
    initial_state=initial_state, step=step, fused_step=fused_step, fused_step_vjp=fused_step_vjp,
    initial_state_vjp=initial_state_vjp))
