"""Node kinds with named input ports: registered in Python, addressed as `node.port` in YAML."""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.ops import OPS, CombinerKind, register_op
from graphrnn.ops.activations import sigmoid
from graphrnn.testing import reference_run

SPEC = """graphrnn: 1
inputs: {x: 3}
outputs: {y: 2}
nodes:
  h: {size: 4, activation: tanh}
  g: {size: 4, op: gated_test}
  y: {size: 2}
edges:
  - {from: x, to: [h, g.value]}
  - {from: h, to: g.gate, delay: 1}
  - {from: g, to: h, delay: 1}
  - {from: g, to: y}
"""


def _gated(slots):
    value, gate = slots
    return value * sigmoid(gate)


def _gated_vjp(slots, g):
    value, gate = slots
    s = 0.5 * (np.tanh(0.5 * gate) + 1.0)
    return [g * s, g * value * s * (1.0 - s)]


@pytest.fixture(autouse=True)
def gated_kind():
    register_op(CombinerKind(name="gated_test", doc="y = act(value * sigmoid(gate))", combine=_gated,
                       factor_per_edge=False, bias_default=False, allows_bias=False, needs_inputs=True,
                       combine_vjp=_gated_vjp, ports=("value", "gate")))
    yield
    OPS.pop("gated_test")


def test_edges_address_ports_and_parameters_name_them():
    net = gr.loads(SPEC)
    assert {"x->g.value", "h->g.gate@1"} <= set(net.init(0))
    assert {e.port for e in net.ir.edges if e.dst == "g"} == {"value", "gate"}


def test_ported_kind_runs_like_the_reference_on_both_engines():
    x = np.random.default_rng(0).normal(size=(6, 2, 3))
    for engine in ("fused", "autograd"):
        net = gr.loads(SPEC, engine=engine)
        params = net.init(3)
        trace = net.run(params, x)
        want = reference_run(net.ir, params, x)
        for node in net.ir.nodes:
            np.testing.assert_allclose(trace[node], want[node], rtol=1e-12, atol=1e-12)


def test_hand_written_port_gradient_matches_autograd_and_finite_differences():
    fused, reference = gr.loads(SPEC), gr.loads(SPEC, engine="autograd")
    params = fused.init(1)
    x = np.random.default_rng(1).normal(size=(5, 2, 3))
    target = np.random.default_rng(2).normal(size=(5, 2, 2))
    a, b = fused.grad(params, x, target), reference.grad(params, x, target)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-13, err_msg=name)
    name, index, eps = "h->g.gate@1", (1, 2), 1e-6
    up, down = dict(params), dict(params)
    up[name], down[name] = params[name].copy(), params[name].copy()
    up[name][index] += eps
    down[name][index] -= eps
    numeric = (fused.loss(up, x, target) - fused.loss(down, x, target)) / (2 * eps)
    assert abs(numeric - a[name][index]) <= 1e-6 * max(abs(numeric), 1e-8)


def test_an_edge_into_a_ported_node_must_name_its_port():
    with pytest.raises(gr.GraphError) as info:
        gr.loads(SPEC.replace("to: [h, g.value]", "to: [h, g]"), "bad.yaml")
    assert info.value.code == "GR105" and "value, gate" in info.value.fix
    with pytest.raises(gr.GraphError) as info:
        gr.loads(SPEC.replace("g.value", "g.valeu"), "bad.yaml")
    assert "did you mean `value`?" in info.value.message
