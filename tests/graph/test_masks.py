"""Masks: per pair or over all the units a list edge names; masked weights neither act, learn nor count.

Every expected value is computed here in numpy from the parameters (the
oracle); gradients are checked against central differences.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.cli import main
from graphrnn.train.optimizers import Adam

FILE = "masks.yaml"
UNITS = [f"u{i}" for i in range(4, 11)]           # u4..u10, seven size-1 units
RING = np.eye(7, k=1) + np.eye(7, k=-6)           # u_i feeds u_{i+1}, u10 feeds u4
RING[0, 3] = 1.0                                  # and u4 feeds u7


def unit_net(mask) -> gr.Network:
    rows = "\n".join(f"  {u}: {{size: 1, activation: tanh, bias: false}}" for u in UNITS)
    text = textwrap.dedent("""\
        graphrnn: 1
        name: ring
        inputs: {x: 2}
        outputs: {u10: 1}
        nodes:
        """) + rows + textwrap.dedent(f"""
        edges:
          - {{from: x, to: [{', '.join(UNITS)}]}}
          - from: [{', '.join(UNITS)}]
            to: [{', '.join(UNITS)}]
            delay: 1
            mask: {np.asarray(mask, int).tolist()}
        """)
    return gr.loads(text, FILE)


def reference(p, x, mask):
    """The seven units as one 7-vector h: h_t = tanh(x_t W_in + h_{t-1} (W * mask))."""
    w_in = np.hstack([p[f"x->{u}"] for u in UNITS])                    # (2, 7)
    w = np.zeros((7, 7))
    for i, a in enumerate(UNITS):
        for j, b in enumerate(UNITS):
            if mask[i, j]:
                w[i, j] = p[f"{a}->{b}@1"][0, 0]
    h, out = np.zeros((x.shape[1], 7)), []
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ w_in + h @ w)
        out.append(h[:, 6:7])
    return np.array(out)


def test_a_7x7_mask_over_a_list_edge_of_seven_units():
    net = unit_net(RING)
    delayed = [e for e in net.ir.edges if e.delay]
    assert sorted((e.src, e.dst) for e in delayed) == sorted(
        (UNITS[i], UNITS[j]) for i, j in zip(*np.nonzero(RING)))       # one edge per 1 in the mask
    assert all(e.mask is None for e in delayed)                         # each a whole 1x1 edge
    p = net.init(3)
    x = np.random.default_rng(0).normal(size=(5, 2, 2))
    np.testing.assert_allclose(net.run(p, x).y, reference(p, x, RING), rtol=1e-12, atol=1e-12)
    assert net.num_params == 7 * 2 + int(RING.sum())


def test_a_pair_mask_still_applies_to_every_pair():
    net = gr.loads(textwrap.dedent("""\
        graphrnn: 1
        inputs: {x: 2}
        outputs: {a: 2, b: 2}
        nodes:
          a: {size: 2}
          b: {size: 2}
        edges:
          - {from: x, to: [a, b], mask: [[1, 0], [1, 1]]}
        """), FILE)
    assert [np.asarray(e.mask).tolist() for e in net.ir.edges] == [[[1, 0], [1, 1]]] * 2
    assert net.num_params == 2 * 3 + 2 * 2              # 3 of 4 weights per pair, and the biases


def test_a_mask_over_units_of_different_sizes_is_cut_into_blocks():
    net = gr.loads(textwrap.dedent("""\
        graphrnn: 1
        inputs: {x: 1, z: 2}
        outputs: {a: 1, b: 2}
        nodes:
          a: {size: 1}
          b: {size: 2}
        edges:
          - from: [x, z]
            to: [a, b]
            mask: [[1, 0, 1],
                   [0, 0, 0],
                   [1, 1, 0]]
        """), FILE)
    masks = {(e.src, e.dst): None if e.mask is None else np.asarray(e.mask).tolist() for e in net.ir.edges}
    assert masks == {("x", "a"): None, ("x", "b"): [[0, 1]], ("z", "a"): [[0], [1]], ("z", "b"): [[0, 0], [1, 0]]}


def test_a_mask_of_the_wrong_shape_names_both_shapes_it_could_have():
    with pytest.raises(gr.GraphRNNError) as info:
        unit_net(np.ones((6, 7)))
    err = info.value
    assert err.code == "GR112"
    assert "(6, 7)" in err.message and "(1, 1)" in err.message and "(7, 7)" in err.message
    assert str(err).startswith(f"{FILE}:15:5:")                       # the list edge


def test_an_all_zero_mask_is_refused_where_it_is_written():
    with pytest.raises(gr.GraphRNNError) as info:
        unit_net(np.zeros((7, 7)))
    err = info.value
    assert err.code == "GR112" and "all zeros" in err.message
    assert str(err).startswith(f"{FILE}:18:11:")                      # the `mask:` value
    with pytest.raises(gr.GraphRNNError, match="all zeros"):
        gr.loads("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 1}\nnodes:\n  y: {size: 1}\n"
                 "edges:\n  - {from: x, to: y, mask: [[0], [0]]}\n", FILE)


def masked_dense():
    return gr.loads(open_text(), FILE)


def test_masked_weights_are_not_counted():
    net = masked_dense()
    assert net.params["h->h@1"].count == 5
    assert net.num_params == 9 + 3 + 5 + 6 + 2          # x->h, h.bias, h->h@1 (5 of 9), h->y, y.bias


def test_masked_weights_get_zero_gradient_and_stay_fixed_under_training():
    net = masked_dense()
    mask = np.asarray(net.params["h->h@1"].mask) == 0
    rng = np.random.default_rng(1)
    x, target = rng.normal(size=(6, 4, 3)), rng.normal(size=(6, 4, 2))
    p = net.init(0)
    assert np.all(p["h->h@1"][mask] == 0)
    opt = Adam(0.05)
    state = opt.init(p, names=net.trainable)
    for step in range(5):
        g = net.grad(p, x, target)
        assert np.all(g["h->h@1"][mask] == 0)
        p, state = opt.update(p, g, state, step)
    assert np.all(p["h->h@1"][mask] == 0)
    assert not np.allclose(p["h->h@1"][~mask], net.init(0)["h->h@1"][~mask])   # the rest learned


@pytest.mark.parametrize("engine", ["fused", "autograd"])
def test_finite_differences_agree_with_the_masked_gradient(engine):
    net = gr.loads(open_text(), FILE, engine=engine)
    rng = np.random.default_rng(2)
    x, target = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 2, 2))
    p = net.init(5)
    g = net.grad(p, x, target)["h->h@1"]
    eps = 1e-6
    numeric = np.zeros((3, 3))
    for idx in np.ndindex(3, 3):
        plus, minus = {k: v.copy() for k, v in p.items()}, {k: v.copy() for k, v in p.items()}
        plus["h->h@1"][idx] += eps
        minus["h->h@1"][idx] -= eps
        numeric[idx] = (net.loss(plus, x, target) - net.loss(minus, x, target)) / (2 * eps)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)
    assert np.all(numeric[np.asarray(net.params["h->h@1"].mask) == 0] == 0)


def open_text():
    return textwrap.dedent("""\
        graphrnn: 1
        inputs: {x: 3}
        outputs: {y: 2}
        nodes:
          h: {size: 3, activation: tanh}
          y: {size: 2}
        edges:
          - {from: x, to: h}
          - {from: h, to: h, delay: 1, mask: [[1, 1, 0], [0, 1, 1], [0, 0, 1]]}
          - {from: h, to: y}
        """)


def test_show_prints_masks_and_fixed_values(tmp_path, capsys):
    spec = tmp_path / "fixed.yaml"
    spec.write_text(textwrap.dedent("""\
        graphrnn: 1
        inputs: {x: 2}
        outputs: {y: 2}
        nodes:
          h: {size: 2}
          y: {size: 2}
        edges:
          - {from: x, to: h, mask: [[1, 0], [1, 1]]}
          - {from: h, to: y, kind: fixed, weights: [[0.5, -2], [3, 4]]}
          - {from: h, to: h, delay: 1, trainable: false, init: ones}
        """))
    assert main(["show", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "masks and fixed values:" in out
    assert "x -> h: mask 2x2, 3 of 4 weights connected [x->h]" in out
    assert "      1 0\n      1 1" in out
    assert "h -> y: fixed weights, 2x2\n      0.5  -2\n        3   4" in out
    assert "h -> h: frozen [h->h@1], init ones" in out
    assert "1 masked weights are not counted" in out
