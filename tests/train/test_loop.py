"""The training loop: it learns, resumes to the same result, and stops cleanly on NaN."""
from dataclasses import dataclass

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.train import SGD, Adam
from graphrnn.train import loop
from graphrnn.train.loop import CHECKPOINT, TrainingPlan, load_checkpoint, train

SPEC = """graphrnn: 1
inputs: {x: 1}
outputs: {y: 1}
nodes:
  h: {size: 4, activation: tanh}
  y: {size: 1, activation: sigmoid}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1}
  - {from: h, to: y}
"""


@dataclass(frozen=True)
class Batch:
    x: np.ndarray
    target: np.ndarray
    mask: np.ndarray

    @property
    def size(self):
        return self.x.shape[1]


@dataclass(frozen=True)
class Verdict:
    solved: bool
    metrics: dict

    def __bool__(self):
        return self.solved


class RememberFirst:
    """Output, at the last of 4 steps, whether the first input was positive."""

    loss = "bce"

    def sample(self, rng, batch):
        first = rng.integers(0, 2, batch)
        x = np.zeros((4, batch, 1))
        x[0, :, 0] = 2.0 * first - 1.0
        x[1:, :, 0] = rng.normal(0, 0.1, (3, batch))
        target = np.zeros((4, batch, 1))
        target[-1, :, 0] = first
        mask = np.zeros((4, batch))
        mask[-1] = 1.0
        return Batch(x, target, mask)

    def outputs(self, net, params, batch):
        return net.run(params, batch.x).y

    def monitor(self):
        return None

    def success(self, net, params, rng):
        batch = self.sample(rng, 64)
        y = net.run(params, batch.x).y[-1, :, 0]
        wrong = int(np.sum((y > 0.5) != (batch.target[-1, :, 0] > 0.5)))
        return Verdict(wrong == 0, {"wrong": wrong})


def test_the_loop_learns_a_small_task():
    net = gr.loads(SPEC)
    result = train(net, RememberFirst(), Adam(lr=0.05), TrainingPlan(sequences=3000, batch=16, evaluate_every=320))
    assert result.solved, result
    assert result.history[-1]["test_wrong"] == 0


@pytest.mark.parametrize("first_rows", [loop.FIRST_ROWS, 2])     # 2: the later rows average windows
def test_resume_continues_to_the_same_result(tmp_path, monkeypatch, first_rows):
    monkeypatch.setattr(loop, "FIRST_ROWS", first_rows)
    net, task = gr.loads(SPEC), RememberFirst()
    plan = TrainingPlan(sequences=160, batch=8, evaluate_every=80, checkpoint_every=40, stop_when_solved=False)
    whole = train(net, task, Adam(lr=0.01), plan, run_dir=tmp_path / "whole")
    half = TrainingPlan(**{**plan.__dict__, "sequences": 80})
    train(net, task, Adam(lr=0.01), half, run_dir=tmp_path / "resumed")
    resumed = train(net, task, Adam(lr=0.01), plan, run_dir=tmp_path / "resumed", resume=True)
    assert resumed.updates == whole.updates == 20
    for name in whole.params:
        np.testing.assert_array_equal(resumed.params[name], whole.params[name])
    assert resumed.history == whole.history


def test_after_the_first_rows_a_row_holds_the_mean_loss_of_its_window(monkeypatch):
    """FIRST_ROWS 3: updates 1-3 a row each, then windows of 10 (rows at 10, 20), and a row at each
    test (7, 14, 21) and at the end (25); each row's loss is the mean of the per-update losses
    of a run that logs every update (the same run: same parameters)."""
    net, task = gr.loads(SPEC), RememberFirst()
    plan = TrainingPlan(sequences=200, batch=8, evaluate_every=56, stop_when_solved=False)
    every = train(net, task, Adam(lr=0.01), plan).history
    monkeypatch.setattr(loop, "FIRST_ROWS", 3)
    windowed = train(net, task, Adam(lr=0.01), plan)
    assert [row["update"] for row in every] == list(range(1, 26))
    assert [row["update"] for row in windowed.history] == [1, 2, 3, 7, 10, 14, 20, 21, 25]
    start = 0
    for row in windowed.history:
        losses = [r["loss"] for r in every[start:row["update"]]]
        assert row["loss"] == pytest.approx(np.mean(losses), rel=1e-14)
        assert row.get("loss_updates", 1) == len(losses)
        tested = every[row["update"] - 1]
        assert {k: v for k, v in row.items() if k.startswith("test_")} == \
            {k: v for k, v in tested.items() if k.startswith("test_")}
        start = row["update"]
    assert loop.loss_window(3) == 1 and loop.loss_window(4) == 10 and loop.loss_window(31) == 100


def test_a_run_that_goes_on_after_solving_is_not_checkpointed_at_every_update(tmp_path, monkeypatch):
    saved = []
    monkeypatch.setattr(loop, "save_checkpoint", lambda *args: saved.append(args[4]))   # sequences seen
    net, task = gr.loads(SPEC), RememberFirst()
    plan = TrainingPlan(sequences=3000, batch=16, evaluate_every=320, checkpoint_every=1600,
                        stop_when_solved=False)
    result = train(net, task, Adam(lr=0.05), plan, run_dir=tmp_path)
    solved_at = next(row["sequences"] for row in result.history if row.get("test_solved"))
    assert solved_at < 1600
    assert saved == [solved_at, 1600, 3000]


class PoisonedAfter(RememberFirst):
    """The same task, but from the 4th batch on a target is NaN (a NaN input is refused: GR202)."""

    def sample(self, rng, batch):
        out = super().sample(rng, batch)
        self.drawn = getattr(self, "drawn", 0) + 1
        if self.drawn > 3:
            out.target[-1, 0, 0] = np.nan
        return out


def test_nan_stops_training_and_keeps_the_last_checkpoint(tmp_path):
    net, task = gr.loads(SPEC), PoisonedAfter()
    plan = TrainingPlan(sequences=64, batch=8, checkpoint_every=8, evaluate_every=0)
    with pytest.raises(gr.TrainError) as info:
        train(net, task, SGD(lr=0.1), plan, run_dir=tmp_path)
    before = load_checkpoint(tmp_path, net)
    assert before[2] == 3    # three good updates were checkpointed, the fourth never applied
    assert info.value.code == "GR301" and "checkpoint" in info.value.message
    for name in before[0]:
        assert np.all(np.isfinite(before[0][name]))
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT]   # no temporary files left behind


def test_resume_without_a_checkpoint_is_refused(tmp_path):
    with pytest.raises(gr.TrainError) as info:
        train(gr.loads(SPEC), RememberFirst(), SGD(lr=0.1), TrainingPlan(sequences=8), run_dir=tmp_path, resume=True)
    assert info.value.code == "GR302"


def test_resuming_a_solved_run_does_not_train_further(tmp_path):
    net, task = gr.loads(SPEC), RememberFirst()
    plan = TrainingPlan(sequences=3000, batch=16, evaluate_every=320, checkpoint_every=320)
    first = train(net, task, Adam(lr=0.05), plan, run_dir=tmp_path)
    assert first.solved
    again = train(net, task, Adam(lr=0.05), plan, run_dir=tmp_path, resume=True)
    assert again.solved and again.sequences == first.sequences


def test_checkpoint_has_the_usual_file_mode(tmp_path):
    import os
    net = gr.loads(SPEC)
    train(net, RememberFirst(), SGD(lr=0.1), TrainingPlan(sequences=8, batch=8, evaluate_every=0), run_dir=tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / CHECKPOINT).stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_continual_task_is_not_solved_by_its_first_training_error():
    from graphrnn.tasks import make_task
    net = gr.load("lstm1997_reber")
    task = make_task("continual_embedded_reber", length=20, test_streams=2, max_symbols=200, chunk=100)
    result = train(net, task, SGD(lr=1e-9), TrainingPlan(sequences=2, batch=1, evaluate_every=0))
    assert not result.solved and result.sequences == 2, "an untrained net makes errors: not solved"


def test_tree_tasks_train_in_the_same_loop(tmp_path):
    from graphrnn.tasks import make_task
    net = gr.load("recursive")
    task = make_task("boolean_expressions", train_depths=(1, 2), test_depths=(3, 3), test_size=20)
    plan = TrainingPlan(sequences=64, batch=16, evaluate_every=32, checkpoint_every=32)
    first = train(net, task, Adam(lr=0.02), plan, run_dir=tmp_path)
    tests = [row for row in first.history if "test_solved" in row]
    assert len(tests) == 2 and {"test_depth1", "test_depth3", "test_train_wrong"} <= set(tests[0])
    again = train(net, task, Adam(lr=0.02), plan, run_dir=tmp_path, resume=True)
    for name in first.params:
        np.testing.assert_array_equal(again.params[name], first.params[name])
