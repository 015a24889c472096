"""fused_buffers.py: shared slot buffers: a matmul projection's targets side by side, read as one array."""
import numpy as np

import graphrnn as gr
from graphrnn.runtime import fused, fused_buffers

LSTM = """graphrnn: 1
name: lstm_buffers
inputs: {x: 3}
outputs: {cell.h: 4}
nodes:
  cell: {use: lstm, size: 4}
edges:
  - {from: x, to: cell}
"""


def _stage_and_joint_projection():
    net = gr.loads(LSTM, engine="fused")
    stage = next(s for s in net.plan.stages if s.loop)
    p = next(p for p in stage.delayed if fused_buffers.joint_key(p) is not None)
    return net, stage, p


def test_the_lstm_gates_share_one_buffer_in_column_order():
    _, stage, p = _stage_and_joint_projection()
    views = fused_buffers.slot_buffers(fused_buffers.slot_layout(stage, stage.blocks()), (2,), np.float64, np.zeros)
    joint = views[fused_buffers.joint_key(p)]
    assert joint.shape == (2, p.targets[-1].stop)
    for t in p.targets:
        assert np.shares_memory(views[t.block], joint)
        views[t.block][...] = t.start + 1.0
        assert (joint[:, t.start:t.stop] == t.start + 1.0).all()


def test_joint_and_separate_slots_give_the_same_gradients_bit_for_bit():
    net, stage, p = _stage_and_joint_projection()
    arrays = net.plan.named([np.asarray(a, dtype=np.float64)
                             for a in net.assembler.forward(net.assembler.flatten(net.init(0)))])
    rng = np.random.default_rng(0)
    src = rng.normal(size=(5, 2, arrays[p.weight].shape[0]))
    joint = fused_buffers.slot_buffers(fused_buffers.slot_layout(stage, stage.blocks()), (5, 2), np.float64, np.zeros)
    for t in p.targets:
        joint[t.block][...] = rng.normal(size=joint[t.block].shape)
    separate = {t.block: joint[t.block].copy() for t in p.targets}
    results = []
    for g_slots in (joint, separate):
        g_arrays = {name: np.zeros_like(a) for name, a in arrays.items()}
        g_src = np.zeros_like(src)
        fused.contribute_vjp(p, src, g_slots, arrays, g_arrays, g_src, scratch={})
        results.append((g_arrays[p.weight], g_src))
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
