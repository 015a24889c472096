"""Killing `graphrnn train` (SIGKILL, at several points) and resuming, again and again, ends
with the parameters and metrics of an uninterrupted run, bit for bit; a second writer of a
run directory is refused while the first one lives."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from graphrnn.train.experiment import load_experiment
from graphrnn.train.runs import METRICS_CSV, METRICS_JSON, PARAMS, RUN_META, load_params, run_trial
from graphrnn.train.runlock import LOCK_FILE, lock_holder

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

# a budget long enough to be killed in (under a second of training), checkpoints every other update
EXPERIMENT = """\
graphrnn: 1
experiment: kill_me
network: net.yaml
engine: fused
task: {name: latch, min_length: 5, max_length: 8, train_size: 20, test_size: 20}
optimizer: {name: adam, lr: 0.02}
train: {sequences: 800, batch: 10, seed: 3, evaluate_every: 100, checkpoint_every: 20, stop_when_solved: false}
"""

# after the process starts: kill when the Nth checkpoint appears (then after DELAY seconds)
# or, for None, DELAY seconds after the start (in the middle of starting up)
KILLS = [(1, 0.0), (None, 0.3), (2, 0.02), (1, 0.005), (None, 0.9), (3, 0.0)]


def graphrnn(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    return subprocess.Popen([sys.executable, "-m", "graphrnn", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def checkpoint_stamp(run_dir: Path):
    try:
        return (run_dir / "checkpoint.npz").stat().st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return None


def kill_at(process, run_dir, checkpoints, delay):
    """Wait for ``checkpoints`` new checkpoints (None: none) or the end, wait ``delay``, SIGKILL."""
    stamp, fresh = checkpoint_stamp(run_dir), 0
    while checkpoints is not None and fresh < checkpoints and process.poll() is None:
        now = checkpoint_stamp(run_dir)
        if now != stamp:
            stamp, fresh = now, fresh + 1
        time.sleep(0.001)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    process.communicate()
    return process.returncode


@pytest.fixture
def folder(net_folder):
    (net_folder / "exp.yaml").write_text(EXPERIMENT)
    return net_folder


def test_kill_and_resume_again_and_again_gives_the_uninterrupted_run(folder):
    full = folder / "whole"
    run_trial(load_experiment(folder / "exp.yaml"), 3, full)       # uninterrupted, in this process

    process = graphrnn("train", "exp.yaml", "--runs-dir", "cut", "-q", cwd=folder)
    while not any((folder / "cut").glob("*/" + RUN_META)):       # its run directory, once it has one
        assert process.poll() is None, process.communicate()
        time.sleep(0.001)
    (run_dir,) = (folder / "cut").iterdir()
    codes = [kill_at(process, run_dir, *KILLS[0])]
    assert lock_holder(run_dir)["pid"] == process.pid          # its lock is left behind, stale
    for checkpoints, delay in KILLS[1:] + [(None, 60.0)]:
        process = graphrnn("train", "--resume", run_dir, "-q", cwd=folder)
        codes.append(kill_at(process, run_dir, checkpoints, delay))
        if codes[-1] == 0:
            break
    print("exit codes, kill by kill:", codes)
    assert codes[-1] == 0 and codes.count(-signal.SIGKILL) >= 4, codes
    assert not (run_dir / LOCK_FILE).exists()
    a, b = load_params(full / PARAMS), load_params(run_dir / PARAMS)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert (full / METRICS_CSV).read_bytes() == (run_dir / METRICS_CSV).read_bytes()
    ja, jb = (json.loads((d / METRICS_JSON).read_text()) for d in (full, run_dir))
    assert ja["history"] == jb["history"] and ja["final"] == jb["final"] and jb["status"] == "finished"
    meta = json.loads((run_dir / RUN_META).read_text())
    assert meta["experiment_file"] == str(folder / "exp.yaml") and meta["sequences"] == 800
