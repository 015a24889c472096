"""The `memory` node kind wired into a network: a numpy loop of the whole machine, gradients by
finite differences, batches, and the errors a spec with a memory node can get."""
import math

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.train.methods import value_and_grad

SPEC = """graphrnn: 1
name: ntm_small
inputs: {x: 3}
outputs: {y: 3}
nodes:
  ctrl: {size: 6, activation: tanh}
  mem: {op: memory, size: 4, memory: {slots: 5, width: 4, reads: 1, writes: 1, shifts: 3, init: %s}}
  y: {size: 3, activation: sigmoid}
edges:
  - {from: x, to: ctrl}
  - {from: mem, to: ctrl, delay: 1}
  - {from: ctrl, to: ctrl, delay: 1}
  - {from: ctrl, to: [mem.read1, mem.write1]}
  - {from: [ctrl, mem], to: y}
"""
N, M, S = 5, 4, 3


def softplus(z):
    return math.log1p(math.exp(-abs(z))) + max(z, 0.0)


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def address(memory, prev, raw):
    """Graves et al. 2014 eqs. (5)-(9) for one row, slot by slot."""
    key, beta, g = raw[:M], softplus(raw[M]), sigmoid(raw[M + 1])
    s = np.exp(raw[M + 2:M + 2 + S] - raw[M + 2:M + 2 + S].max())
    s = s / s.sum()
    gamma = 1.0 + softplus(raw[M + 2 + S])
    sims = np.array([beta * (key @ memory[i]) / (math.sqrt(memory[i] @ memory[i] + 1e-16)
                                                  * math.sqrt(key @ key + 1e-16)) for i in range(N)])
    wc = np.exp(sims - sims.max())
    wc /= wc.sum()
    wg = g * wc + (1 - g) * prev
    ws = np.array([sum(wg[(i - k) % N] * s[k + 1] for k in (-1, 0, 1)) for i in range(N)])
    sharp = (ws + 1e-8) ** gamma
    return sharp / sharp.sum()


def numpy_machine(p, x, init=1e-6):
    """The network of SPEC, one row and one step at a time."""
    T, B, _ = x.shape
    ys = np.zeros((T, B, 3))
    for b in range(B):
        memory = np.full((N, M), init) if not isinstance(init, np.ndarray) else init.copy()
        w_read, w_write = np.eye(N)[0], np.eye(N)[0]
        h, r = np.zeros(6), np.zeros(M)
        for t in range(T):
            h = np.tanh(x[t, b] @ p["x->ctrl"] + r @ p["mem->ctrl@1"] + h @ p["ctrl->ctrl@1"] + p["ctrl.bias"])
            heads = np.concatenate([h @ p["ctrl->mem.read1"], h @ p["ctrl->mem.write1"]]) + p["mem.bias"]
            read_raw, write_raw = heads[:M + 3 + S], heads[M + 3 + S:]
            w_read = address(memory, w_read, read_raw)
            w_write = address(memory, w_write, write_raw[:M + 3 + S])
            r = w_read @ memory
            erase = 1 / (1 + np.exp(-write_raw[M + 3 + S:M + 3 + S + M]))
            add = write_raw[M + 3 + S + M:]
            memory = memory * (1 - np.outer(w_write, erase)) + np.outer(w_write, add)
            ys[t, b] = 1 / (1 + np.exp(-(h @ p["ctrl->y"] + r @ p["mem->y"] + p["y.bias"])))
    return ys


def small(init="1.0e-6"):
    return gr.loads(SPEC % init)


def inputs(T=6, B=3, seed=0):
    return np.random.default_rng(seed).normal(size=(T, B, 3))


def test_the_network_equals_a_numpy_loop_of_the_papers_equations():
    net = small()
    p = net.init(1)
    x = inputs()
    np.testing.assert_allclose(net.run(p, x).y, numpy_machine(p, x), rtol=1e-11, atol=1e-13)


def test_learned_initial_memory_is_a_parameter_and_is_used():
    net = small("learned")
    p = net.init(2)
    assert p["mem.memory_initial"].shape == (N, M)
    p["mem.memory_initial"] = np.random.default_rng(3).normal(size=(N, M))
    x = inputs()
    np.testing.assert_allclose(net.run(p, x).y, numpy_machine(p, x, p["mem.memory_initial"]), rtol=1e-11,
                               atol=1e-13)


def test_gradients_match_central_differences_through_the_whole_machine():
    net = small("learned")
    p = net.init(4)
    # away from the zero memory, where the cosine's epsilon makes a 1e-6 step non-linear
    p["mem.memory_initial"] = 0.5 * np.random.default_rng(9).normal(size=(N, M))
    x, target = inputs(T=5, B=2, seed=5), np.random.default_rng(6).uniform(size=(5, 2, 3))
    _, grads = net.value_and_grad(p, x, target, "bce")
    worst = 0.0
    h = 1e-6
    for name, value in p.items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up = {**p, name: value.copy()}
            down = {**p, name: value.copy()}
            up[name][idx] += h
            down[name][idx] -= h
            numeric[idx] = (net.loss(up, x, target, "bce") - net.loss(down, x, target, "bce")) / (2 * h)
        scale = max(np.abs(numeric).max(), np.abs(grads[name]).max(), 1e-8)
        worst = max(worst, np.abs(grads[name] - numeric).max() / scale)
    assert worst < 1e-6, worst


def test_a_batch_equals_its_rows_and_records_are_distributions():
    net = small()
    p = net.init(7)
    x = inputs(B=4, seed=8)
    trace = net.run(p, x)
    for b in range(4):
        np.testing.assert_allclose(net.run(p, x[:, b:b + 1]).y[:, 0], trace.y[:, b], rtol=1e-12, atol=1e-14)
    for name in ("read1.w", "write1.w"):
        w = trace.records["mem"][name]
        assert w.shape == (6, 4, N) and np.all(w >= 0)
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)
    assert trace.records["mem"]["write1.add"].shape == (6, 4, M)


@pytest.mark.parametrize("init", ["1.0e-6", "learned"])
def test_the_two_engines_agree_on_values_gradients_and_records(init):
    fused, reference = gr.loads(SPEC % init, engine="fused"), gr.loads(SPEC % init, engine="autograd")
    p = fused.init(3)
    if init == "learned":
        p["mem.memory_initial"] = np.random.default_rng(1).normal(size=(N, M))
    x, target = inputs(B=3), np.random.default_rng(2).uniform(size=(6, 3, 3))
    loss_f, grads_f = fused.value_and_grad(p, x, target, "bce")
    loss_r, grads_r = reference.value_and_grad(p, x, target, "bce")
    assert abs(loss_f - loss_r) < 1e-12
    for name in grads_r:
        np.testing.assert_allclose(grads_f[name], grads_r[name], rtol=1e-9, atol=1e-13, err_msg=name)
    records_f, records_r = fused.run(p, x).records["mem"], reference.run(p, x).records["mem"]
    for name in records_r:
        np.testing.assert_allclose(records_f[name], records_r[name], rtol=1e-12, atol=1e-15)


def test_continuing_a_run_or_truncated_methods_are_refused_clearly():
    net = small()
    p = net.init(0)
    trace = net.run(p, inputs())
    with pytest.raises(gr.RunError, match="initial state"):
        net.run(p, inputs(), state=trace.state)
    with pytest.raises(gr.RunError, match="bptt"):
        value_and_grad(net, p, inputs(), np.zeros((6, 3, 3)), method="tbptt", k1=2, k2=2)


@pytest.mark.parametrize("fragment, code, where", [
    ("memory: {slots: 5, width: 4, reads: 1, writes: 1, shift: 3}", "GR103", "shift: 3}"),
    ("memory: {slots: 5, width: 3, reads: 1, writes: 1}", "GR104", "{slots: 5, width: 3"),
    ("memory: {slots: 5, width: 4, reads: 1, writes: 1, shifts: 2}", "GR104", "2}"),
])
def test_gr104_bad_memory_options_are_located(fragment, code, where):
    text = (SPEC % "1.0e-6").replace("memory: {slots: 5, width: 4, reads: 1, writes: 1, shifts: 3, init: 1.0e-6}",
                                      fragment)
    with pytest.raises(gr.GraphError) as info:
        gr.loads(text, file="ntm.yaml")
    err = info.value
    line = text.splitlines()[err.loc.line - 1]
    assert err.code == code and line[err.loc.col - 1:].startswith(where)


def test_memory_options_on_another_kind_and_unknown_ports_are_refused():
    text = (SPEC % "1.0e-6").replace("ctrl: {size: 6, activation: tanh}",
                                      "ctrl: {size: 6, activation: tanh, memory: {slots: 2}}")
    with pytest.raises(gr.GraphError, match="belong to `op: memory`"):
        gr.loads(text)
    text = (SPEC % "1.0e-6").replace("mem.write1]", "mem.write2]")
    with pytest.raises(gr.GraphError, match="no port `write2`"):
        gr.loads(text)


def test_a_memory_with_more_heads_than_the_limit_is_refused_before_its_ports_exist():
    """A million write heads would be a million ports: refused at the option, at once."""
    import graphrnn as gr
    from graphrnn.ops import memory
    text = ("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 20}\nnodes:\n"
            f"  mem: {{op: memory, size: 20, memory: {{slots: 8, width: 20, writes: {10 ** 6}}}}}\n"
            "  y: {size: 20}\nedges:\n  - {from: x, to: [mem.read1, mem.write1]}\n  - {from: mem, to: y}\n")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, "heads.yaml")
    err = info.value
    assert err.code == "GR104" and f"at most {memory.MAX_HEADS}" in err.message
    assert str(err).startswith("heads.yaml:5:") and "MAX_HEADS" in err.message, str(err)
