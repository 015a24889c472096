"""graphrnn.testing's property checks: they hold on library specs and catch wrong gradients.

A test that registers a node kind removes it again (OPS.pop), so tests stay
independent.  The checks run with few examples here (they draw their own
cases with hypothesis, derandomised); the CLI tests are in tests/test_cli.py.
"""
from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.ops import CombinerKind, register_op
from graphrnn.ops.activations import sigmoid
from graphrnn.testing import (CHECKS, GradientCheckError, PropertyError, Report, check_all, check_batch,
                              check_bptt_rtrl, check_engines, check_gradients, check_kind, check_order,
                              check_roundtrip, check_unroll, dumps, load_plugin, reference_run)
from graphrnn.train.methods import GRADIENT_METHODS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 5


# -- every check holds on library specs ----------------------------------------------------

@pytest.mark.parametrize("name", ["elman", "jordan", "lstm1997_8-4-2x2", "stacked_elman"])
def test_every_check_passes_on_library_specs(name):
    reports = check_all(gr.load(name), examples=EXAMPLES, seed=0)
    assert [r.name for r in reports] == list(CHECKS)
    for report in reports:
        assert report.passed, str(report)
        assert report.skipped or report.examples >= 1, str(report)
        assert report.skipped or report.error <= report.tolerance, str(report)
    gradients = reports[0]
    assert gradients.worst["parameter"] in gr.load(name).trainable
    truncated = any("truncate" in note for note in gradients.notes)
    assert truncated == (name == "lstm1997_8-4-2x2")


def test_report_is_a_readable_frozen_record():
    report = check_unroll(gr.load("elman"), examples=3, seed=1)
    assert isinstance(report, Report) and report.passed and report.status == "PASS"
    assert report.name == "unroll" and report.examples == 3 and report.tolerance == 1e-12
    assert str(report).startswith("PASS unroll") and "3 examples" in report.summary()
    with pytest.raises(FrozenInstanceError):
        report.passed = False


def test_checks_are_deterministic_for_a_seed():
    net = gr.load("jordan")
    first, second = check_gradients(net, examples=3, seed=4), check_gradients(net, examples=3, seed=4)
    assert first.error == second.error and first.worst["entry"] == second.worst["entry"]


def test_dumps_writes_yaml_that_loads_to_the_same_network():
    net = gr.load("stacked_elman")
    text = dumps(net)
    assert text.startswith("graphrnn: 1\nname: stacked_elman\n") and "use: srn_layer" in text
    again = gr.loads(text, net.spec.file)
    assert again.ir.nodes == net.ir.nodes and again.ir.edges == net.ir.edges
    assert dumps(net.spec) == text == dumps(net.spec.data)
    assert check_roundtrip(net, examples=2).passed
    assert check_order(net, examples=2).passed


def test_bptt_rtrl_is_skipped_when_rtrl_is_unavailable(monkeypatch):
    net = gr.load("elman")

    def no_rtrl(*args, **kw):
        raise gr.RunError("GR200", "gradient method `rtrl` is not available", fix="use bptt")
    monkeypatch.setitem(GRADIENT_METHODS, "rtrl", replace(GRADIENT_METHODS["rtrl"], compute=no_rtrl))
    report = check_bptt_rtrl(net, examples=2)
    assert report.passed and report.status == "SKIP" and "rtrl" in report.skipped
    assert str(report).startswith("SKIP bptt_rtrl")


# -- a node kind with a deliberately wrong hand-written gradient ---------------------------

WRONG = """graphrnn: 1
name: wrong
inputs: {x: 2}
outputs: {y: 1}
nodes:
  c: {size: 2, activation: tanh}
  h: {size: 2, op: mix_wrong_test}
  y: {size: 1}
edges:
  - {from: x, to: c}
  - {from: c, to: h.new}
  - {from: h, to: h.old, delay: 1}
  - {from: x, to: h.gate}
  - {from: h, to: y}
"""


def _mix(slots):
    old, new, gate = slots
    s = sigmoid(gate)
    return s * new + (1.0 - s) * old


def _mix_vjp_wrong(slots, g):
    """The `old` port's gradient is doubled.  `old` reads h one step back, whose value
    before the first step is a constant: with T = 1 the error reaches no parameter,
    so the bug shows from T = 2 on, and hypothesis must shrink to exactly that."""
    old, new, gate = slots
    s = 0.5 * (np.tanh(0.5 * gate) + 1.0)
    return [2.0 * g * (1.0 - s), g * s, g * (new - old) * s * (1.0 - s)]


@pytest.fixture
def wrong_kind(registry):
    register_op(CombinerKind(name="mix_wrong_test", doc="gated mix with a wrong gradient", combine=_mix,
                       factor_per_edge=False, bias_default=False, allows_bias=False, needs_inputs=True,
                       combine_vjp=_mix_vjp_wrong, ports=("old", "new", "gate")))
    return gr.loads(WRONG, "wrong.yaml")


def test_check_gradients_catches_a_wrong_hand_written_gradient_and_shrinks(wrong_kind):
    with pytest.raises(GradientCheckError) as info:
        check_gradients(wrong_kind, examples=10, seed=0)
    report, message = info.value.report, str(info.value)
    assert isinstance(info.value, AssertionError) and not report.passed
    assert report.error > 1e-3
    # shrunk: the smallest case that shows the bug is two steps of one row
    assert report.worst["steps"] == 2 and report.worst["batch"] == 1
    assert "T = 2 steps, B = 1 row" in report.counterexample
    # the worst entry: a parameter, its node or edge, its location, both values
    worst = report.worst
    assert worst["parameter"] in wrong_kind.trainable and "wrong.yaml:" in worst["where"]
    assert f"{worst['analytic']: .12g}".strip() in message and f"{worst['numeric']: .12g}".strip() in message
    # the kind is named, with the port whose gradient is wrong
    assert "mix_wrong_test" in message and "port `old`" in message


def test_check_engines_and_check_kind_catch_it_too(wrong_kind):
    with pytest.raises(GradientCheckError) as info:
        check_engines(wrong_kind, examples=10, seed=0)
    assert info.value.report.worst["steps"] == 2 and info.value.report.worst["batch"] == 1
    assert "mix_wrong_test" in str(info.value)
    with pytest.raises(GradientCheckError) as info:
        check_kind("mix_wrong_test", examples=10)
    assert info.value.report.worst["label"] == "port `old`"
    assert "port `old`: [[" in info.value.report.counterexample   # the slots, shrunk to one row


def test_check_all_reports_every_check_and_raises_the_gradient_error(wrong_kind):
    with pytest.raises(GradientCheckError) as info:
        check_all(wrong_kind, examples=3, seed=0)
    status = {r.name: r.status for r in info.value.reports}
    assert status["gradients"] == status["engines"] == status["kinds"] == "FAIL"
    assert status["batch"] == status["unroll"] == status["order"] == status["roundtrip"] == "PASS"
    assert "checks failed: gradients, engines" in str(info.value)
    reports = check_all(wrong_kind, examples=3, seed=0, raise_errors=False)
    assert [r.status for r in reports] == list(status.values())


def test_a_right_custom_kind_with_ports_passes(registry):
    load_plugin(ROOT / "examples" / "custom_kind" / "kind.py")
    net = gr.load(ROOT / "examples" / "custom_kind" / "spec.yaml")
    for report in check_all(net, examples=3, seed=0):
        assert report.passed, str(report)
    assert check_kind("highway", examples=10).passed


def test_check_batch_catches_a_kind_that_mixes_batch_rows(registry):
    def centre(slots):
        return slots[0] - slots[0].mean(axis=-2, keepdims=True)

    register_op(CombinerKind(name="centre_test", doc="subtracts the batch mean (wrongly)", combine=centre,
                       factor_per_edge=False, bias_default=False, allows_bias=False, needs_inputs=True,
                       combine_vjp=lambda slots, g: [g - g.mean(axis=-2, keepdims=True)]))
    net = gr.loads("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  y: {size: 2, op: centre_test}\n"
                   "edges:\n  - {from: x, to: y}\n")
    with pytest.raises(PropertyError) as info:
        check_batch(net, examples=10)
    assert not isinstance(info.value, GradientCheckError)
    report = info.value.report
    assert report.worst["batch"] == 2 and report.worst["steps"] == 1 and report.worst["label"] == "y"
    assert check_unroll(net, examples=3).passed       # the reference runs the kind's own combine


def test_a_single_slot_kind_gets_its_own_gradient(registry):
    register_op(CombinerKind(name="square_test", doc="y = act(s^2)", combine=lambda s: s[0] ** 2,
                       factor_per_edge=False, bias_default=False, allows_bias=False, needs_inputs=True,
                       combine_vjp=lambda s, g: [2 * s[0] * g]))
    net = gr.loads("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  y: {size: 2, op: square_test}\n"
                   "edges:\n  - {from: x, to: y}\n")
    assert check_kind("square_test", examples=5).passed
    check_engines(net, examples=3)


def test_reference_runs_a_registered_kind_without_ports(registry):
    register_op(CombinerKind(name="double_test", doc="y = act(2 s)", combine=lambda s: 2.0 * s[0],
                       factor_per_edge=False, bias_default=True, allows_bias=True, needs_inputs=True,
                       combine_vjp=lambda s, g: [2.0 * g]))
    net = gr.loads("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  y: {size: 2, op: double_test}\n"
                   "edges:\n  - {from: x, to: y, kind: identity}\n")
    params = net.init(0)
    params["y.bias"] = np.array([1.0, -1.0])
    x = np.array([[[1.0, 2.0]], [[3.0, 4.0]]])
    np.testing.assert_array_equal(reference_run(net.ir, params, x)["y"][:, 0], [[3.0, 3.0], [7.0, 7.0]])
