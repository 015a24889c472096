"""The sweep directory, run here (no cluster): tables, rerun and resume, failing trials, Ctrl-C."""
import csv
import io
import json

import pytest

from graphrnn.errors import TrainError
from graphrnn.sweep import load_sweep, run_sweep
from graphrnn.sweep import run as sweep_run
from graphrnn.train.runs import METRICS_CSV, run_trial

#: the columns of trials.csv that follow from the seeds alone (not wall time, worker, resumption)
FIXED = ("point", "optimizer.lr", "seed", "status", "solved", "solved_at", "sequences", "updates", "final_loss")


def fixed_rows(folder):
    rows = list(csv.DictReader(io.StringIO((folder / "trials.csv").read_text())))
    return [{k: row[k] for k in FIXED} for row in rows]


def fixed_summary(folder):
    points = json.loads((folder / "summary.json").read_text())["points"]
    return [{k: v for k, v in p.items() if k != "seconds"} for p in points]


def test_a_sweep_writes_its_tables_pictures_and_run_directories(sweep_file, folder):
    sweep = load_sweep(sweep_file(count=2))
    result = run_sweep(sweep, folder / "out", progress=False)
    out = folder / "out"
    assert result.ran == 4 and all(r["status"] == "finished" for r in result.records)
    for name in ("sweep.yaml", "trials.csv", "summary.csv", "summary.json", "summary.md", "solved.png", "curves.png",
                 "optimizer.lr=0.05/experiment.yaml", "optimizer.lr=0.05/s1/metrics.csv",
                 "optimizer.lr=0.05/s1/trial.json"):
        assert (out / name).is_file(), name
    rows = fixed_rows(out)
    assert [(r["point"], r["seed"]) for r in rows] == [("optimizer.lr=0.02", "0"), ("optimizer.lr=0.02", "1"),
                                                      ("optimizer.lr=0.05", "0"), ("optimizer.lr=0.05", "1")]
    # each trial is the trial graphrnn.train.runs.run_trial gives for that experiment and seed
    alone = run_trial(sweep.points[1].experiment, 1, folder / "alone")
    assert (out / "optimizer.lr=0.05/s1" / METRICS_CSV).read_bytes() == (folder / "alone" / METRICS_CSV).read_bytes()
    assert rows[3]["solved"] == ("true" if alone.solved else "false")
    assert rows[3]["sequences"] == str(alone.sequences)
    summary = fixed_summary(out)
    assert [p["trials"] for p in summary] == [2, 2] and summary[1]["values"] == {"optimizer.lr": 0.05}
    assert "optimizer.lr = 0.05" in (out / "summary.md").read_text()


def test_rerun_skips_finished_trials_and_continues_interrupted_ones(sweep_file, folder):
    sweep = load_sweep(sweep_file(count=2))
    whole = run_sweep(sweep, folder / "whole", progress=False, pictures=False)
    # an interrupted sweep: one trial done, one stopped at a checkpoint (150 of 300 sequences), two not begun
    out = folder / "out"
    first = run_sweep(load_sweep(sweep_file(count=1, lrs="[0.02]")), out, progress=False, pictures=False)
    assert first.ran == 1
    run_trial(sweep.points[0].experiment, 1, out / "optimizer.lr=0.02" / "s1", sequences=150)
    again = run_sweep(sweep, out, progress=False, pictures=False)
    assert again.ran == 3
    assert again.records[1]["resumed_from"] == 150
    assert fixed_rows(out) == fixed_rows(folder / "whole") and fixed_summary(out) == fixed_summary(folder / "whole")
    for point in ("optimizer.lr=0.02", "optimizer.lr=0.05"):
        for seed in (0, 1):
            assert (out / point / f"s{seed}" / METRICS_CSV).read_bytes() == \
                   (folder / "whole" / point / f"s{seed}" / METRICS_CSV).read_bytes()
    assert run_sweep(sweep, out, progress=False, pictures=False).ran == 0
    assert whole.ran == 4


def test_a_sweep_directory_of_another_experiment_is_refused(sweep_file, folder):
    run_sweep(load_sweep(sweep_file(count=1, lrs="[0.02]")), folder / "out", progress=False, pictures=False)
    changed = load_sweep(sweep_file(count=1, lrs="[0.02]", overrides="{train.sequences: 100}"))
    with pytest.raises(TrainError) as info:
        run_sweep(changed, folder / "out", progress=False)
    assert info.value.code == "GR312" and "--out" in info.value.fix


def test_a_trial_that_raises_is_recorded_and_the_sweep_goes_on(sweep_file, folder, monkeypatch):
    sweep = load_sweep(sweep_file(count=2, lrs="[0.02]"))
    real = sweep_run.sweep_trial.__globals__["run_trial"]

    def flaky(exp, seed, run_dir, resume, **options):
        if seed == 0:
            raise RuntimeError("a bug in trial 0")
        return real(exp, seed, run_dir, resume, **options)
    monkeypatch.setitem(sweep_run.sweep_trial.__globals__, "run_trial", flaky)
    result = run_sweep(sweep, folder / "out", progress=False, pictures=False)
    bad, good = result.records
    assert bad["status"] == "failed" and "RuntimeError: a bug in trial 0" in bad["error"]
    assert "a bug in trial 0" in (folder / "out/optimizer.lr=0.02/s0/error.txt").read_text()
    assert good["status"] == "finished"
    assert "a bug in trial 0" in (folder / "out/trials.csv").read_text()
    assert result.summary[0]["failed"] == 1 and result.summary[0]["trials"] == 1
    monkeypatch.setitem(sweep_run.sweep_trial.__globals__, "run_trial", real)
    assert run_sweep(sweep, folder / "out", progress=False, pictures=False).ran == 1   # the failed one again
    assert not (folder / "out/optimizer.lr=0.02/s0/error.txt").exists()


def test_a_diverged_trial_counts_as_not_solved(sweep_file, folder):
    sweep = load_sweep(sweep_file(count=1, lrs="[1.0e+6]", overrides="{optimizer.name: sgd}"))
    (folder / "net.yaml").write_text((folder / "net.yaml").read_text().replace(", activation: tanh", ""))
    sweep = load_sweep(sweep_file(count=1, lrs="[1.0e+6]", overrides="{optimizer.name: sgd}"))
    record = run_sweep(sweep, folder / "out", progress=False, pictures=False).records[0]
    assert record["status"] == "diverged" and "GR301" in record["error"] and not record["solved"]


def test_ctrl_c_leaves_the_finished_trials_recorded(sweep_file, folder, monkeypatch):
    sweep = load_sweep(sweep_file(count=2, lrs="[0.02]"))
    real = sweep_run.sweep_trial

    def interrupted(exp, seed, *args):
        if seed == 1:
            raise KeyboardInterrupt
        return real(exp, seed, *args)
    monkeypatch.setattr(sweep_run, "sweep_trial", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, folder / "out", progress=False)
    assert [r["seed"] for r in fixed_rows(folder / "out")] == ["0"]
    monkeypatch.setattr(sweep_run, "sweep_trial", real)
    assert run_sweep(sweep, folder / "out", progress=False, pictures=False).ran == 1


def test_the_progress_line_counts_trials(sweep_file, folder):
    stream = io.StringIO()
    run_sweep(load_sweep(sweep_file(count=2, lrs="[0.02]")), folder / "out", stream=stream, pictures=False)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sweep tiny: 0/2 trials done, 1 running, 0 failed, 1 waiting")
    assert lines[-1].startswith("sweep tiny: 2/2 trials done, 0 running, 0 failed, 0 waiting")
