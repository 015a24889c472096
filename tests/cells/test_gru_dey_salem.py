"""Dey & Salem's gate variants in the paper's own form (gru1_cho, gru2_cho, gru3_cho; base gru_cho).

The oracle is a numpy step loop written from the paper's equations
(Dey & Salem 2017, "Gate-variants of gated recurrent unit (GRU) neural
networks", eqs. 1-4 and the variants' gate equations), in the paper's own
names and its own update convention:

    h_t = (1 - u_t) * h_{t-1} + u_t * h~_t
    h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
    GRU0: u_t = sigma(W_u x_t + U_u h_{t-1} + b_u), r_t likewise with W_r, U_r, b_r
    GRU1: u_t = sigma(U_u h_{t-1} + b_u)
    GRU2: u_t = sigma(U_u h_{t-1})
    GRU3: u_t = sigma(b_u)

The library's modules write the update as Cho et al. and PyTorch do,
h_t = z_t * h_{t-1} + (1 - z_t) * n_t, so the paper's u is 1 - z: the
paper's update-gate parameters are the module's z parameters negated
(1 - sigma(a) = sigma(-a)).  ``paper_params`` does that mapping, and every
parameter of the module must be read by it.  Checked: outputs to 1e-12 for
hypothesis-drawn sizes, the engine's BPTT gradient against central
differences of the oracle, the parameter counts and the dropped parameters.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphrnn as gr
from graphrnn.testing import params_for

EXACT = dict(rtol=1e-12, atol=1e-12)
VARIANTS = {"gru_cho": "GRU0", "gru1_cho": "GRU1", "gru2_cho": "GRU2", "gru3_cho": "GRU3"}


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# -- the paper's equations ------------------------------------------------------------------

def paper_loop(variant: str, P: dict, x: np.ndarray) -> np.ndarray:
    """h (T, B, S) of Dey & Salem's ``variant`` (GRU0..GRU3) with parameters ``P`` in the paper's
    names (row-vector convention: W_h (I, S), U_h (S, S), b_h (S,)); h_{-1} = 0."""
    T, B, _ = x.shape
    S = P["U_h"].shape[0]
    h = np.zeros((B, S))
    out = []
    for t in range(T):
        gate = {}
        for g in ("u", "r"):
            if variant == "GRU0":
                a = x[t] @ P[f"W_{g}"] + h @ P[f"U_{g}"] + P[f"b_{g}"]
            elif variant == "GRU1":
                a = h @ P[f"U_{g}"] + P[f"b_{g}"]
            elif variant == "GRU2":
                a = h @ P[f"U_{g}"]
            else:                                    # GRU3: the bias alone
                a = np.broadcast_to(P[f"b_{g}"], (B, S))
            gate[g] = sigmoid(a)
        candidate = np.tanh(x[t] @ P["W_h"] + (gate["r"] * h) @ P["U_h"] + P["b_h"])
        h = (1.0 - gate["u"]) * h + gate["u"] * candidate
        out.append(h)
    return np.stack(out)


def paper_params(variant: str, params: dict, S: int, bias: bool = True) -> dict:
    """The module's parameters (instance ``cell``) in the paper's names; asserts every module
    parameter is used.  The update gate's parameters are z's negated (u = 1 - z)."""
    used = set()

    def get(name, negate=False):
        if not bias and name.endswith(".bias"):
            return np.zeros(S)
        used.add(name)
        return -params[name] if negate else params[name]

    P = {"W_h": get("x->cell.n"), "U_h": get("cell.r_h->cell.n"), "b_h": get("cell.n.bias")}
    for g, node, negate in (("u", "z", True), ("r", "r", False)):
        if VARIANTS[variant] == "GRU0":
            P[f"W_{g}"] = get(f"x->cell.{node}", negate)
        if VARIANTS[variant] in ("GRU0", "GRU1", "GRU2"):
            P[f"U_{g}"] = get(f"cell.h->cell.{node}@1", negate)
        if VARIANTS[variant] in ("GRU0", "GRU1", "GRU3"):
            P[f"b_{g}"] = get(f"cell.{node}.bias", negate)
    assert used == set(params), f"{variant}: unused {sorted(set(params) - used)}"
    return P


@functools.lru_cache(maxsize=None)
def cell_net(variant: str, size: int, inputs: int, bias: bool = True):
    return gr.loads(f"""\
graphrnn: 1
name: one_{variant}
inputs: {{x: {inputs}}}
outputs: {{cell.out: {size}}}
nodes:
  cell: {{use: {variant}, size: {size}{'' if bias else ', bias: false'}}}
edges:
  - {{from: x, to: cell}}
""")


# -- values ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@settings(max_examples=15)
@given(data=st.data())
def test_module_matches_the_papers_equations(variant, bias, data):
    size = data.draw(st.integers(1, 4), label="S")
    inputs = data.draw(st.integers(1, 3), label="I")
    net = cell_net(variant, size, inputs, bias)
    params = data.draw(params_for(net), label="params")
    x = data.draw(hnp.arrays(np.float64, (data.draw(st.integers(1, 6), label="T"),
                                          data.draw(st.integers(1, 3), label="B"), inputs),
                             elements=st.floats(-2.0, 2.0, allow_nan=False)), label="x")
    want = paper_loop(VARIANTS[variant], paper_params(variant, params, size, bias), x)
    np.testing.assert_allclose(net.run(params, x).y, want, **EXACT)


# -- gradients ------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_bptt_gradient_matches_finite_differences_of_the_paper_loop(variant):
    """d/dθ of mean((h - target)^2) over all steps: the engine's BPTT against central
    differences (step 1e-6) of the oracle, parameter by parameter, entry by entry."""
    S, I, T, B = 3, 2, 5, 2
    net = cell_net(variant, S, I)
    rng = np.random.default_rng(7)
    params = {k: v + rng.uniform(-0.5, 0.5, v.shape) for k, v in net.init(3).items()}
    x = rng.uniform(-1.0, 1.0, (T, B, I))
    target = rng.uniform(-1.0, 1.0, (T, B, S))
    _, grads = net.value_and_grad(params, x, target, "mse")

    def loss(p):
        return np.mean((paper_loop(VARIANTS[variant], paper_params(variant, p, S), x) - target) ** 2)

    step = 1e-6
    assert set(grads) == set(params)
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up, down = dict(params), dict(params)
            up[name], down[name] = value.copy(), value.copy()
            up[name][index] += step
            down[name][index] -= step
            numeric[index] = (loss(up) - loss(down)) / (2 * step)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-9, err_msg=f"{variant} {name}")


# -- parameters -----------------------------------------------------------------------------

COUNTS = {   # the paper's counts for I inputs and S units (with biases; without: the S-terms drop)
    "gru_cho": lambda I, S, bias: 3 * I * S + 3 * S * S + (3 * S if bias else 0),
    "gru1_cho": lambda I, S, bias: I * S + 3 * S * S + (3 * S if bias else 0),
    "gru2_cho": lambda I, S, bias: I * S + 3 * S * S + (S if bias else 0),
    "gru3_cho": lambda I, S, bias: I * S + S * S + (3 * S if bias else 0),
}

DROPPED = {   # what each variant removes from gru_cho (instance `cell`, input `x`)
    "gru1_cho": {"x->cell.r", "x->cell.z"},
    "gru2_cho": {"x->cell.r", "x->cell.z", "cell.r.bias", "cell.z.bias"},
    "gru3_cho": {"x->cell.r", "x->cell.z", "cell.h->cell.r@1", "cell.h->cell.z@1"},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("inputs, size", [(1, 1), (1, 12), (8, 12), (3, 5)])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_parameter_count(variant, inputs, size, bias):
    params = cell_net(variant, size, inputs, bias).init(0)
    assert sum(v.size for v in params.values()) == COUNTS[variant](inputs, size, bias)


@pytest.mark.parametrize("variant", sorted(DROPPED))
def test_variant_is_gru_cho_less_the_dropped_parameters(variant):
    base, own = set(cell_net("gru_cho", 3, 2).init(0)), set(cell_net(variant, 3, 2).init(0))
    assert own <= base and base - own == DROPPED[variant]


@pytest.mark.parametrize("variant", sorted(DROPPED))
def test_variant_runs_as_gru_cho_with_the_dropped_parameters_zero(variant):
    base, var = cell_net("gru_cho", 3, 2), cell_net(variant, 3, 2)
    rng = np.random.default_rng(11)
    params = {k: v + rng.uniform(-0.5, 0.5, v.shape) for k, v in base.init(1).items()}
    x = rng.uniform(-2.0, 2.0, (6, 3, 2))
    zeroed = {k: (np.zeros_like(v) if k in DROPPED[variant] else v) for k, v in params.items()}
    own = {k: params[k] for k in var.init(0)}
    np.testing.assert_allclose(var.run(own, x).y, base.run(zeroed, x).y, **EXACT)
