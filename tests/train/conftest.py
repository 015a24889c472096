"""The tiny networks and latch experiment that the training tests write into a folder."""
import pytest

# net.yaml: a small tanh RNN that learns the latch task within a few hundred sequences
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

# linear.yaml: no activations and every weight 1.0, so a huge learning rate makes it diverge
LINEAR_NET = """\
graphrnn: 1
name: linear
inputs: {x: 1}
outputs: {y: 1}
nodes:
  h: {size: 3}
  y: {size: 1}
edges:
  - {from: x, to: h, init: 1.0}
  - {from: h, to: h, delay: 1, init: 1.0}
  - {from: h, to: y, init: 1.0}
"""

# the train mapping is line 6 and spans two lines: tests locate errors in it
LATCH_EXPERIMENT = """\
graphrnn: 1
experiment: tiny_latch
network: {network}
task: {{name: latch, min_length: 5, max_length: 8, train_size: 20, test_size: 20}}
optimizer: {optimizer}
train: {{sequences: {sequences}, batch: 10, seed: {seed}, evaluate_every: 50, checkpoint_every: {checkpoint_every},
        stop_when_solved: false}}
"""


@pytest.fixture
def net_folder(tmp_path):
    """``tmp_path`` holding net.yaml (:data:`TINY_NET`) and linear.yaml (:data:`LINEAR_NET`)."""
    (tmp_path / "net.yaml").write_text(TINY_NET)
    (tmp_path / "linear.yaml").write_text(LINEAR_NET)
    return tmp_path


@pytest.fixture
def latch_experiment():
    """``latch_experiment(sequences, seed, ...)``: the text of a tiny latch experiment file.

    ``diverging=True`` trains linear.yaml with SGD at lr 1e6 and checkpoints
    every 10 sequences, so the run stops with GR301 after a checkpoint.
    """
    def text(sequences: int, seed: int, diverging: bool = False) -> str:
        if diverging:
            return LATCH_EXPERIMENT.format(network="linear.yaml", optimizer="{name: sgd, lr: 1.0e+6}",
                                           sequences=sequences, seed=seed, checkpoint_every=10)
        return LATCH_EXPERIMENT.format(network="net.yaml", optimizer="{name: adam, lr: 0.02}",
                                       sequences=sequences, seed=seed, checkpoint_every=50)
    return text
