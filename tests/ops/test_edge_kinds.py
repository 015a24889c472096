"""The edge-kind registry: every registered kind carries all its rules, runs on both engines like
the reference interpreter, is documented, and an unknown kind is a located did-you-mean error."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.ops import EDGE_KINDS, EdgeKind, Weighting, register_edge_kind
from graphrnn.ops.edges import equal_sizes
from graphrnn.testing import reference_run

DOCS = Path(__file__).resolve().parents[2] / "docs" / "spec.md"
REFUSABLE = {"weights", "init", "mask", "density", "share"}   # the spec keys a kind may need or refuse
KINDS = sorted(EDGE_KINDS)


def example(kind: EdgeKind) -> tuple:
    """(source size, destination size, weights) that fit ``kind``'s shape rule."""
    for src, dst in ((3, 3), (1, 3), (2, 3)):
        for weights in ((0.5, (0.5, -1.0, 2.0)) if "weights" in kind.requires else (None,)):
            if kind.size_problem("edge a -> b", src, dst, weights) is None:
                return src, dst, weights
    raise AssertionError(f"no sizes fit edge kind `{kind.name}`")


@pytest.mark.parametrize("name", KINDS)
def test_every_edge_kind_has_all_its_rules(name):
    kind = EDGE_KINDS[name]
    assert isinstance(kind, EdgeKind) and kind.name == name and kind.doc.strip()
    assert callable(kind.size_problem) and callable(kind.weighting) and callable(kind.forward)
    assert isinstance(kind.learned, bool) and isinstance(kind.default_trainable, bool)
    if kind.learned:   # a parameter of its own, drawn by `init` unless `weights` are given
        assert kind.param_rank in (0, 1, 2) and kind.default_init is not None
    else:              # weights come from the spec, if any
        assert kind.param_rank is None and kind.default_init is None
    if kind.nothing_to_train is not None:
        assert not kind.learned and not kind.default_trainable
    assert not set(kind.requires) & set(kind.refuses)
    for rules in (kind.requires, kind.refuses):
        assert set(rules) <= REFUSABLE
        assert all(isinstance(why, str) and why and isinstance(fix, str) and fix for why, fix in rules.values())
    src, dst, weights = example(kind)
    weighting = kind.weighting(weights)
    assert isinstance(weighting, Weighting)
    assert weighting.how in ((None, "vector", "scalar") if weighting.elementwise else ("dense",))
    shape = kind.param_shape(src, dst, weights) if kind.learned or weights is not None else None
    w = None if shape is None else (np.full(shape, 0.5) if weights is None else np.asarray(weights, float))
    out = kind.forward(np.ones((2, src)), w, dst)
    assert np.shape(out) == (2, dst)
    problem = kind.size_problem("edge a -> b", src + 1, dst + 2, weights)
    assert problem is None or (len(problem) == 2 and problem[0].startswith("edge a -> b"))


def spec_with(kind: EdgeKind) -> str:
    src, dst, weights = example(kind)
    extra = "" if weights is None else f", weights: {list(weights) if isinstance(weights, tuple) else weights}"
    return f"""graphrnn: 1
inputs: {{x: {src}}}
outputs: {{y: 2}}
nodes:
  a: {{size: {src}, activation: tanh}}
  h: {{size: {dst}, activation: tanh}}
  y: {{size: 2}}
edges:
  - {{from: x, to: a}}
  - {{from: a, to: h, kind: {kind.name}{extra}}}
  - {{from: h, to: h, delay: 1}}
  - {{from: h, to: y}}
"""


@pytest.mark.parametrize("name", KINDS)
def test_every_edge_kind_runs_like_the_reference_on_both_engines(name):
    text = spec_with(EDGE_KINDS[name])
    rng = np.random.default_rng(0)
    nets = {engine: gr.loads(text, engine=engine) for engine in ("fused", "autograd")}
    params = nets["fused"].init(2)
    x = rng.normal(size=(5, 2, nets["fused"].input_size))
    target = rng.normal(size=(5, 2, 2))
    want = reference_run(nets["fused"].ir, params, x)
    grads = {}
    for engine, net in nets.items():
        trace = net.run(params, x)
        for node in ("a", "h", "y"):
            np.testing.assert_allclose(trace[node], want[node], rtol=1e-12, atol=1e-12, err_msg=f"{engine} {node}")
        grads[engine] = net.grad(params, x, target)
    for param, value in grads["autograd"].items():
        np.testing.assert_allclose(grads["fused"][param], value, rtol=1e-10, atol=1e-12, err_msg=param)


def test_every_edge_kind_is_documented():
    row = next(line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("| `kind` |"))
    assert set(KINDS) <= set(re.findall(r"`(\w+)` \(", row))


def test_a_kind_registers_once():
    with pytest.raises(ValueError, match="already registered"):
        register_edge_kind(EDGE_KINDS["dense"])


def test_a_registered_kind_is_open_to_specs():
    """A kind registered from outside graphrnn: a learned gain on the identity that starts at 2."""
    kind = register_edge_kind(EdgeKind(
        name="double_test", doc="a learned gain starting at 2", learned=True, default_trainable=True,
        default_init=2.0, param_rank=0, size_problem=equal_sizes("double_test"),
        weighting=lambda weights: Weighting(elementwise=True, how="scalar"),
        forward=lambda src, w, dst: float(w) * src))
    try:
        net = gr.loads(spec_with(kind))
        params = net.init(0)
        assert params["a->h"] == 2.0
        x = np.random.default_rng(1).normal(size=(3, 1, 3))
        np.testing.assert_allclose(net.run(params, x)["h"], reference_run(net.ir, params, x)["h"], rtol=1e-12)
    finally:
        EDGE_KINDS.pop("double_test")


BAD = """graphrnn: 1
inputs: {x: 2}
outputs: {y: 2}
nodes:
  h: {size: 2, activation: tanh}
  y: {size: 2}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1, kind: diagnal}
  - {from: h, to: y}
"""


def test_an_unknown_kind_is_located_with_a_did_you_mean():
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(BAD, "bad.yaml")
    err = info.value
    assert err.code == "GR104"
    line, col = 9, BAD.splitlines()[8].index("diagnal") + 1
    assert str(err).startswith(f"bad.yaml:{line}:{col}: error GR104"), str(err)
    assert "unknown edge kind `diagnal` (did you mean `diagonal`?)" in err.message
    assert all(name in err.fix for name in EDGE_KINDS)


def test_an_unknown_kind_through_a_module_parameter_is_blamed_where_it_was_written(tmp_path):
    (tmp_path / "layer.yaml").write_text("""graphrnn: 1
module: layer
params: {kind: dense}
ports: {in: h, out: h}
nodes:
  h: {size: 2, activation: tanh}
edges:
  - {from: h, to: h, delay: 1, kind: $kind}
""")
    text = """graphrnn: 1
inputs: {x: 2}
outputs: {y: 2}
nodes:
  l: {use: layer.yaml, kind: scalr}
  y: {size: 2}
edges:
  - {from: x, to: l}
  - {from: l, to: y}
"""
    (tmp_path / "net.yaml").write_text(text)
    with pytest.raises(gr.GraphRNNError) as info:
        gr.load(tmp_path / "net.yaml")
    err = info.value
    assert err.code == "GR104" and "did you mean `scalar`?" in err.message
    assert err.loc.line == 5 and err.loc.col == text.splitlines()[4].index("scalr") + 1
    assert gr.loads(text.replace("scalr", "scalar"), str(tmp_path / "net.yaml")).init(0)["l.h->l.h@1"] == 1.0
