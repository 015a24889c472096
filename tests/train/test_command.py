"""`graphrnn train` through graphrnn.train.command: exit codes, messages, run directories, resume."""
import argparse
import json

import numpy as np
import pytest

from graphrnn.train.command import add_train_parser
from graphrnn.train.runs import METRICS_CSV, METRICS_JSON, PARAMS, load_params

def main(*argv) -> int:
    parser = argparse.ArgumentParser(prog="graphrnn")
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_parser(commands)
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture
def folder(net_folder, latch_experiment):
    (net_folder / "exp.yaml").write_text(latch_experiment(sequences=200, seed=0))
    return net_folder


def only_run(runs):
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    return run_dir


def test_train_writes_a_run_directory_and_prints_the_verdict(folder, capsys):
    assert main("train", folder / "exp.yaml", "--runs-dir", folder / "runs") == 0
    out, err = capsys.readouterr()
    run_dir = only_run(folder / "runs")
    assert run_dir.name.startswith("tiny_latch-s0-")
    assert "seed 0:" in out and str(run_dir) in out
    assert "/200 seq" in err and "loss" in err          # the progress bar, on stderr
    assert {METRICS_CSV, METRICS_JSON, PARAMS, "curve.png", "checkpoint.npz"} <= {p.name for p in run_dir.iterdir()}


def test_quiet_and_seed(folder, capsys):
    assert main("train", folder / "exp.yaml", "--runs-dir", folder / "runs", "--seed", "5", "--quiet") == 0
    out, err = capsys.readouterr()
    assert err == "" and "seed 5:" in out
    assert only_run(folder / "runs").name.startswith("tiny_latch-s5-")


def test_resume_through_the_command_matches_an_uninterrupted_run(folder, capsys):
    assert main("train", folder / "exp.yaml", "--runs-dir", folder / "a", "-q") == 0
    # a run cut short by a smaller budget, then resumed with the experiment's full budget
    assert main("train", folder / "exp.yaml", "--runs-dir", folder / "b", "-q", "--sequences", "100") == 0
    cut = only_run(folder / "b")
    assert json.loads((cut / METRICS_JSON).read_text())["final"]["sequences"] == 100
    assert main("train", folder / "exp.yaml", "--resume", cut, "-q", "--sequences", "200") == 0
    full = only_run(folder / "a")
    for name, value in load_params(full / PARAMS).items():
        assert np.array_equal(load_params(cut / PARAMS)[name], value)
    assert (full / METRICS_CSV).read_bytes() == (cut / METRICS_CSV).read_bytes()
    capsys.readouterr()


def test_resume_reads_the_experiment_copy(folder, capsys):
    assert main("train", folder / "exp.yaml", "--runs-dir", folder / "a", "-q") == 0
    run_dir = only_run(folder / "a")
    assert main("train", "--resume", run_dir) == 0
    out, _ = capsys.readouterr()
    assert f"resuming {run_dir}" in out


def test_a_bad_experiment_prints_a_located_error_and_exits_2(folder, capsys):
    (folder / "bad.yaml").write_text((folder / "exp.yaml").read_text().replace("evaluate_every", "evalute_every"))
    assert main("train", folder / "bad.yaml", "--runs-dir", folder / "runs") == 2
    out, err = capsys.readouterr()
    assert "bad.yaml:6:" in err and "error GR103" in err and "did you mean `evaluate_every`?" in err
    assert "Traceback" not in err + out
    assert not (folder / "runs").exists()


def test_nan_exits_2_with_gr301_and_a_resumable_run_directory(folder, latch_experiment, capsys):
    (folder / "boom.yaml").write_text(latch_experiment(sequences=200, seed=0, diverging=True))
    assert main("train", folder / "boom.yaml", "--runs-dir", folder / "runs", "-q") == 2
    out, err = capsys.readouterr()
    assert "error GR301 (training diverged)" in err and "the last checkpoint is intact" in err
    assert "Traceback" not in err
    run_dir = only_run(folder / "runs")
    assert f"graphrnn train --resume {run_dir}" in err
    assert (run_dir / "checkpoint.npz").is_file()


def test_usage_errors_exit_2(folder, capsys):
    assert main("train") == 2
    assert "name an experiment file" in capsys.readouterr().err
    (folder / "empty").mkdir()
    assert main("train", "--resume", folder / "empty") == 2
    assert "error GR302" in capsys.readouterr().err
    assert main("train", folder / "missing.yaml") == 2
    assert "error GR114" in capsys.readouterr().err


def test_resume_refuses_another_seed(folder, capsys):
    assert main("train", folder / "exp.yaml", "--runs-dir", folder / "a", "-q", "--sequences", "50") == 0
    run_dir = only_run(folder / "a")
    assert main("train", "--resume", run_dir, "--seed", "3") == 2
    assert "error GR302" in capsys.readouterr().err


def test_an_interrupted_trial_names_its_run_directory_and_exits_130(folder, capsys, monkeypatch):
    import graphrnn.train.runs as runs

    def interrupted(*args, progress, **kwargs):
        progress({"update": 1, "sequences": 10, "loss": 0.5})
        raise KeyboardInterrupt
    monkeypatch.setattr(runs, "train", interrupted)
    assert main("train", folder / "exp.yaml", "--runs-dir", folder / "runs", "-q") == 130
    err = capsys.readouterr().err
    run_dir = only_run(folder / "runs")
    assert f"the metrics so far are in {run_dir}; continue with: graphrnn train --resume {run_dir}" in err
    assert json.loads((run_dir / METRICS_JSON).read_text())["status"] == "interrupted"


# n_seq above the window of 2000: the training stop fires once 2000 sequences are seen; max_wrong 0:
# the test after it fails
STOPPED_EXPERIMENT = """\
graphrnn: 1
experiment: stop_then_fail
engine: fused
network: marked.yaml
task: {name: multiplication, T: 20, n_seq: 2001, max_wrong: 0, test_size: 20}
optimizer: {name: sgd, lr: 1.0e-9}
train: {sequences: 4000, batch: 500, seed: 0, evaluate_every: 4000}
"""


def test_a_run_that_reaches_the_training_stop_but_fails_the_test_says_both(net_folder, capsys):
    tmp_path = net_folder   # the tiny net with the task's two inputs
    (tmp_path / "marked.yaml").write_text((tmp_path / "net.yaml").read_text().replace("{x: 1}", "{x: 2}"))
    (tmp_path / "exp.yaml").write_text(STOPPED_EXPERIMENT)
    assert main("train", tmp_path / "exp.yaml", "--runs-dir", tmp_path / "runs", "-q") == 0
    out, _ = capsys.readouterr()
    assert "seed 0: reached the training stop after 2,000 sequences" in out, out
    assert "training stop reached; the test after it: not solved: wrong" in out, out
    final = json.loads((only_run(tmp_path / "runs") / METRICS_JSON).read_text())["final"]
    assert final["solved"] and final["solved_at"] == 2000
    assert final["verdict"].startswith("training stop reached; the test after it: not solved"), final
