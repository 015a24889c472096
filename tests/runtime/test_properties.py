"""Property tests of the runtime on random networks (graphrnn.testing.specs).

- central finite differences agree with autograd (BPTT) on every trainable entry;
- the planned, fused run agrees with the naive step-by-step reference interpreter;
- a batch agrees with its rows run one by one;
- the order of ``nodes:`` and ``edges:`` in the YAML changes nothing;
- the library specs agree with the reference interpreter.

Profiles come from tests/conftest.py (``ci`` by default: 30 derandomised examples).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, note
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.testing import ALL_ACTIVATIONS, inputs_for, params_for, reference_run, specs

SPECS = Path(__file__).resolve().parents[2] / "specs"
LIBRARY = ["elman", "jordan", "fully_recurrent", "stacked_elman"]

# relu has a kink at 0 where central differences disagree with any subgradient
SMOOTH = tuple(a for a in ALL_ACTIVATIONS if a != "relu")

EPS = 1e-6
FD_TOL = 1e-6
EXACT = dict(rtol=1e-12, atol=1e-12)


def _draw_case(data, **spec_kw):
    text = data.draw(specs(**spec_kw), label="spec")
    net = gr.loads(text)
    params = data.draw(params_for(net), label="params")
    x = data.draw(inputs_for(net), label="x")
    return text, net, params, x


def _assert_traces_equal(net, got, want, context: str = ""):
    for node in net.ir.nodes:
        np.testing.assert_allclose(got[node], want[node], **EXACT,
                                   err_msg=f"node {node}\n{context}")


# -- finite differences vs autograd -------------------------------------------------

@given(data=st.data())
def test_finite_differences_match_autograd(data):
    text, net, params, x = _draw_case(data, activations=SMOOTH)
    seed = data.draw(st.integers(0, 2**16), label="target seed")
    target = np.random.default_rng(seed).uniform(-1.0, 1.0, (x.shape[0], x.shape[1], net.output_size))

    grads = net.grad(params, x, target, kind="mse")
    assert set(grads) == set(net.trainable)
    for name, g in grads.items():
        assert np.shape(g) == np.shape(params[name]), name

    analytic, numeric, where = [], [], []
    for name in sorted(grads):
        for index in np.ndindex(np.shape(params[name])):
            shifted = {k: np.array(v, dtype=float) for k, v in params.items()}
            shifted[name][index] += EPS
            plus = net.loss(shifted, x, target, kind="mse")
            shifted[name][index] -= 2 * EPS
            minus = net.loss(shifted, x, target, kind="mse")
            analytic.append(float(np.asarray(grads[name])[index]))
            numeric.append((plus - minus) / (2 * EPS))
            where.append(f"{name}{list(index)}")
    if not analytic:
        return
    a, n = np.array(analytic), np.array(numeric)
    error = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-8)
    # Central differences cannot resolve a difference below their rounding noise,
    # about eps_machine * |loss| / EPS per entry (~2e-10 for a loss of 1): a
    # gradient of norm 1e-5 (an input of 1e-5, say) is only known to ~1e-5
    # relative.  So the relative test may fall back to an absolute one at 16x
    # that noise; a real bug moves the gradient by far more than 1e-8.
    loss = float(net.loss(params, x, target, kind="mse"))
    noise = np.sqrt(a.size) * 16 * np.finfo(float).eps * max(1.0, abs(loss)) / EPS
    worst = int(np.argmax(np.abs(a - n)))
    note(f"relative error {error:.3g}; |a - n| = {np.linalg.norm(a - n):.3g} (noise bound {noise:.3g}); "
         f"worst entry {where[worst]}: autograd {a[worst]!r} vs FD {n[worst]!r}")
    assert error < FD_TOL or np.linalg.norm(a - n) < noise, \
        f"FD relative error {error:.3g} (worst {where[worst]})\n{text}"


# -- planned run vs the reference interpreter ------------------------------------------

@given(data=st.data())
def test_planned_run_matches_reference(data):
    text, net, params, x = _draw_case(data, truncate=True)
    trace = net.run(params, x)
    want = reference_run(net.ir, params, x)
    _assert_traces_equal(net, trace, want, text)
    expected_y = np.concatenate([want[node] for node in net.outputs.values()], axis=-1)
    np.testing.assert_allclose(trace.y, expected_y, **EXACT, err_msg=text)


@pytest.mark.parametrize("name", LIBRARY)
@given(data=st.data())
def test_library_spec_matches_reference(name, data):
    net = gr.load(SPECS / f"{name}.yaml")
    params = data.draw(params_for(net), label="params")
    x = data.draw(inputs_for(net, max_steps=6), label="x")
    trace = net.run(params, x)
    want = reference_run(net.ir, params, x)
    _assert_traces_equal(net, trace, want, name)


# -- a batch is its rows ---------------------------------------------------------------

@given(data=st.data())
def test_batch_equals_rows(data):
    text, net, params, x = _draw_case(data, truncate=True)
    whole = net.run(params, x)
    for b in range(x.shape[1]):
        row = net.run(params, x[:, b:b + 1, :])
        for node in net.ir.nodes:
            np.testing.assert_allclose(whole[node][:, b:b + 1, :], row[node], **EXACT,
                                       err_msg=f"row {b}, node {node}\n{text}")


# -- node and edge order in the YAML ---------------------------------------------------

@given(data=st.data())
def test_node_and_edge_order_do_not_matter(data):
    text, net, params, x = _draw_case(data, truncate=True)
    doc = yaml.safe_load(text)
    node_names = data.draw(st.permutations(list(doc["nodes"])), label="node order")
    doc["nodes"] = {name: doc["nodes"][name] for name in node_names}
    doc["edges"] = data.draw(st.permutations(doc["edges"]), label="edge order")
    shuffled_text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None)
    shuffled = gr.loads(shuffled_text)

    seed = data.draw(st.integers(0, 2**16), label="init seed")
    first, second = net.init(seed), shuffled.init(seed)
    assert list(first) == list(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    assert shuffled.trainable == net.trainable

    a, b = net.run(params, x), shuffled.run(params, x)
    _assert_traces_equal(net, b, a, shuffled_text)
    np.testing.assert_allclose(b.y, a.y, **EXACT)
