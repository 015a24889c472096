"""The original LSTM (Hochreiter & Schmidhuber 1997): specs/lstm1997_block.yaml and
specs/lstm1997_8-4-2x2.yaml.

- the constant error carousel keeps the cell state bit for bit while the input gate is shut;
- the squashers' ranges: cell inputs in [-2, 2], block outputs in [-1, 1];
- the output-gate biases start at -1 and -2; each block is 2 cells with one in_gate and one
  out_gate; ``graphrnn show`` lists the blocks' members;
- truncation: with ``truncate: true`` on the recurrent edges, the gradient equals that of a
  network in which those edges read the previous outputs as a constant input ``prev``: error
  crosses time only through the cell states.  The untruncated copy of the spec does not;
- finite differences agree with autograd on the untruncated copy, every parameter.
"""
from __future__ import annotations

from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
import yaml
from autograd import grad
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphrnn as gr
from graphrnn.cli import main as cli_main
from graphrnn.testing import params_for

SPECS = Path(__file__).resolve().parents[2] / "specs"
NAME = "lstm1997_8-4-2x2"
SPEC = SPECS / f"{NAME}.yaml"
TEXT = SPEC.read_text(encoding="utf-8")
BLOCKS = ("block1", "block2")
CELLS = 2
GATES = ("in_gate", "out_gate", "cell_in")     # the block's `in` port


def untruncated_text() -> str:
    assert TEXT.count("truncate: true") == 1
    return TEXT.replace("truncate: true", "truncate: false")


NET = gr.loads(TEXT, str(SPEC))
FULL = gr.loads(untruncated_text(), str(SPEC))


def xs(steps=st.integers(1, 6), batch=st.integers(1, 3), width=8):
    return st.tuples(steps, batch).flatmap(
        lambda tb: hnp.arrays(np.float64, (tb[0], tb[1], width),
                              elements=st.floats(-2.0, 2.0, allow_nan=False)))


def sq_loss(net, params, x, target):
    """Sum of squared errors (the truncation oracle compares gradients of this loss)."""
    return anp.sum((net.run(params, x).y - target) ** 2)


# -- the constant error carousel --------------------------------------------------------------

SHUT = 7          # the input column that shuts both input gates from step k on


@given(data=st.data())
def test_cec_keeps_the_state_exactly_while_the_input_gate_is_shut(data):
    params = data.draw(params_for(NET), label="params")
    x = data.draw(xs(steps=st.integers(2, 8)), label="x")
    k = data.draw(st.integers(0, x.shape[0] - 1), label="shut from step")
    x = x.copy()
    x[:, :, SHUT] = 0.0
    x[k:, :, SHUT] = 1.0
    for block in BLOCKS:   # net_in <= 2*2*7 + 2*4 + 2 - 1e4: sigmoid underflows to exactly 0
        w = params[f"x->{block}.in_gate"].copy()
        w[SHUT] = -1e4
        params[f"x->{block}.in_gate"] = w
    trace = NET.run(params, x)
    for block in BLOCKS:
        gate = np.asarray(trace[f"{block}.in_gate"])
        assert np.all(gate[k:] == 0.0), f"{block}.in_gate is not exactly 0: {gate[k:].max()!r}"
        state = np.asarray(trace[f"{block}.state"])
        kept = state[k - 1] if k > 0 else np.zeros_like(state[0])
        for t in range(k, x.shape[0]):
            assert np.array_equal(state[t], kept), (block, t, state[t] - kept)
        # the outputs still move, with the output gate alone: y_t = out_t * h(s_kept)
        out_gate, y = np.asarray(trace[f"{block}.out_gate"]), np.asarray(trace[f"{block}.out"])
        np.testing.assert_allclose(y[k:], out_gate[k:] * (2.0 / (1.0 + np.exp(-kept)) - 1.0),
                                   rtol=1e-14, atol=1e-15)


@given(x=xs(width=3), cells=st.integers(1, 3))
def test_a_block_whose_input_gate_never_opens_keeps_a_zero_state(x, cells):
    net = gr.loads(f"""\
graphrnn: 1
inputs: {{x: 3}}
outputs: {{blk.out: {cells}}}
nodes:
  blk: {{use: lstm1997_block, cells: {cells}, in_gate_bias: -1000.0}}
edges:
  - {{from: x, to: blk}}
  - {{from: blk, to: blk, delay: 1}}
""")
    params = net.init(0)
    assert params["blk.in_gate.bias"].tolist() == [-1000.0]
    trace = net.run(params, x)
    assert np.all(np.asarray(trace["blk.in_gate"]) == 0.0)
    assert np.all(np.asarray(trace["blk.state"]) == 0.0)
    assert np.all(np.asarray(trace["blk.out"]) == 0.0)      # h(0) = 2 sigmoid(0) - 1 = 0


# -- squashers --------------------------------------------------------------------------------

@given(data=st.data())
def test_squasher_ranges(data):
    scale = data.draw(st.sampled_from([1.0, 10.0, 1000.0]), label="weight scale")
    params = {k: scale * v for k, v in data.draw(params_for(NET), label="params").items()}
    trace = NET.run(params, data.draw(xs(), label="x"))
    for block in BLOCKS:
        cell_in = np.asarray(trace[f"{block}.cell_in"])
        assert np.all((-2.0 <= cell_in) & (cell_in <= 2.0))
        for node in ("squashed", "out"):
            assert np.all(np.abs(np.asarray(trace[f"{block}.{node}"])) <= 1.0), node
        for gate in ("in_gate", "out_gate"):
            value = np.asarray(trace[f"{block}.{gate}"])
            assert np.all((0.0 <= value) & (value <= 1.0)), gate


def test_squashers_are_the_papers_g_and_h():
    a = np.linspace(-30, 30, 601)[:, None, None] * np.ones((1, 1, 8))
    net = gr.loads("""\
graphrnn: 1
inputs: {a: 1}
outputs: {g: 1, h: 1}
nodes:
  g: {size: 1, activation: g1997, bias: false}
  h: {size: 1, activation: h1997, bias: false}
edges:
  - {from: a, to: [g, h], kind: identity}
""")
    y = np.asarray(net.run({}, a[:, :, :1]).y)
    s = 1.0 / (1.0 + np.exp(-a[:, :, 0]))
    np.testing.assert_allclose(y[:, :, 0], 4.0 * s - 2.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(y[:, :, 1], 2.0 * s - 1.0, rtol=0, atol=1e-14)


# -- the 8-4-2x2 network's wiring ---------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_output_gate_biases_start_at_minus_one_and_minus_two(seed):
    params = NET.init(seed)
    assert params["block1.out_gate.bias"].tolist() == [-1.0]
    assert params["block2.out_gate.bias"].tolist() == [-2.0]
    for block in BLOCKS:
        assert params[f"{block}.in_gate.bias"].tolist() == [0.0]


def test_blocks_of_two_cells_share_one_input_and_one_output_gate():
    nodes = NET.ir.nodes
    assert NET.inputs == {"x": 8} and NET.output_size == 4
    for block in BLOCKS:
        members = {name[len(block) + 1:]: node for name, node in nodes.items()
                   if name.startswith(block + ".")}
        assert set(members) == {"in_gate", "out_gate", "cell_in", "gated_in", "state", "squashed", "out"}
        assert members["in_gate"].size == 1 and members["out_gate"].size == 1
        for cell_node in ("cell_in", "gated_in", "state", "squashed", "out"):
            assert members[cell_node].size == CELLS, cell_node
        kinds = {(e.src, e.dst): e.kind for e in NET.ir.edges}
        assert kinds[(f"{block}.in_gate", f"{block}.gated_in")] == "broadcast"
        assert kinds[(f"{block}.out_gate", f"{block}.out")] == "broadcast"
        cec = [e for e in NET.ir.edges if e.src == e.dst == f"{block}.state"]
        assert len(cec) == 1 and cec[0].delay == 1 and cec[0].kind == "fixed"
        assert not cec[0].trainable and float(np.asarray(cec[0].weights)) == 1.0 and not cec[0].truncate
    sigmoid_units = sorted(n for n, node in nodes.items() if node.activation == "sigmoid" and n != "y")
    assert sigmoid_units == [f"{b}.{g}" for b in BLOCKS for g in ("in_gate", "out_gate")]
    recurrent = [e for e in NET.ir.edges if e.delay == 1 and e.kind == "dense"]
    # every gate and cell input reads every block's outputs one step back, truncated
    assert {(e.src, e.dst) for e in recurrent} == {(f"{s}.out", f"{d}.{g}")
                                                   for s in BLOCKS for d in BLOCKS for g in GATES}
    assert all(e.truncate for e in recurrent)
    assert NET.num_params == 124


def test_show_lists_the_blocks(capsys):
    assert cli_main(["show", NAME]) == 0
    out = capsys.readouterr().out
    for block in BLOCKS:
        assert f"{block}.in_gate" in out
        assert f"{block}.state" in out


# -- truncation -----------------------------------------------------------------------------------

def prev_network():
    """The spec with its truncated recurrent edges replaced by edges from an input ``prev``.

    ``prev`` (4 columns: block1's cells, then block2's) carries the previous step's cell
    outputs as a constant; returns the network and the map from the truncated edges'
    parameters to (prev parameter, row slice).
    """
    doc = yaml.safe_load(TEXT)
    truncated = [e for e in doc["edges"] if e.get("truncate")]
    assert len(truncated) == 1
    (edge,) = truncated
    sources, targets = edge["from"], edge["to"]
    doc["edges"] = [e for e in doc["edges"] if e is not edge] + [
        {"from": "prev", "to": targets, "init": edge.get("init", "glorot")}]
    doc["inputs"] = {**doc["inputs"], "prev": CELLS * len(sources)}
    net = gr.loads(yaml.safe_dump(doc, sort_keys=False), str(SPEC))
    mapping = {}
    for k, src in enumerate(sources):
        for dst in targets:
            for gate in GATES:
                mapping[f"{src}.out->{dst}.{gate}@1"] = (f"prev->{dst}.{gate}",
                                                         slice(k * CELLS, (k + 1) * CELLS))
    return net, sources, mapping


PREV, SOURCES, MAPPING = prev_network()


def prev_params(params):
    """The truncated network's parameters in PREV's names (recurrent blocks stacked by source)."""
    out = {name: params[name] for name in PREV.init(0) if name in params}
    stacked = {}
    for name, (target, rows) in MAPPING.items():
        stacked.setdefault(target, []).append((rows.start, params[name]))
    for target, parts in stacked.items():
        out[target] = np.concatenate([w for _, w in sorted(parts, key=lambda p: p[0])], axis=0)
    assert set(out) == set(PREV.init(0))
    return out


def gradients(net, params, x, target):
    g_params = grad(lambda p: sq_loss(net, p, x, target))(dict(params))
    g_x = grad(lambda z: sq_loss(net, params, z, target))(x)
    return g_params, g_x


def oracle_gradients(params, x, target):
    """Gradients through PREV, fed the previous outputs of the truncated run as constants."""
    trace = NET.run(params, x)
    y = np.concatenate([np.asarray(trace[f"{src}.out"]) for src in SOURCES], axis=-1)
    prev = np.concatenate([np.zeros_like(y[:1]), y[:-1]], axis=0)
    p2 = prev_params(params)
    np.testing.assert_allclose(PREV.run(p2, np.concatenate([x, prev], -1)).y, trace.y,
                               rtol=1e-13, atol=1e-13)   # the same forward pass
    g2 = grad(lambda p: sq_loss(PREV, p, np.concatenate([x, prev], -1), target))(dict(p2))
    gx2 = grad(lambda z: sq_loss(PREV, p2, anp.concatenate([z, prev], -1), target))(x)
    # back to the truncated network's names
    out = {name: g2[name] for name in g2 if name in params}
    for name, (target_name, rows) in MAPPING.items():
        out[name] = np.asarray(g2[target_name])[rows]
    assert set(out) == set(params)
    return out, gx2


def _max_difference(a_params, a_x, b_params, b_x):
    worst = float(np.max(np.abs(np.asarray(a_x) - np.asarray(b_x))))
    for name in a_params:
        worst = max(worst, float(np.max(np.abs(np.asarray(a_params[name]) - np.asarray(b_params[name])))))
    return worst


@given(data=st.data())
def test_truncated_gradient_flows_back_in_time_only_through_the_cell_states(data):
    params = data.draw(params_for(NET), label="params")
    x = data.draw(xs(), label="x")
    target = np.random.default_rng(data.draw(st.integers(0, 2**16), label="target seed")) \
        .uniform(0.0, 1.0, x.shape[:2] + (4,))
    got, got_x = gradients(NET, params, x, target)
    want, want_x = oracle_gradients(params, x, target)
    np.testing.assert_allclose(got_x, want_x, rtol=1e-10, atol=1e-12, err_msg="d loss / d x")
    for name in params:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_without_truncation_the_oracle_disagrees(seed):
    """The oracle has power: the untruncated copy's gradient differs from it by far more than 1e-6."""
    rng = np.random.default_rng(seed)
    params = {k: v + rng.uniform(-0.5, 0.5, v.shape) for k, v in NET.init(seed).items()}
    x = rng.uniform(-2.0, 2.0, (5, 2, 8))
    target = rng.uniform(0.0, 1.0, (5, 2, 4))
    want, want_x = oracle_gradients(params, x, target)
    truncated = gradients(NET, params, x, target)
    untruncated = gradients(FULL, params, x, target)
    assert _max_difference(*truncated, want, want_x) < 1e-10
    difference = _max_difference(*untruncated, want, want_x)
    assert difference > 1e-6, f"untruncated vs oracle: {difference:.3g}"
    # the forward pass is the same either way: truncation changes gradients only
    np.testing.assert_array_equal(np.asarray(FULL.run(params, x).y), np.asarray(NET.run(params, x).y))


# -- finite differences on the untruncated network ------------------------------------------------

EPS = 1e-6


@given(data=st.data())
def test_finite_differences_untruncated(data):
    params = data.draw(params_for(FULL), label="params")
    x = data.draw(xs(steps=st.integers(1, 4), batch=st.integers(1, 2)), label="x")
    target = np.random.default_rng(data.draw(st.integers(0, 2**16), label="target seed")) \
        .uniform(0.0, 1.0, x.shape[:2] + (4,))
    analytic = FULL.grad(params, x, target)   # mean squared error, the library's loss
    assert set(analytic) == set(FULL.trainable) == set(params)
    a, n, where = [], [], []
    for name in sorted(analytic):
        for index in np.ndindex(params[name].shape):
            shifted = {k: np.array(v, dtype=float) for k, v in params.items()}
            shifted[name][index] += EPS
            plus = FULL.loss(shifted, x, target)
            shifted[name][index] -= 2 * EPS
            minus = FULL.loss(shifted, x, target)
            a.append(float(np.asarray(analytic[name])[index]))
            n.append((plus - minus) / (2 * EPS))
            where.append(f"{name}{list(index)}")
    a, n = np.array(a), np.array(n)
    error = np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))
    worst = int(np.argmax(np.abs(a - n)))
    note(f"relative error {error:.3g}; worst {where[worst]}: {a[worst]!r} vs {n[worst]!r}")
    assert error < 1e-6, (error, where[worst])
    # entry by entry too, above the rounding noise of a central difference (~eps_mach / EPS)
    noise = 64 * np.finfo(float).eps / EPS
    bad = np.abs(a - n) > 1e-6 * np.maximum(np.abs(a), np.abs(n)) + noise
    assert not bad.any(), [where[i] for i in np.flatnonzero(bad)[:5]]
