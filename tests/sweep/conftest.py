"""A tiny latch experiment and sweep files over it, written into a folder."""
import pytest

TINY_NET = """\
graphrnn: 1
name: tiny
inputs: {x: 1}
outputs: {y: 1}
nodes:
  h: {size: 3, activation: tanh}
  y: {size: 1, activation: tanh}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1}
  - {from: h, to: y}
"""

# the fused engine: a fresh process need not load numba's compiled loops (tests/train covers `compiled`)
EXPERIMENT = """\
graphrnn: 1
experiment: tiny_latch
network: net.yaml
engine: fused
task: {name: latch, min_length: 5, max_length: 8, train_size: 20, test_size: 20}
optimizer: {name: adam, lr: 0.02}
train: {sequences: 300, batch: 10, seed: 0, evaluate_every: 50, checkpoint_every: 50}
"""

# line 6 is the grid's lr list: tests locate errors in it
SWEEP = """\
graphrnn: 1
sweep: tiny
experiment: exp.yaml
seeds: {{start: 0, count: {count}}}
grid:
  optimizer.lr: {lrs}
overrides: {overrides}
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """``tmp_path`` (also the current folder) with net.yaml and exp.yaml."""
    (tmp_path / "net.yaml").write_text(TINY_NET)
    (tmp_path / "exp.yaml").write_text(EXPERIMENT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def sweep_file(folder):
    """``sweep_file(count=2, lrs="[0.02, 0.05]", overrides="{}", name="sweep.yaml")``: writes a sweep file."""
    def write(count=2, lrs="[0.02, 0.05]", overrides="{}", name="sweep.yaml"):
        path = folder / name
        path.write_text(SWEEP.format(count=count, lrs=lrs, overrides=overrides))
        return path
    return write
