"""``op: memory`` — the Neural Turing Machine's memory as a stateful node kind (Graves et al. 2014).

A memory node's value is its read vectors (reads x width); its state is the
memory matrix and one weighting per head.  Ports read1.., write1.. take each
head's raw parameters.  The arithmetic is ntm.py; one step as a single
autograd primitive with its hand-written backward pass is memory_step.py.
"""
from __future__ import annotations

import autograd.numpy as anp
from autograd.tracer import getval

from .activations import sigmoid
from .memory_step import memory_step, step_backward, step_forward
from .ntm import address, head_sizes, read, split_head, write_heads
from .registry import StatefulKind, register_op

OPTIONS = {"slots": 128, "width": 20, "reads": 1, "writes": 1, "shifts": 3, "init": 1e-6}
#: the most read heads and the most write heads a memory node may have, checked before its ports
#: exist: each head is a port, a weighting in the state and a step of its own in the memory's
#: loop (Graves et al. 2014 use one or two); assign a larger number here to allow more
MAX_HEADS = 64


def _options(options) -> dict:
    return {**OPTIONS, **dict(options)}


def check_options(options: dict, size: int) -> tuple | None:
    """(the option to blame or None, message) for bad memory options or a size that is not
    reads x width (``size`` None: not given); None when they are fine."""
    for key, low in (("slots", 1), ("width", 1), ("reads", 1), ("writes", 0), ("shifts", 1)):
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            return key, f"memory option `{key}` must be an integer >= {low}, got {value!r}"
    for key in ("reads", "writes"):
        if options[key] > MAX_HEADS:
            return key, (f"memory option `{key}` must be at most {MAX_HEADS}, got {options[key]} (every head is "
                         f"a port and a step of its own; graphrnn.ops.memory.MAX_HEADS raises the limit)")
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
    then the write heads write: every erase, then every add (ntm.write_heads).  Returns (read vectors (B, reads*width), new
    state, what to record: each head's weighting and each write head's erase and add vectors).

    One autograd primitive with a hand-written backward pass (memory_step.py); the same
    arithmetic composed of autograd.numpy operations is :func:`step_composed`.
    """
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


def fused_step(options, raw, state: tuple, forward=step_forward):
    """:func:`step` for the fused engine, in numpy: (value, state, cache)."""
    key = tuple(sorted(_options(options).items()))
    outputs, cache = forward(raw, state[0], state[1], key)
    return outputs[0], (outputs[1], outputs[2]), (raw, state, key, outputs, cache)


def fused_record(options, cache) -> dict:
    """What :func:`step` records, from a :func:`fused_step`'s cache (asked for only where a trace
    keeps records: about 6% of a step with 10 heads)."""
    raw, _, key, outputs, _ = cache
    return _record(dict(key), raw, outputs[2])


def fused_step_vjp(options, cache, g_value, g_state, backward=step_backward):
    """(d raw (B, P), (d memory, d weightings) of the previous state) for one :func:`fused_step`."""
    raw, state, key, outputs, inner = cache
    draw, dmemory, dweightings = backward(raw, state[0], state[1], key, outputs, inner,
                                          (g_value, g_state[0], g_state[1]))
    return draw, (dmemory, dweightings)


def compiled_step(options, raw, state: tuple):
    """:func:`fused_step` with the step's loops compiled by numba (memory_kernels.py): the compiled
    engine's."""
    from . import memory_kernels   # numba is optional: imported where the compiled engine runs
    return fused_step(options, raw, state, memory_kernels.step_forward)


def compiled_step_vjp(options, cache, g_value, g_state):
    """:func:`fused_step_vjp` of a :func:`compiled_step`."""
    from . import memory_kernels
    return fused_step_vjp(options, cache, g_value, g_state, memory_kernels.step_backward)


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
    memory = write_heads(memory, [(w, head["erase"], head["add"]) for w, head in writes])
    value = reads[0] if len(reads) == 1 else anp.concatenate(reads, axis=-1)
    return value, (memory, anp.stack(weightings, axis=1)), record


MEMORY = register_op(StatefulKind(
    name="memory", doc="NTM memory: read vectors from N x M memory; ports read<i>, write<j> take head "
                       "parameters (Graves et al. 2014)",
    bias_default=True, allows_bias=True, needs_inputs=True,
    options=OPTIONS, check_options=check_options, size_of=size_of, port_sizes=port_sizes, state_params=state_params,
    initial_state=initial_state, step=step, fused_step=fused_step, fused_step_vjp=fused_step_vjp, fused_record=fused_record,
    initial_state_vjp=initial_state_vjp, compiled_step=compiled_step, compiled_step_vjp=compiled_step_vjp))
