"""On a Dask LocalCluster of 2 worker processes: a worker killed mid-trial changes nothing in the tables."""
import csv
import io
import os
import signal
import threading
import time

import pytest

from graphrnn.sweep import load_sweep, open_cluster, run_sweep

FIXED = ("point", "seed", "status", "solved", "solved_at", "sequences", "updates", "final_loss")


def fixed_rows(folder):
    return [{k: row[k] for k in FIXED} for row in csv.DictReader(io.StringIO((folder / "trials.csv").read_text()))]


def test_a_killed_worker_s_trial_continues_elsewhere_and_the_tables_equal_an_undisturbed_sweep(sweep_file, folder):
    sweep = load_sweep(sweep_file(count=2, lrs="[0.02]",
                                  overrides="{train.sequences: 1000, train.stop_when_solved: false}"))
    run_dirs = [folder / "killed" / "optimizer.lr=0.02" / f"s{seed}" for seed in (0, 1)]
    with open_cluster(workers=2) as cluster:
        assert cluster.slots() == 2
        pids = cluster.client.run(os.getpid)
        env = cluster.client.run(lambda: os.environ.get("OMP_NUM_THREADS"))
        assert set(env.values()) == {"1"}
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.update(result=run_sweep(
            sweep, folder / "killed", executor=cluster.executor, slots=cluster.slots, progress=False,
            pictures=False)))
        thread.start()
        deadline = time.monotonic() + 120
        while not all((d / "checkpoint.npz").is_file() for d in run_dirs):    # both trials under way
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.05)
        busy = [address for address, keys in cluster.client.processing().items() if keys]
        victim = busy[0]
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
    records = outcome["result"].records
    assert all(r["status"] == "finished" for r in records)
    moved = [r for r in records if r["resumed_from"] > 0]
    assert len(moved) == 1 and moved[0]["worker"] != victim    # continued from its checkpoint on another worker
    undisturbed = run_sweep(sweep, folder / "undisturbed", progress=False, pictures=False)
    assert fixed_rows(folder / "killed") == fixed_rows(folder / "undisturbed")
    for seed in (0, 1):
        point = "optimizer.lr=0.02"
        assert (folder / "killed" / point / f"s{seed}" / "metrics.csv").read_bytes() == \
               (folder / "undisturbed" / point / f"s{seed}" / "metrics.csv").read_bytes()
    assert undisturbed.ran == 2


class SlowToClose:
    """A Dask client or cluster whose shutdown times out (workers still busy in a trial)."""

    def __init__(self, *args, **kwargs):
        self.closed = False

    def scheduler_info(self):
        return {"services": {}}

    def get_executor(self, pure):
        return None

    def close(self):
        self.closed = True
        raise TimeoutError("the workers did not stop in time")


def test_an_interrupt_stays_an_interrupt_when_the_cluster_is_slow_to_close(monkeypatch):
    import distributed
    monkeypatch.setattr(distributed, "LocalCluster", SlowToClose)
    monkeypatch.setattr(distributed, "Client", SlowToClose)
    with pytest.raises(KeyboardInterrupt):          # not the TimeoutError of the shutdown
        with open_cluster(workers=1) as cluster:
            raise KeyboardInterrupt
    assert cluster.client.closed
    with open_cluster(workers=1) as cluster:        # a finished sweep is not an error either
        pass
    assert cluster.client.closed
