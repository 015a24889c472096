"""Run directories: every file is written, resume gives the uninterrupted result bit for bit,
NaN stops the run with GR301 and leaves the checkpoint intact."""
import io
import json

import numpy as np
import pytest

from graphrnn.errors import TrainError
from graphrnn.train.experiment import load_experiment
from graphrnn.train.loop import CHECKPOINT, load_checkpoint
from graphrnn.train.runs import (CURVE, EXPERIMENT_COPY, METRICS_CSV, METRICS_JSON, PARAMS, RUN_META,
                                 ProgressBar, load_params, run_trial, success_rate)
from graphrnn.train.trials import run_experiment

@pytest.fixture
def exp_file(net_folder, latch_experiment):
    path = net_folder / "exp.yaml"
    path.write_text(latch_experiment(sequences=300, seed=1))
    return path


def files(run_dir):
    return {p.name for p in run_dir.iterdir() if not p.name.startswith(".")}


def test_a_run_writes_every_file(exp_file, tmp_path):
    exp = load_experiment(exp_file)
    stream = io.StringIO()
    (outcome,), folder = run_experiment(exp, runs_dir=tmp_path / "runs", stream=stream)
    run_dir = outcome.run_dir
    assert run_dir == folder and run_dir.parent == tmp_path / "runs" and run_dir.name.startswith("tiny_latch-s1-")
    assert files(run_dir) == {EXPERIMENT_COPY, RUN_META, CHECKPOINT, METRICS_CSV, METRICS_JSON, CURVE, PARAMS}
    assert (run_dir / EXPERIMENT_COPY).read_text() == exp_file.read_text()
    assert (run_dir / CURVE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((run_dir / METRICS_JSON).read_text())
    assert metrics["status"] == "finished" and metrics["seed"] == 1
    assert len(metrics["history"]) == 30 and metrics["final"]["sequences"] == 300
    assert metrics["final"]["solved"] == outcome.solved
    assert "seconds" in metrics["timing"]
    csv_lines = (run_dir / METRICS_CSV).read_text().splitlines()
    assert csv_lines[0].startswith("update,sequences,loss,")
    assert len(csv_lines) == 31
    params = load_params(run_dir / PARAMS)
    assert set(params) == set(exp.build().net.params)
    for name, value in outcome.params.items():
        assert np.array_equal(params[name], value)
    # the progress bar reported sequences, loss and success
    text = stream.getvalue()
    assert "/300 seq" in text and "loss" in text and "success" in text


def _compare(a, b):
    pa, pb = load_params(a / PARAMS), load_params(b / PARAMS)
    assert pa.keys() == pb.keys()
    for name in pa:
        assert np.array_equal(pa[name], pb[name]), name
    assert (a / METRICS_CSV).read_bytes() == (b / METRICS_CSV).read_bytes()
    ja, jb = (json.loads((d / METRICS_JSON).read_text()) for d in (a, b))
    assert ja["history"] == jb["history"] and ja["final"] == jb["final"]


def test_resume_after_an_interruption_gives_the_uninterrupted_result_bit_for_bit(exp_file, tmp_path):
    exp = load_experiment(exp_file)
    full = run_trial(exp, 1, tmp_path / "full")

    def interrupt(row):
        if row["update"] == 17:          # after the checkpoint at 150 sequences
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run_trial(exp, 1, tmp_path / "cut", on_row=interrupt)
    partial = json.loads((tmp_path / "cut" / METRICS_JSON).read_text())
    assert partial["status"] == "interrupted" and len(partial["history"]) == 17
    assert load_checkpoint(tmp_path / "cut", exp.build().net)[3] == 150
    resumed = run_trial(exp, 1, tmp_path / "cut", resume=True)
    assert resumed.sequences == full.sequences == 300
    _compare(full.run_dir, tmp_path / "cut")


def test_resume_with_a_larger_budget_continues_like_one_long_run(exp_file, tmp_path):
    exp = load_experiment(exp_file)
    run_trial(exp, 1, tmp_path / "long")
    short = run_trial(exp, 1, tmp_path / "short", sequences=100)
    assert short.sequences == 100
    # without a budget, a resumed run keeps the one it was started with: already finished
    assert run_trial(exp, 1, tmp_path / "short", resume=True).sequences == 100
    assert json.loads((tmp_path / "short" / RUN_META).read_text())["sequences"] == 100
    resumed = run_trial(exp, 1, tmp_path / "short", resume=True, sequences=300)
    assert resumed.sequences == 300
    _compare(tmp_path / "long", tmp_path / "short")
    meta = json.loads((tmp_path / "short" / RUN_META).read_text())
    assert meta["sequences"] == 300
    assert meta["budget_changes"] == [{"from": 100, "to": 300, "at_sequences": 100}]


def test_resuming_a_finished_run_changes_nothing(exp_file, tmp_path):
    exp = load_experiment(exp_file)
    first = run_trial(exp, 1, tmp_path / "a")
    before = (tmp_path / "a" / METRICS_CSV).read_bytes(), (tmp_path / "a" / METRICS_JSON).read_text()
    again = run_trial(exp, 1, tmp_path / "a", resume=True)
    assert again.sequences == 300 and (tmp_path / "a" / METRICS_CSV).read_bytes() == before[0]
    # the verdict in the task's own words (a killed run resumed after its last update says the same)
    assert again.verdict == first.verdict and "within" in first.verdict
    assert json.loads(before[1])["final"] == json.loads((tmp_path / "a" / METRICS_JSON).read_text())["final"]


def test_nan_stops_with_gr301_and_leaves_the_checkpoint_intact(net_folder, latch_experiment, tmp_path):
    (tmp_path / "boom.yaml").write_text(latch_experiment(sequences=300, seed=0, diverging=True))
    exp = load_experiment(tmp_path / "boom.yaml")
    with pytest.raises(TrainError) as info:
        run_trial(exp, 0, tmp_path / "boom")
    assert info.value.code == "GR301" and "checkpoint is intact" in info.value.message
    assert info.value.run_dir == tmp_path / "boom"
    params, _, updates, seen, history, _ = load_checkpoint(tmp_path / "boom", exp.build().net)
    assert updates >= 1 and all(np.all(np.isfinite(v)) for v in params.values())
    metrics = json.loads((tmp_path / "boom" / METRICS_JSON).read_text())
    assert metrics["status"] == "diverged" and "GR301" in metrics["error"]
    assert (tmp_path / "boom" / CURVE).is_file()


def test_several_trials_write_a_summary(exp_file, tmp_path):
    exp = load_experiment(exp_file).with_seeds([0, 1])
    outcomes, parent = run_experiment(exp, runs_dir=tmp_path / "runs", sequences=50, progress=False)
    assert [o.seed for o in outcomes] == [0, 1]
    assert {p.name for p in parent.iterdir()} >= {"s0", "s1", "summary.json", "summary.csv", EXPERIMENT_COPY}
    summary = json.loads((parent / "summary.json").read_text())["summary"]
    assert summary["trials"] == 2


def test_success_rate_and_the_progress_line():
    assert success_rate({"train_wrong": 2, "test_wrong": 1, "of": 512}) == pytest.approx(1 - 3 / 512)
    assert success_rate({"wrong": 0, "of": 10, "mse": 0.1}) == 1.0
    assert success_rate({"mean_run": 3.0}) is None
    stream = io.StringIO()
    bar = ProgressBar(100, "demo", stream=stream, log_every=0)
    bar.update({"update": 1, "sequences": 50, "loss": 0.5, "test_wrong": 1, "test_of": 4, "test_solved": 0.0})
    bar.close()
    text = stream.getvalue()
    assert "50/100 seq" in text and "loss 0.5" in text and "success 75.0%" in text


def test_the_command_says_which_budget_a_resumed_run_trains_to(exp_file, tmp_path, capsys):
    from graphrnn.cli import main
    assert main(["train", str(exp_file), "--runs-dir", str(tmp_path / "runs"), "-q", "--sequences", "100"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir)]) == 0             # keeps 100, not the file's 300
    out = capsys.readouterr().out
    assert "budget 100 sequences (as recorded; --sequences N changes it)" in out and "after 100 sequences" in out
    assert main(["train", "--resume", str(run_dir), "--sequences", "200"]) == 0
    out = capsys.readouterr().out
    assert "budget extended from 100 to 200 sequences (--sequences)" in out and "after 200 sequences" in out
    meta = json.loads((run_dir / RUN_META).read_text())
    assert meta["sequences"] == 200 and meta["budget_changes"] == [{"from": 100, "to": 200, "at_sequences": 100}]
    assert json.loads((run_dir / METRICS_JSON).read_text())["schedule"]["sequences"] == 200
    assert main(["train", "--resume", str(run_dir), "--sequences", "150", "-q"]) == 2   # cannot shorten
    assert "has already seen 200 sequences" in capsys.readouterr().err
