"""examples/reproductions/target_errors.py: the wrong sequences of a trained adding or
multiplication run, counted by target band, against a plain per-sequence loop."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from graphrnn.train.experiment import load_experiment
from graphrnn.train.runs import PARAMS, load_params, run_trial

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "reproductions" / "target_errors.py"

# the paper's networks on short sequences (T = 20), trained for a few sequences: enough
# that some sequences are right and some wrong
EXPERIMENT = """\
graphrnn: 1
experiment: short_{task}
network: {network}
task: {{name: {task}, T: 20}}
optimizer: {{name: sgd, lr: 0.5}}
train: {{sequences: 30, batch: 1, seed: 0, evaluate_every: 30, checkpoint_every: 30, stop_when_solved: false}}
"""


def _script():
    spec = importlib.util.spec_from_file_location("target_errors", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task, network", [("adding", "lstm1997_adding.yaml"),
                                           ("multiplication", "lstm1997_multiplication.yaml")])
def test_counts_by_band_match_a_plain_loop(tmp_path, task, network):
    path = tmp_path / "exp.yaml"
    path.write_text(EXPERIMENT.format(task=task, network=ROOT / "specs" / network))
    run_dir = tmp_path / "run"
    run_trial(load_experiment(path), 0, run_dir)

    wrong, counted = _script().wrong_by_band(run_dir, 400, seed=7)

    setup = load_experiment(path).build()
    batch = setup.task.sample(np.random.default_rng(7), 400)
    outputs = setup.task.outputs(setup.net, load_params(run_dir / PARAMS), batch)
    expect_wrong, expect_all = np.zeros(10, int), np.zeros(10, int)
    for b in range(400):
        last = int(np.flatnonzero(batch.mask[:, b])[-1])       # the one step with a target
        target, output = batch.target[last, b, 0], outputs[last, b, 0]
        band = min(int(target * 10), 9)
        expect_all[band] += 1
        expect_wrong[band] += abs(output - target) > 0.04      # the paper's criterion
    assert counted.tolist() == expect_all.tolist()
    assert wrong.tolist() == expect_wrong.tolist()
    assert 0 < wrong.sum() < 400
