"""The assembler: fused arrays from the parameter table, and the gradient back (runtime/assemble.py).

Large dense matrices and vectors are added as blocks, small ones through one
index table; both must give what the index table gives for every placement
(the path every engine test checks), and the backward map must be the
forward map's transpose: <A theta, G> = <theta, A^T G>.
"""
from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.runtime.assemble import Assembler

ROOT = Path(__file__).resolve().parents[2]

# masks (density), a shared matrix placed twice, a fixed (constant) matrix, biases, a diagonal edge
MIXED = """\
graphrnn: 1
name: mixed
inputs: {x: 70}
outputs: {y: 60}
nodes:
  h: {size: 90, activation: tanh}
  g: {size: 90, activation: tanh}
  y: {size: 60}
edges:
  - {from: x, to: h, density: 0.5}
  - {from: h, to: h, delay: 1, share: loop}
  - {from: g, to: g, delay: 1, share: loop}
  - {from: x, to: g, trainable: false, init: 0.25}
  - {from: h, to: g, kind: diagonal}
  - {from: g, to: y}
"""


def nets():
    yield gr.loads(MIXED, "mixed.yaml")
    for name in ("lstm1997_8-4-2x2", "gru_stack", "ntm_copy"):
        path = ROOT / "specs" / f"{name}.yaml"
        if path.exists():
            yield gr.load(path)


@pytest.mark.parametrize("slice_from", [1, 64, 10 ** 9])
def test_blocks_and_index_tables_assemble_the_same_arrays_and_gradients(slice_from, monkeypatch):
    rng = np.random.default_rng(0)
    for net in nets():
        shapes = {n: s.shape for n, s in net.params.items()}
        by_index = Assembler(net.plan.fused, shapes)          # SLICE_FROM as shipped
        monkeypatch.setattr(Assembler, "SLICE_FROM", slice_from)
        mixed = Assembler(net.plan.fused, shapes)
        monkeypatch.undo()
        monkeypatch.setattr(Assembler, "SLICE_FROM", 10 ** 12)
        reference = Assembler(net.plan.fused, shapes)          # every placement by index
        monkeypatch.undo()
        size = int(reference.offsets[-1])
        theta = rng.normal(size=size)
        want = reference.forward(theta)
        for asm in (by_index, mixed):
            for got, expected in zip(asm.forward(theta), want):
                np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)
        cot = [rng.normal(size=a.shape) for a in want]
        g_want = reference.backward(cot, size)
        for asm in (by_index, mixed):
            np.testing.assert_allclose(asm.backward(cot, size), g_want, rtol=1e-13, atol=1e-13)
        # the backward map is the transpose of the forward map (constants aside)
        zero = reference.forward(np.zeros(size))
        lhs = sum(float(np.sum((a - z) * g)) for a, z, g in zip(want, zero, cot))
        assert lhs == pytest.approx(float(theta @ g_want), rel=1e-10)


def test_a_large_dense_edge_is_a_block_not_an_index_table():
    net = gr.loads(MIXED.replace("x: 70", "x: 700"), "wide.yaml")
    asm = net.assembler
    blocked = {(i, first) for i, _, first, _, _, _ in asm._blocks}
    assert blocked, "the 700 x 90 input edges are blocks"
    assert sum(t.size for t in asm.target) < 700 * 90, "no index entry per weight of a block"
