"""graphrnn.interop.torch against PyTorch's nn.LSTM / nn.GRU / nn.RNN, in float64.

The PyTorch oracle: library cells vs PyTorch with the same weights,
outputs and gradients (every torch parameter and the input) equal to 1e-10.
PyTorch is a test-only extra: without it this file skips.
"""
from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

torch = pytest.importorskip("torch")

import autograd  # noqa: E402
import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import graphrnn as gr  # noqa: E402
from graphrnn.interop.torch import from_torch, to_torch  # noqa: E402

nn = torch.nn
F64 = torch.float64
TOL = dict(rtol=1e-10, atol=1e-10)

KINDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]

# Written out here, independently of the module under test: the graphrnn
# member that each torch gate block belongs to (input side, hidden side).
IH_GATES = {"lstm": "ifgo", "gru": ("r", "z", "n"), "rnn_tanh": ("h",), "rnn_relu": ("h",)}
HH_GATES = {"lstm": "ifgo", "gru": ("r", "z", "hn"), "rnn_tanh": ("h",), "rnn_relu": ("h",)}


def make_module(kind, input_size, hidden_size, num_layers, bias, seed, **kwargs):
    args = dict(num_layers=num_layers, bias=bias, dtype=F64, **kwargs)
    if kind == "lstm":
        module = nn.LSTM(input_size, hidden_size, **args)
    elif kind == "gru":
        module = nn.GRU(input_size, hidden_size, **args)
    else:
        module = nn.RNN(input_size, hidden_size, nonlinearity=kind[4:], **args)
    # weights larger than torch's default init, so every nonlinearity is exercised,
    # and distinct b_ih and b_hh, so the bias conventions are tested
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(scale=0.8, size=tuple(p.shape))))
    return module


@st.composite
def cases(draw):
    return dict(input_size=draw(st.integers(1, 5)), hidden_size=draw(st.integers(1, 5)),
                num_layers=draw(st.integers(1, 3)), batch=draw(st.integers(1, 3)),
                length=draw(st.integers(1, 6)), bias=draw(st.booleans()),
                seed=draw(st.integers(0, 2**16)))


def setup(kind, case):
    module = make_module(kind, case["input_size"], case["hidden_size"], case["num_layers"],
                         case["bias"], case["seed"])
    rng = np.random.default_rng(case["seed"] + 1)
    x = rng.normal(size=(case["length"], case["batch"], case["input_size"]))
    return module, x


def torch_run(module, x):
    return module(torch.from_numpy(x))[0].detach().numpy()


def graphrnn_names(kind, layer, torch_name):
    """graphrnn parameter names, one per gate block, of torch's ``<torch_name>_l<layer-1>``."""
    me, src = f"layer{layer}", "x" if layer == 1 else f"layer{layer - 1}.h"
    if torch_name == "weight_ih":
        return [f"{src}->{me}.{g}" for g in IH_GATES[kind]]
    if torch_name == "weight_hh":
        return [f"{me}.h->{me}.{g}@1" for g in HH_GATES[kind]]
    gates = IH_GATES[kind] if torch_name == "bias_ih" else HH_GATES[kind]
    return [f"{me}.{g}.bias" for g in gates]


# -- (a) outputs ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@given(case=cases())
def test_from_torch_runs_like_torch(kind, case):
    module, x = setup(kind, case)
    net, params = from_torch(module)
    assert all(v.dtype == np.float64 for v in params.values())
    assert set(params) == set(net.params)
    y = net.run(params, x).y
    assert y.shape == (case["length"], case["batch"], case["hidden_size"])
    np.testing.assert_allclose(y, torch_run(module, x), **TOL)


# -- (b) gradients ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@given(case=cases())
def test_gradients_match_torch_autograd(kind, case):
    module, x = setup(kind, case)
    net, params = from_torch(module)
    R = np.random.default_rng(case["seed"] + 2).normal(size=(case["length"], case["batch"],
                                                             case["hidden_size"]))
    xt = torch.from_numpy(x).requires_grad_(True)
    (module(xt)[0] * torch.from_numpy(R)).sum().backward()

    grads = autograd.grad(lambda p: anp.sum(net.run(p, x).y * R))(params)
    for name, p in module.named_parameters():
        base, layer = name.rsplit("_l", 1)
        names = graphrnn_names(kind, int(layer) + 1, base)
        if base.startswith("weight"):
            mapped = np.concatenate([grads[n].T for n in names], axis=0)
        else:   # d/d bias_ih = d/d bias_hh = d/d (their sum), except GRU's b_hn (node hn)
            mapped = np.concatenate([grads[n] for n in names])
        np.testing.assert_allclose(mapped, p.grad.numpy(), **TOL, err_msg=name)

    gx = autograd.grad(lambda xx: anp.sum(net.run(params, xx).y * R))(x)
    np.testing.assert_allclose(gx, xt.grad.numpy(), **TOL)


# -- (c) to_torch ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@given(case=cases())
def test_to_torch_round_trip_and_init(kind, case):
    module, x = setup(kind, case)
    net, params = from_torch(module)
    back = to_torch(net, params)
    assert type(back) is type(module) and back.num_layers == module.num_layers
    assert all(p.dtype == F64 for p in back.parameters())
    np.testing.assert_allclose(torch_run(back, x), torch_run(module, x), **TOL)
    # weights come back exactly; the bias sums are the same
    for name, p in module.named_parameters():
        q = getattr(back, name)
        if name.startswith("weight"):
            assert torch.equal(p, q), name
    if case["bias"]:
        def total(m, k):
            return (getattr(m, f"bias_ih_l{k}") + getattr(m, f"bias_hh_l{k}")).detach().numpy()
        for k in range(module.num_layers):
            np.testing.assert_allclose(total(back, k), total(module, k), **TOL)

    fresh = net.init(case["seed"])
    np.testing.assert_allclose(torch_run(to_torch(net, fresh), x), net.run(fresh, x).y, **TOL)


def test_gru_biases_kept_apart_in_to_torch():
    module = make_module("gru", 2, 3, 2, True, seed=5)
    net, params = from_torch(module)
    back = to_torch(net, params)
    for k in range(2):
        b_ih, b_hh = getattr(module, f"bias_ih_l{k}"), getattr(module, f"bias_hh_l{k}")
        new_ih, new_hh = getattr(back, f"bias_ih_l{k}"), getattr(back, f"bias_hh_l{k}")
        assert torch.equal(new_hh[:6], torch.zeros(6, dtype=F64))       # r, z: the sum in b_ih
        assert torch.allclose(new_ih[:6], (b_ih + b_hh)[:6], rtol=0, atol=1e-15)
        assert torch.equal(new_ih[6:], b_ih[6:]) and torch.equal(new_hh[6:], b_hh[6:])   # b_in, b_hn


@pytest.mark.parametrize("kind", KINDS)
def test_initial_state_is_zeros_like_torch_default(kind):
    module = make_module(kind, 3, 4, 2, True, seed=11)
    net, params = from_torch(module)
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    for k in (1, 2):
        assert net.ir.nodes[f"layer{k}.h"].initial == "zeros"
        if kind == "lstm":
            assert net.ir.nodes[f"layer{k}.c"].initial == "zeros"
    h0 = torch.zeros(2, 2, 4, dtype=F64)
    explicit = module(torch.from_numpy(x), (h0, h0.clone()) if kind == "lstm" else h0)[0]
    np.testing.assert_array_equal(explicit.detach().numpy(), torch_run(module, x))
    np.testing.assert_allclose(net.run(params, x).y, torch_run(module, x), **TOL)


def test_library_lstm_2layer_to_torch():
    net = gr.load("lstm_2layer")
    params = net.init(3)
    module = to_torch(net, params)
    assert isinstance(module, nn.LSTM)
    assert (module.input_size, module.hidden_size, module.num_layers) == (4, 8, 2)
    x = np.random.default_rng(1).normal(size=(7, 3, 4))
    np.testing.assert_allclose(torch_run(module, x), net.run(params, x).y, **TOL)
    again, back = from_torch(module)
    assert set(back) == set(params)
    for name in params:
        np.testing.assert_allclose(back[name], params[name], rtol=0, atol=1e-15)


def test_stack_with_other_names_to_torch():
    net = gr.loads("""\
graphrnn: 1
name: renamed
inputs: {u: 2}
outputs: {top: 3}
nodes:
  top: {use: gru, size: 3, bias: false}
  bottom: {use: gru, size: 3, bias: false}
edges:
  - {from: bottom, to: top}
  - {from: u, to: bottom}
""")
    params = net.init(0)
    module = to_torch(net, params)
    assert isinstance(module, nn.GRU) and module.bias is False and module.num_layers == 2
    x = np.random.default_rng(2).normal(size=(4, 2, 2))
    np.testing.assert_allclose(torch_run(module, x), net.run(params, x).y, **TOL)


# -- batch_first, dropout ------------------------------------------------------------------
def test_batch_first_weights_load_inputs_stay_time_major():
    module = make_module("lstm", 3, 2, 2, True, seed=4, batch_first=True)
    net, params = from_torch(module)
    x = np.random.default_rng(3).normal(size=(5, 2, 3))          # (T, B, I)
    y_torch = module(torch.from_numpy(x.transpose(1, 0, 2)))[0].detach().numpy()   # (B, T, H)
    np.testing.assert_allclose(net.run(params, x).y, y_torch.transpose(1, 0, 2), **TOL)
    back = to_torch(net, params, batch_first=True)
    assert back.batch_first
    np.testing.assert_allclose(back(torch.from_numpy(x.transpose(1, 0, 2)))[0].detach().numpy(),
                               y_torch, **TOL)


def test_dropout_in_training_mode_warns_eval_does_not():
    module = make_module("gru", 2, 3, 2, True, seed=6, dropout=0.5)
    with pytest.warns(UserWarning, match="eval-mode"):
        from_torch(module)
    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net, params = from_torch(module)
    x = np.random.default_rng(4).normal(size=(4, 2, 2))
    np.testing.assert_allclose(net.run(params, x).y, torch_run(module, x), **TOL)


# -- refusals ------------------------------------------------------------------------------
def test_from_torch_refuses_bidirectional():
    with pytest.raises(ValueError, match=r"bidirectional=True is not supported.*bidirectional=False"):
        from_torch(nn.GRU(2, 3, bidirectional=True))


def test_from_torch_refuses_proj_size():
    with pytest.raises(ValueError, match=r"proj_size=2 is not supported.*proj_size=0"):
        from_torch(nn.LSTM(2, 3, proj_size=2))


def test_from_torch_refuses_other_modules():
    with pytest.raises(TypeError, match=r"nn\.LSTM.*nn\.GRU.*nn\.RNN.*got torch\.nn\.modules\.linear\.Linear"):
        from_torch(nn.Linear(2, 3))
    with pytest.raises(TypeError, match="LSTMCell"):
        from_torch(nn.LSTMCell(2, 3))


MIXED = """\
graphrnn: 1
name: mixed
inputs: {x: 2}
outputs: {layer2: 3}
nodes:
  layer1: {use: lstm, size: 3}
  layer2: {use: gru, size: 3}
edges:
  - {from: x, to: layer1}
  - {from: layer1, to: layer2}
"""


@pytest.mark.parametrize("text, why", [
    (MIXED, "uses the module"),
    (MIXED.replace("gru", "lstm").replace("layer2: {use: lstm, size: 3}", "layer2: {use: lstm, size: 4}")
     .replace("{layer2: 3}", "{layer2: 4}"), "differ in size or bias"),
    (MIXED.replace("gru", "lstm").replace("  - {from: layer1, to: layer2}",
                                          "  - {from: layer1, to: layer2}\n  - {from: x, to: layer2}"),
     "`layer2` reads `layer1.h`, `x`"),
    (MIXED.replace("gru", "lstm") + "  - {from: layer2, to: layer1, delay: 1}\n", "`layer1` reads `layer2.h`, `x`"),
    (MIXED.replace("gru", "lstm").replace("layer1, to: layer2}", "layer1, to: layer2, init: zeros}")
     .replace("{layer2: 3}", "{layer1: 3}"), "output is `layer1.h`, not the last layer's h"),
    (MIXED.replace("gru", "lstm").replace("layer1, to: layer2}", "layer1.c, to: layer2}"),
     "`layer2` reads `layer1.c`"),
    (MIXED.replace("gru", "lstm").replace("x, to: layer1}", "x, to: layer1, density: 0.5}"),
     "edges differ.*has x -> layer1.f dense masked"),
    (MIXED.replace("gru", "lstm").replace("x, to: layer1}", "x, to: layer1, truncate: true}"),
     "edges differ.*has x -> layer1.f dense truncated"),
    (MIXED.replace("gru", "lstm_peephole").replace("lstm,", "lstm_peephole,"), "uses the module"),
])
def test_to_torch_refuses_networks_that_are_not_plain_stacks(text, why):
    net = gr.loads(text)
    with pytest.raises(ValueError, match=why) as info:
        to_torch(net, net.init(0))
    assert "not a plain stack" in str(info.value)


def test_to_torch_refuses_readout_and_bad_params():
    net = gr.load("gru_stack")
    with pytest.raises(ValueError, match=r"extra nodes \['y'\]"):
        to_torch(net, net.init(0))
    net, params = from_torch(nn.RNN(2, 3))
    params.pop("layer1.h.bias")
    with pytest.raises(ValueError, match=r"missing \['layer1.h.bias'\]"):
        to_torch(net, params)


# -- torch stays optional ---------------------------------------------------------------------
def test_import_graphrnn_does_not_import_torch():
    code = "import sys, graphrnn, graphrnn.interop; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_gives_a_clear_import_error():
    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    import graphrnn.interop.torch\nexcept ImportError as err:\n    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "pip install torch" in out
