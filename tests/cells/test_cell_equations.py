"""Every library cell against a hand-written numpy loop of the equations in its doc header.

Each module is loaded inside a one-cell network

    inputs: {x: I}, nodes: {cell: {use: MODULE, size: S}}, edges: x -> cell
    (lstm1997_block: cells: S, plus the recurrent edge cell -> cell, delay 1)

and its outputs (and its state node, where it has one) must equal the loop
below to 1e-12, for hypothesis-drawn sizes S and I (1-4), batch (1-3),
length (1-6), inputs in [-2, 2] and parameters ``net.init(seed)`` plus
uniform noise (so biases are nonzero).  Each oracle reads the parameters
through a recorder, and the test asserts that it read *every* parameter of
the network: a module cannot carry a weight its equations do not name.
The same runs with ``bias: false`` (every module but lstm1997_block), where
the equations read b = 0 and the module must have no bias parameter.

The second half checks the structure of Dey & Salem's gate variants: which
parameters gru1/gru2/gru3 drop, that their names are a subset of gru's, and
that each variant *is* gru with the dropped parameters set to zero.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphrnn as gr
from graphrnn.testing import params_for

EXACT = dict(rtol=1e-12, atol=1e-12)
CELLS = ("lstm", "lstm_peephole", "gru", "gru_cho", "gru1", "gru2", "gru3",
         "rnn_tanh", "rnn_relu", "lstm1997_block")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def g1997(a):          # Hochreiter & Schmidhuber 1997: cell input squasher, range [-2, 2]
    return 4.0 * sigmoid(a) - 2.0


def h1997(a):          # cell output squasher, range [-1, 1]
    return 2.0 * sigmoid(a) - 1.0


class Recorder(dict):
    """The parameter dict, remembering which names the oracle read (instance prefix added)."""

    def __init__(self, params, prefix="cell.", bias=True):
        super().__init__(params)
        self.prefix, self.read, self.bias = prefix, set(), bias

    def __call__(self, name):
        """``p("h->r@1")`` reads ``"cell.h->cell.r@1"``, ``p("x->r")`` reads ``"x->cell.r"``.

        With ``bias=False`` (the module instantiated with ``bias: false``) a bias reads 0.
        """
        if not self.bias and name.endswith(".bias"):
            return 0.0
        full = qualify(name, self.prefix)
        self.read.add(full)
        return self[full]


def qualify(name: str, prefix: str = "cell.") -> str:
    """A module-level parameter name as the network names it: 'h->r@1' -> 'cell.h->cell.r@1'."""
    if name.startswith("x->"):
        return "x->" + prefix + name[3:]
    if "->" in name:
        src, dst = name.split("->")
        return f"{prefix}{src}->{prefix}{dst}"
    return prefix + name


# -- the oracles: one loop per doc header ---------------------------------------------------

def lstm_loop(p, x, size, peephole=False):
    """Gers et al. 2000 (PyTorch form); with ``peephole``, Gers et al. 2002."""
    T, B, _ = x.shape
    h, c = np.zeros((B, size)), np.zeros((B, size))
    hs, cs = [], []
    for t in range(T):
        pre = {k: x[t] @ p(f"x->{k}") + h @ p(f"h->{k}@1") + p(f"{k}.bias") for k in "ifgo"}
        if peephole:
            pre["i"] = pre["i"] + p("c->i@1") * c
            pre["f"] = pre["f"] + p("c->f@1") * c
        i, f, g = sigmoid(pre["i"]), sigmoid(pre["f"]), np.tanh(pre["g"])
        c = f * c + i * g
        if peephole:
            pre["o"] = pre["o"] + p("c->o") * c          # the output gate sees the new c_t
        o = sigmoid(pre["o"])
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return {"cell.h": np.stack(hs), "cell.c": np.stack(cs)}


def gru_loop(p, x, size, variant="gru"):
    """PyTorch's GRU (reset after the hidden matmul) and Dey & Salem's gate variants on it."""
    T, B, _ = x.shape
    h = np.zeros((B, size))
    hs = []
    for t in range(T):
        gates = {}
        for k in "rz":
            if variant == "gru":      # sigmoid(x W_x + h W_h + b)
                gates[k] = sigmoid(x[t] @ p(f"x->{k}") + h @ p(f"h->{k}@1") + p(f"{k}.bias"))
            elif variant == "gru1":   # sigmoid(h W_h + b)
                gates[k] = sigmoid(h @ p(f"h->{k}@1") + p(f"{k}.bias"))
            elif variant == "gru2":   # sigmoid(h W_h)
                gates[k] = sigmoid(h @ p(f"h->{k}@1"))
            elif variant == "gru3":   # sigmoid(b)
                gates[k] = sigmoid(np.broadcast_to(p(f"{k}.bias"), (B, size)))
        r, z = gates["r"], gates["z"]
        a = h @ p("h->hn@1") + p("hn.bias")
        n = np.tanh(x[t] @ p("x->n") + p("n.bias") + r * a)
        h = (1.0 - z) * n + z * h
        hs.append(h)
    return {"cell.h": np.stack(hs)}


def gru_cho_loop(p, x, size):
    """Cho et al. 2014, eqs. 5-8: the reset gate applies before the hidden matmul."""
    T, B, _ = x.shape
    h = np.zeros((B, size))
    hs = []
    for t in range(T):
        r = sigmoid(x[t] @ p("x->r") + h @ p("h->r@1") + p("r.bias"))
        z = sigmoid(x[t] @ p("x->z") + h @ p("h->z@1") + p("z.bias"))
        n = np.tanh(x[t] @ p("x->n") + (r * h) @ p("r_h->n") + p("n.bias"))
        h = z * h + (1.0 - z) * n
        hs.append(h)
    return {"cell.h": np.stack(hs)}


def rnn_loop(p, x, size, act):
    T, B, _ = x.shape
    h = np.zeros((B, size))
    hs = []
    for t in range(T):
        h = act(x[t] @ p("x->h") + h @ p("h->h@1") + p("h.bias"))
        hs.append(h)
    return {"cell.h": np.stack(hs)}


def lstm1997_loop(p, x, cells):
    """Hochreiter & Schmidhuber 1997: one block, its gates and cell inputs reading x_t and y_{t-1}."""
    T, B, _ = x.shape
    y, s = np.zeros((B, cells)), np.zeros((B, cells))
    ys, ss = [], []
    for t in range(T):
        net = {k: x[t] @ p(f"x->{k}") + y @ p(f"out->{k}@1") + p(f"{k}.bias")
               for k in ("in_gate", "out_gate", "cell_in")}
        in_t, out_t = sigmoid(net["in_gate"]), sigmoid(net["out_gate"])   # (B, 1) each
        s = s + in_t * g1997(net["cell_in"])          # the CEC: self-weight 1.0
        y = out_t * h1997(s)
        ys.append(y)
        ss.append(s)
    return {"cell.out": np.stack(ys), "cell.state": np.stack(ss)}


ORACLES = {
    "lstm": lambda p, x, s: lstm_loop(p, x, s),
    "lstm_peephole": lambda p, x, s: lstm_loop(p, x, s, peephole=True),
    "gru": lambda p, x, s: gru_loop(p, x, s, "gru"),
    "gru1": lambda p, x, s: gru_loop(p, x, s, "gru1"),
    "gru2": lambda p, x, s: gru_loop(p, x, s, "gru2"),
    "gru3": lambda p, x, s: gru_loop(p, x, s, "gru3"),
    "gru_cho": gru_cho_loop,
    "rnn_tanh": lambda p, x, s: rnn_loop(p, x, s, np.tanh),
    "rnn_relu": lambda p, x, s: rnn_loop(p, x, s, lambda a: np.maximum(a, 0.0)),
    "lstm1997_block": lstm1997_loop,
}


def cell_text(cell: str, size: int, inputs: int, instance: str = "cell", bias: bool = True) -> str:
    if cell == "lstm1997_block":
        use = f"{{use: lstm1997_block, cells: {size}}}"
        extra = f"\n  - {{from: {instance}, to: {instance}, delay: 1}}"
    else:
        use, extra = f"{{use: {cell}, size: {size}{'' if bias else ', bias: false'}}}", ""
    return f"""\
graphrnn: 1
name: one_{cell}
inputs: {{x: {inputs}}}
outputs: {{{instance}.out: {size}}}
nodes:
  {instance}: {use}
edges:
  - {{from: x, to: {instance}}}{extra}
"""


@functools.lru_cache(maxsize=None)
def cell_net(cell: str, size: int, inputs: int, instance: str = "cell", bias: bool = True):
    return gr.loads(cell_text(cell, size, inputs, instance, bias))


@pytest.mark.parametrize("cell", CELLS)
@given(data=st.data())
def test_cell_matches_its_equations(cell, data):
    _check_cell(cell, data, bias=True)


@pytest.mark.parametrize("cell", [c for c in CELLS if c != "lstm1997_block"])
@given(data=st.data())
def test_cell_without_biases_matches_its_equations(cell, data):
    """``bias: false`` drops every bias parameter (the equations with b = 0)."""
    _check_cell(cell, data, bias=False)


def _check_cell(cell, data, bias):
    size = data.draw(st.integers(1, 4), label="size")
    inputs = data.draw(st.integers(1, 4), label="input size")
    steps = data.draw(st.integers(1, 6), label="T")
    batch = data.draw(st.integers(1, 3), label="B")
    net = cell_net(cell, size, inputs, bias=bias)
    params = data.draw(params_for(net), label="params")
    x = data.draw(hnp.arrays(np.float64, (steps, batch, inputs),
                             elements=st.floats(-2.0, 2.0, allow_nan=False)), label="x")
    for name, value in params.items():   # init's zero biases got noise: their terms are tested
        if name.endswith(".bias"):
            assert np.all(value != 0.0), name
    trace = net.run(params, x)

    p = Recorder(params, bias=bias)
    want = ORACLES[cell](p, x, size)
    note(f"parameters: {sorted(params)}")
    assert p.read == set(params), (f"{cell}: parameters the equations do not name: "
                                   f"{sorted(set(params) - p.read)}; named but missing: "
                                   f"{sorted(p.read - set(params))}")
    out = next(iter(want))
    np.testing.assert_allclose(trace.y, want[out], **EXACT, err_msg=f"{cell} output")
    for node, value in want.items():
        np.testing.assert_allclose(trace[node], value, **EXACT, err_msg=f"{cell} node {node}")


# -- the gate variants' structure ----------------------------------------------------------

GRU_GATE_INPUTS = {   # the parameters each variant drops from gru (unqualified names)
    "gru1": {"x->r", "x->z"},
    "gru2": {"x->r", "x->z", "r.bias", "z.bias"},
    "gru3": {"x->r", "x->z", "h->r@1", "h->z@1"},
}


def _names(cell, instance="layer", size=3, inputs=2):
    net = cell_net(cell, size, inputs, instance)
    return set(net.init(0))


def _strip(names, instance="layer"):
    """Parameter names with the instance prefix removed: 'layer.h->layer.r@1' -> 'h->r@1'."""
    return {name.replace(instance + ".", "") for name in names}


@pytest.mark.parametrize("variant", sorted(GRU_GATE_INPUTS))
def test_gru_variant_is_a_subset_of_gru(variant):
    gru, var = _strip(_names("gru")), _strip(_names(variant))
    assert var <= gru
    assert gru - var == GRU_GATE_INPUTS[variant]


def test_gru1_has_no_input_to_gate_weights():
    names = _strip(_names("gru1"))
    assert not {"x->r", "x->z"} & names
    assert {"h->r@1", "h->z@1", "r.bias", "z.bias"} <= names


def test_gru2_has_no_gate_biases_either():
    names = _strip(_names("gru2"))
    assert not {"x->r", "x->z", "r.bias", "z.bias"} & names
    assert {"h->r@1", "h->z@1"} <= names


def test_gru3_gates_are_biases_only():
    names = _strip(_names("gru3"))
    assert not {"x->r", "x->z", "h->r@1", "h->z@1"} & names
    assert {"r.bias", "z.bias"} <= names


def test_variant_names_do_not_depend_on_the_instance_name():
    for variant in ("gru", *GRU_GATE_INPUTS):
        assert _strip(_names(variant, "a"), "a") == _strip(_names(variant, "layer2"), "layer2")


@pytest.mark.parametrize("variant", sorted(GRU_GATE_INPUTS))
@given(data=st.data())
def test_gru_variant_is_gru_with_dropped_weights_zero(variant, data):
    """gruN runs exactly like gru whose dropped parameters are zero (and the rest shared)."""
    size = data.draw(st.integers(1, 4), label="size")
    inputs = data.draw(st.integers(1, 4), label="input size")
    full, var = cell_net("gru", size, inputs), cell_net(variant, size, inputs)
    params = data.draw(params_for(full), label="gru params")
    x = data.draw(hnp.arrays(np.float64, (data.draw(st.integers(1, 6), label="T"),
                                          data.draw(st.integers(1, 3), label="B"), inputs),
                             elements=st.floats(-2.0, 2.0, allow_nan=False)), label="x")
    zeroed = {name: (np.zeros_like(v) if name in {qualify(n) for n in GRU_GATE_INPUTS[variant]} else v)
              for name, v in params.items()}
    own = {name: params[name] for name in var.init(0)}
    np.testing.assert_allclose(var.run(own, x).y, full.run(zeroed, x).y, **EXACT)
