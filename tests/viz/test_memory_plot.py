"""The NTM memory picture: six panels of one sequence, written as a PNG."""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.viz.memory import plot_memory_use

SPEC = """graphrnn: 1
inputs: {x: 3}
outputs: {y: 3}
nodes:
  ctrl: {size: 4, activation: tanh}
  mem: {op: memory, memory: {slots: 6, width: 2, reads: 1, writes: 1, shifts: 3}}
  y: {size: 3, activation: sigmoid}
edges:
  - {from: x, to: ctrl}
  - {from: mem, to: ctrl, delay: 1}
  - {from: ctrl, to: [mem.read1, mem.write1]}
  - {from: [ctrl, mem], to: y}
"""


def test_plot_memory_use_writes_a_png(tmp_path):
    net = gr.loads(SPEC)
    assert net.ir.nodes["mem"].size == 2, "a memory node without `size:` is reads x width"
    x = np.random.default_rng(0).normal(size=(7, 2, 3))
    trace = net.run(net.init(0), x)
    path = plot_memory_use(trace, x, tmp_path / "memory.png", row=1, steps=5)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    with pytest.raises(KeyError):
        plot_memory_use(trace, x, tmp_path / "other.png", node="ctrl")
