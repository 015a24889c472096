"""The fused engine (numpy BPTT, one autograd primitive) agrees with the autograd reference."""
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import given
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.testing import inputs_for, params_for, specs

SPECS = Path(__file__).resolve().parents[2] / "specs"
NETWORKS = sorted(p.stem for p in SPECS.glob("*.yaml")   # tree networks: tests/runtime/test_trees.py
                  if not p.read_text().count("\nmodule:") and "\nover: tree" not in p.read_text())


def both(text=None, path=None):
    if path is not None:
        return gr.load(path, engine="fused"), gr.load(path, engine="autograd")
    return gr.loads(text, engine="fused"), gr.loads(text, engine="autograd")


def agree(fused, reference, params, x, seed):
    R = np.random.default_rng(seed).normal(size=(x.shape[0], x.shape[1], fused.output_size))

    def objective(net):
        # every node enters the objective, so every block's gradient path is exercised
        def f(p, z):
            trace = net.run(p, z)
            return anp.sum(trace.y * R) + sum(anp.sum(anp.sin(trace[n])) for n in net.ir.nodes)
        return f
    np.testing.assert_allclose(objective(fused)(params, x), objective(reference)(params, x), rtol=1e-12)
    for argnum in (0, 1):
        a = grad(objective(fused), argnum)(params, x)
        b = grad(objective(reference), argnum)(params, x)
        if argnum == 0:
            for name in params:
                np.testing.assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-12, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@given(data=st.data())
def test_engines_agree_on_random_specs(data):
    text = data.draw(specs(truncate=True), label="spec")
    fused, reference = both(text)
    agree(fused, reference, data.draw(params_for(fused)), data.draw(inputs_for(fused)),
          data.draw(st.integers(0, 1000)))


@pytest.mark.parametrize("name", NETWORKS)
def test_engines_agree_on_library_networks(name):
    fused, reference = both(path=SPECS / f"{name}.yaml")
    params = fused.init(seed=1)
    x = np.random.default_rng(2).normal(size=(5, 2, fused.input_size))
    agree(fused, reference, params, x, 3)


@pytest.mark.parametrize("engine", ["fused", "autograd"])
def test_float32_computes_in_single_precision_and_keeps_float64_parameters(engine):
    net64 = gr.load("lstm_2layer", engine=engine)
    net32 = gr.load("lstm_2layer", engine=engine, dtype="float32")
    params = net64.init(0)
    x = np.random.default_rng(0).normal(size=(8, 3, net64.input_size))
    target = np.random.default_rng(1).uniform(size=(8, 3, net64.output_size))
    assert net32.run(params, x).y.dtype == np.float32
    l64, g64 = net64.value_and_grad(params, x, target)
    l32, g32 = net32.value_and_grad(params, x, target)
    assert abs(l64 - l32) <= 1e-5 * abs(l64)
    for name in g64:
        assert g32[name].dtype == np.float64
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-3, atol=1e-6, err_msg=name)
    # run(dtype=) overrides the network's precision for one call
    assert net64.run(params, x, dtype="float32").y.dtype == np.float32


def test_unsupported_dtype_is_refused():
    with pytest.raises(gr.RunError) as info:
        gr.load("elman", dtype="float16")
    assert info.value.code == "GR200"


def test_the_fused_engine_keeps_nothing_alive_between_calls():
    import gc
    import tracemalloc

    from autograd.core import primitive_vjps
    net = gr.load("elman")
    params = net.init(0)
    x = np.random.default_rng(0).normal(size=(200, 8, 4))
    target = np.zeros((200, 8, 2))
    net.value_and_grad(params, x, target)
    registered = len(primitive_vjps)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(3):
        net.value_and_grad(params, x, target)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(primitive_vjps) == registered          # no primitive registered per call
    assert kept < 200_000, f"{kept} bytes kept after three calls"   # one run's values are ~1 MB
