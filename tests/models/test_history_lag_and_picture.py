"""The 20-step-lag task of the 1992 paper, and the picture of what each level reads."""
from __future__ import annotations

import numpy as np

from graphrnn.models import draw_level_inputs, level_inputs
from graphrnn.tasks import make_task

from .helpers import compressor, elman


def test_sequences_are_first_b1_to_b20_first():
    task = make_task("history_lag")
    for seq in task.sequences(0, 6):
        symbols = np.argmax(seq, axis=1)
        assert seq.shape == (22, 22) and symbols[0] in (0, 1) and symbols[-1] == symbols[0]
        assert symbols[1:-1].tolist() == list(range(2, 22))
    batch = task.batch_of([0, 1])
    assert batch.x.shape == (21, 2, 22) and np.array_equal(batch.x[1:], batch.target[:-1])


def test_criterion_needs_the_recall():
    task = make_task("history_lag", lag=3)
    batch = task.batch_of([0, 1])
    assert task.evaluate_outputs(batch, batch.target).solved
    y = batch.target.copy()
    y[-1, :, :2] = 0.5                          # unsure which first symbol came: the recall fails
    verdict = task.evaluate_outputs(batch, y)
    assert not verdict.solved and verdict.metrics["wrong_recalls"] == 2 and verdict.metrics["wrong_steps"] == 2


def test_level_inputs_and_png(tmp_path):
    hc = compressor([elman(3, 3), elman(9, 3, name="q")], 0, 3.0, "argmax", 6)
    x = np.eye(3)[[0, 1, 2, 2, 1, 0]]
    grid = level_inputs(hc, x)
    events = hc.compress_one(x).levels[0]
    assert grid[0].tolist() == [0, 1, 2, 2, 1, 0]
    assert np.flatnonzero(grid[1] >= 0).tolist() == events.times.tolist()
    assert grid[1][events.times].tolist() == np.argmax(events.values, axis=1).tolist()
    path = draw_level_inputs(hc, [x, x[::-1]], tmp_path / "levels.png", names=["a", "b", "c"])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
