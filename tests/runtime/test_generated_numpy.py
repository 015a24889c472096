"""runtime/generated_numpy.py: the plan's passes as generated numpy, against fused.py's interpreter.

Oracle: fused.py's interpreter (NumpyPasses), itself held to the autograd
engine elsewhere; values, the gradients of every fused array and of x agree
to 1e-10 on every library network it runs and on hypothesis-drawn specs
(delays, truncation, products, every activation), with and without a
carried state, with and without reused buffers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.runtime import generated, generated_numpy
from graphrnn.runtime.fused_primitive import NumpyPasses
from graphrnn.testing import ALL_ACTIVATIONS, specs

SPECS = Path(__file__).resolve().parents[2] / "specs"
NETWORKS = [p.stem for p in sorted(SPECS.glob("*.yaml"))
            if not {"module"} & set(yaml.safe_load(p.read_text(encoding="utf-8")))
            and yaml.safe_load(p.read_text(encoding="utf-8")).get("over", "sequence") == "sequence"]
TOL = dict(rtol=1e-10, atol=1e-10)


def _compare(net, T=6, B=3, seed=0, state=None, scratch=False):
    rng = np.random.default_rng(seed)
    arrays = net.assembler.forward(net.assembler.flatten(net.init(seed)))
    x = rng.normal(size=(T, B, net.plan.input_width))
    interpreter, kernels = NumpyPasses(net.plan), generated.CompiledPlan(net.plan, "numpy")
    want, tape = interpreter.forward(arrays, x, state)
    got, slots = kernels.forward(arrays, x, state, scratch=scratch)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], **TOL, err_msg=name)
    g_values = {name: rng.normal(size=v.shape) for name, v in want.items() if name != "input"}
    g_want, gx_want = interpreter.backward(arrays, x, want, tape, g_values, state)
    g_got, gx_got = kernels.backward(arrays, x, got, slots, g_values, state, scratch=scratch)
    for fused, a, b in zip(net.plan.fused, g_got, g_want):
        np.testing.assert_allclose(a, b, **TOL, err_msg=fused.name)
    np.testing.assert_allclose(gx_got, gx_want, **TOL)
    g_only, no_x = kernels.backward(arrays, x, got, slots, g_values, state, want_x=False)   # x not differentiated
    assert no_x is None
    for fused, a, b in zip(net.plan.fused, g_only, g_want):
        np.testing.assert_allclose(a, b, **TOL, err_msg=fused.name)


@pytest.mark.parametrize("name", NETWORKS)
def test_library_networks_match_the_interpreter(name):
    net = gr.load(name)
    assert generated_numpy.supports(net.plan)   # the NTM networks too: the memory's own step, called per step
    assert net.engine.kernels(net.plan) == "generated numpy"
    _compare(net)
    _compare(net, T=2, scratch=True)   # shorter than some delays: reads before the start only


def test_a_carried_state_matches_the_interpreter():
    net = gr.load("lstm1997_adding")
    rng = np.random.default_rng(3)
    first = net.run(net.init(0), rng.normal(size=(4, 2, net.input_size)))
    _compare(net, B=2, state=first.state)


@given(data=st.data())
def test_drawn_specs_match_the_interpreter(data):
    net = gr.loads(data.draw(specs(truncate=True, activations=ALL_ACTIVATIONS), label="spec"))
    if generated_numpy.supports(net.plan):
        _compare(net, T=data.draw(st.integers(1, 5), label="T"), B=2, seed=data.draw(st.integers(0, 9)))


def test_a_shorter_run_reuses_the_longer_runs_buffers_and_gives_the_same_gradients():
    net, fresh = gr.load("lstm1997_adding"), gr.load("lstm1997_adding")
    params = net.init(0)
    rng = np.random.default_rng(5)
    long_x, short_x = rng.normal(size=(9, 2, net.input_size)), rng.normal(size=(4, 2, net.input_size))
    net.value_and_grad(params, long_x, rng.normal(size=(9, 2, 1)))
    kept = net.engine.numpy_passes(net.plan)._buffers
    target = rng.normal(size=(4, 2, 1))
    loss, grads = net.value_and_grad(params, short_x, target)
    assert net.engine.numpy_passes(net.plan)._buffers is kept   # cut to 4 steps, not made anew
    want_loss, want = fresh.value_and_grad(params, short_x, target)
    assert loss == want_loss
    for name in want:
        np.testing.assert_array_equal(grads[name], want[name], err_msg=name)


def test_a_stateful_block_records_what_the_interpreter_records():
    """The NTM memory's records (each head's weighting, each write head's erase and add vectors,
    one per step) from its StatefulSteps equal the interpreter's."""
    net = gr.load("ntm_copy")
    arrays = net.assembler.forward(net.assembler.flatten(net.init(1)))
    x = np.random.default_rng(1).normal(size=(5, 2, net.plan.input_width))
    want, got = {}, {}
    NumpyPasses(net.plan).forward(arrays, x, None, want)
    generated.CompiledPlan(net.plan, "numpy").forward(arrays, x, None, got)
    assert want.keys() == got.keys() and want
    for name in want:
        assert len(got[name]) == len(want[name]) == 5
        for a, b in zip(got[name], want[name]):
            assert a.keys() == b.keys()
            for key in a:
                np.testing.assert_allclose(a[key], b[key], **TOL, err_msg=f"{name} {key}")


def test_a_run_nothing_differentiates_keeps_no_step_caches():
    """An NTM run with plain arrays (evaluation) keeps no memory step's cache; the values are the
    same, and a traced run keeps one per step for its backward pass."""
    from autograd import grad

    from graphrnn.runtime.fused_primitive import differentiated
    net = gr.load("ntm_copy", engine="fused")
    params = net.init(2)
    x = np.random.default_rng(2).normal(size=(4, 2, net.input_size))
    passes = net.engine.numpy_passes(net.plan)
    arrays = net.assembler.forward(net.assembler.flatten(params))
    kept, tape = passes.forward(arrays, x)
    dropped, no_tape = passes.forward(arrays, x, keep=False)
    assert [len(s.caches) for s in tape.steps] == [4] and [len(s.caches) for s in no_tape.steps] == [0]
    for name in kept:
        np.testing.assert_array_equal(kept[name], dropped[name])
    assert not differentiated(arrays, x)
    g = grad(lambda p: net.loss(p, x, np.zeros((4, 2, net.output_size))))(params)   # traced: caches kept
    assert all(np.all(np.isfinite(v)) for v in g.values())
