"""The compiled engine (runtime/generated.py) against the autograd engine, the independent oracle.

Values and gradients agree to 1e-10 on the library networks it can run and
on hypothesis-drawn networks; continuing a run from its state, truncated
edges, delays longer than the sequence and learned initial values behave
as on the other engines.  Skipped where numba is not installed, except the
error that says so.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.errors import GraphRNNError
from graphrnn.runtime import generated
from graphrnn.testing import inputs_for, params_for, specs
from graphrnn.train.methods import value_and_grad

SPECS = Path(__file__).resolve().parents[2] / "specs"
# compiling a new plan takes seconds: a few networks that cover the kernels (product, softmax, delays)
LIBRARY = ["elman", "stacked_elman", "lstm1997_adding"]
TOL = dict(rtol=1e-10, atol=1e-12)

needs_numba = pytest.mark.skipif(not generated.available(), reason="numba is not installed")


def _agree(spec_text: str, seed: int = 0, T: int = 6, B: int = 3, mask=False):
    reference = gr.loads(spec_text, engine="autograd")
    compiled = gr.loads(spec_text, engine="compiled")
    assert compiled.engine.name == "compiled"
    rng = np.random.default_rng(seed)
    params = reference.init(seed)
    x = rng.normal(size=(T, B, reference.input_size))
    target = rng.uniform(-1, 1, size=(T, B, reference.output_size))
    weights = rng.integers(0, 2, size=(T, B)).astype(float) if mask else None
    want = reference.run(params, x)
    got = compiled.run(params, x)
    for node in reference.ir.nodes:
        np.testing.assert_allclose(got[node], want[node], **TOL, err_msg=node)
    loss_a, grads_a = reference.value_and_grad(params, x, target, mask=weights)
    loss_c, grads_c = compiled.value_and_grad(params, x, target, mask=weights)
    np.testing.assert_allclose(loss_c, loss_a, **TOL)
    assert set(grads_c) == set(grads_a)
    for name in grads_a:
        np.testing.assert_allclose(grads_c[name], grads_a[name], **TOL, err_msg=name)


@needs_numba
@pytest.mark.parametrize("name", LIBRARY)
def test_library_networks_agree_with_autograd(name):
    _agree((SPECS / f"{name}.yaml").read_text(), mask=name.startswith("lstm1997"))


@needs_numba
def test_delays_truncation_initial_values_and_broadcast():
    _agree("""graphrnn: 1
name: odd_edges
inputs: {x: 2}
outputs: {y: 3}
nodes:
  a: {size: 3, activation: tanh, initial: learned}
  b: {size: 1, activation: sigmoid, initial: 0.5}
  p: {size: 3, op: product, activation: softplus}
  y: {size: 3, activation: softmax}
edges:
  - {from: x, to: a}
  - {from: x, to: b, delay: 2}
  - {from: a, to: a, delay: 3}
  - {from: b, to: a, kind: broadcast, delay: 1}
  - {from: a, to: p, kind: diagonal, truncate: true, delay: 1}
  - {from: a, to: p, kind: identity}
  - {from: p, to: y}
  - {from: y, to: b, delay: 8}
""", T=5)


@needs_numba
def test_a_run_continued_from_its_state_equals_the_whole_run():
    text = (SPECS / "lstm1997_adding.yaml").read_text()
    net = gr.loads(text, engine="compiled")
    params = net.init(2)
    x = np.random.default_rng(0).normal(size=(10, 2, net.input_size))
    whole = net.run(params, x)
    first = net.run(params, x[:4])
    rest = net.run(params, x[4:], state=first.state)
    np.testing.assert_allclose(np.concatenate([first.y, rest.y]), whole.y, **TOL)


@needs_numba
def test_truncated_bptt_through_the_compiled_engine_equals_the_fused_engine():
    text = (SPECS / "elman.yaml").read_text()
    fused, compiled = gr.loads(text, engine="fused"), gr.loads(text, engine="compiled")
    params = fused.init(0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 2, fused.input_size))
    target = rng.uniform(size=(12, 2, fused.output_size))
    loss_f, grads_f = value_and_grad(fused, params, x, target, method="tbptt", k1=4, k2=6)
    loss_c, grads_c = value_and_grad(compiled, params, x, target, method="tbptt", k1=4, k2=6)
    np.testing.assert_allclose(loss_c, loss_f, **TOL)
    for name in grads_f:
        np.testing.assert_allclose(grads_c[name], grads_f[name], **TOL, err_msg=name)


@needs_numba
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_drawn_networks_agree_with_autograd(data):
    text = data.draw(specs(), label="spec")
    reference = gr.loads(text, engine="autograd")
    compiled = gr.loads(text, engine="compiled")
    params = data.draw(params_for(reference), label="params")
    x = data.draw(inputs_for(reference), label="x")
    target = np.random.default_rng(0).uniform(-1, 1, (x.shape[0], x.shape[1], reference.output_size))
    loss_a, grads_a = reference.value_and_grad(params, x, target)
    loss_c, grads_c = compiled.value_and_grad(params, x, target)
    np.testing.assert_allclose(loss_c, loss_a, **TOL)
    for name in grads_a:
        np.testing.assert_allclose(grads_c[name], grads_a[name], **TOL, err_msg=name)


@needs_numba
@pytest.mark.parametrize("name", ["ntm_copy", "ntm_sort"])
def test_the_ntm_networks_agree_with_autograd(name):
    """A kind with state runs its compiled step (ops/memory_kernels.py) from the numpy kernels:
    one read and one write head, and five of each (every erase before every add)."""
    assert "compiled by numba" in gr.load(SPECS / f"{name}.yaml", engine="compiled").engine.kernels(
        gr.load(SPECS / f"{name}.yaml").plan)
    _agree((SPECS / f"{name}.yaml").read_text(), T=4, B=2)


@needs_numba
def test_a_kind_without_kernels_is_gr115_at_its_node(monkeypatch):
    from dataclasses import replace

    from graphrnn.ops import OPS
    monkeypatch.setitem(OPS, "memory", replace(OPS["memory"], compiled_step=None))   # a kind without one
    with pytest.raises(GraphRNNError) as err:
        gr.load(SPECS / "ntm_copy.yaml", engine="compiled")
    assert err.value.code == "GR115"
    assert "memory" in str(err.value) and "engine='fused'" in str(err.value)


def test_without_numba_the_compiled_engine_is_gr116(monkeypatch):
    monkeypatch.setattr(generated, "available", lambda: False)
    with pytest.raises(GraphRNNError) as err:
        gr.load(SPECS / "elman.yaml", engine="compiled")
    assert err.value.code == "GR116"
    assert "pip install" in str(err.value)


LARGE = """graphrnn: 1
name: large_products
inputs: {x: 40}
outputs: {y: 3}
nodes:
  h: {use: lstm, size: 32}
  a: {size: 40, activation: tanh, initial: learned}
  y: {size: 3, activation: softmax}
edges:
  - {from: x, to: h}
  - {from: x, to: a, delay: 2}
  - {from: a, to: a, delay: 3}
  - {from: a, to: h, truncate: true, delay: 1}
  - {from: h, to: y}
  - {from: y, to: a, delay: 4}
"""


@needs_numba
@pytest.mark.parametrize("blas", [True, False])
def test_large_products_agree_with_autograd_with_and_without_blas(monkeypatch, blas):
    """Projections of 1,024 weights or more (h's recurrent 32 x 128, a's 40 x 40 and 40 x 128, the
    input's 40 x 128 and 40 x 40) take BLAS where SciPy is installed: hoisted, delayed past the
    start, truncated, feeding several targets; without it, the loops."""
    from graphrnn.runtime import generated_kernels, generated_source
    if blas and not generated_kernels.BLAS:
        pytest.skip("SciPy is not installed: numba's np.dot has no BLAS")
    monkeypatch.setattr(generated_kernels, "BLAS", blas)
    net = gr.loads(LARGE, engine="compiled")
    assert (generated.blas_projections(net.plan) >= 4) == blas
    assert ("np.dot" in generated_source.forward_source(net.plan, blas)) == blas
    assert net.engine.largest_loop_batch(net.plan) >= (8 if blas else 1)
    _agree(LARGE, seed=1, T=7, B=1)
    _agree(LARGE, seed=2, T=5, B=3, mask=True)


@needs_numba
def test_a_batch_past_the_loops_limit_runs_the_numpy_passes_and_agrees(monkeypatch):
    from graphrnn.runtime.engine import CompiledEngine
    text = (SPECS / "elman.yaml").read_text()
    net = gr.loads(text, engine="compiled")
    monkeypatch.setattr(CompiledEngine, "LOOPS_UP_TO", 1)
    # one sequence's step is past the limit: no batch runs the loops, not even batch 1 (they were
    # measured 2.5x slower than the numpy kernels at batch 1 for lstm3_ngrams, 4.4x past the limit)
    assert net.engine.largest_loop_batch(net.plan) == 0
    reference = gr.loads(text, engine="autograd")
    params = net.init(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3, net.input_size))
    target = rng.normal(size=(5, 3, net.output_size))
    loss_c, grads_c = net.value_and_grad(params, x, target)
    assert net.engine._passes is None   # the loops were never compiled: the numpy passes ran
    loss_a, grads_a = reference.value_and_grad(params, x, target)
    np.testing.assert_allclose(loss_c, loss_a, **TOL)
    for name in grads_a:
        np.testing.assert_allclose(grads_c[name], grads_a[name], **TOL, err_msg=name)


@needs_numba
def test_a_pickled_network_keeps_no_buffers_and_gives_the_same_gradients_call_after_call():
    import pickle
    net = gr.loads((SPECS / "elman.yaml").read_text(), engine="compiled")
    params = net.init(0)
    rng = np.random.default_rng(0)
    x, target = rng.normal(size=(4, 2, net.input_size)), rng.normal(size=(4, 2, net.output_size))
    want = net.value_and_grad(params, x, target)[1]   # compiles the loops and fills their buffers
    copy = pickle.loads(pickle.dumps(net))
    for _ in range(2):   # reused buffers must be zeroed the second time too
        got = copy.value_and_grad(params, x, target)[1]
        for name in want:
            np.testing.assert_allclose(got[name], want[name], **TOL, err_msg=name)
