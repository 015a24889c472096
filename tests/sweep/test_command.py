"""`graphrnn sweep` on the command line (the cluster replaced by running here; test_cluster.py runs Dask)."""
from contextlib import contextmanager

import pytest

from graphrnn.cli import main
from graphrnn.sweep import cluster as sweep_cluster
from graphrnn.sweep import command as sweep_command
from graphrnn.sweep import run as sweep_run


@pytest.fixture
def here(monkeypatch):
    """open_cluster runs the trials in this process; records the arguments it was given."""
    given = []

    @contextmanager
    def fake(scheduler=None, workers=None):
        given.append((scheduler, workers))
        yield sweep_cluster.Cluster(client=None, executor=None, dashboard=None, where="this process")
    monkeypatch.setattr(sweep_cluster, "open_cluster", fake)
    return given


def test_sweep_prints_the_table_and_writes_the_sweep_directory(sweep_file, folder, here, capsys):
    path = sweep_file(count=2, lrs="[0.02]")
    assert main(["sweep", str(path), "--workers", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "sweep tiny: 1 grid point x 2 seeds = 2 trials" in out and "dashboard: none" in out
    assert "| optimizer.lr = 0.02 | 2 |" in out and (folder / "runs/sweeps/tiny/trials.csv").is_file()
    assert here == [(None, 2)]
    assert main(["sweep", "--resume", "runs/sweeps/tiny", "--scheduler", "tcp://x:1", "-q"]) == 0
    assert "0 trials run now, 2 done before" in capsys.readouterr().out and here[-1] == ("tcp://x:1", None)



def test_resume_of_a_sweep_started_with_a_relative_path(sweep_file, folder, here, capsys):
    sweep_file(count=1, lrs="[0.02]")
    assert main(["sweep", "sweep.yaml", "-q", "--out", "s"]) == 0      # experiment: exp.yaml, relative
    assert main(["sweep", "--resume", "s", "-q"]) == 0                   # read back from s/sweep.yaml
    assert "0 trials run now, 1 done before" in capsys.readouterr().out


def test_errors_exit_2_with_a_located_message(sweep_file, folder, here, capsys):
    bad = folder / "bad.yaml"
    bad.write_text("graphrnn: 1\nsweep: x\nexperiment: exp.yaml\nseeds: [0]\ngrid: {optimizer.lr: [0]}\n")
    assert main(["sweep", str(bad)]) == 2
    assert f"{bad}:5:23: error GR311" in capsys.readouterr().err
    assert main(["sweep"]) == 2 and "GR310" in capsys.readouterr().err
    assert main(["sweep", str(bad), "--workers", "2", "--scheduler", "tcp://x:1"]) == 2
    assert "GR310" in capsys.readouterr().err
    assert main(["sweep", "--resume", str(folder)]) == 2 and "GR302" in capsys.readouterr().err


def test_ctrl_c_prints_how_to_resume_and_a_failed_trial_exits_1(sweep_file, folder, here, capsys, monkeypatch):
    path = sweep_file(count=2, lrs="[0.02]")
    real = sweep_run.sweep_trial

    def interrupted(exp, seed, *args):
        if seed == 1:
            raise KeyboardInterrupt
        return real(exp, seed, *args)
    monkeypatch.setattr(sweep_run, "sweep_trial", interrupted)
    assert main(["sweep", str(path), "-q", "--out", "s"]) == 130
    assert "continue with: graphrnn sweep --resume s" in capsys.readouterr().err
    monkeypatch.setattr(sweep_run, "sweep_trial", lambda exp, seed, run_dir, point, values: {
        "point": point, "values": values, "seed": seed, "status": "failed", "solved": False, "solved_at": None,
        "sequences": 0, "updates": 0, "final_loss": None, "seconds": 0.0, "worker": "", "error": "boom",
        "run_dir": run_dir, "curve": []})
    assert main(["sweep", "--resume", "s", "-q"]) == sweep_command.EXIT_FAILED_TRIALS
    assert "trial optimizer.lr=0.02 s1 failed: boom" in capsys.readouterr().err
