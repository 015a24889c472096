"""Sweeps: the trials of an experiment over seeds and a grid of settings, on a Dask cluster.

    from graphrnn.sweep import load_sweep, open_cluster, run_sweep
    sweep = load_sweep("examples/reproductions/sweeps/reber_short.yaml")   # located errors, GR310-GR313
    with open_cluster(workers=2) as cluster:                          # or scheduler="tcp://host:8786"
        result = run_sweep(sweep, "runs/sweeps/reber_short", executor=cluster.executor, slots=cluster.slots)
    result.summary          # one row per grid point: success fraction, 95% interval, sequences to success

``file``: the sweep file; ``run``: the sweep directory; ``trial``: one trial on a
worker; ``tables``: trials.csv and the summaries; ``pictures``; ``cluster``: Dask;
``command``: ``graphrnn sweep``.  See docs/training.md, Sweeps.
"""
from .cluster import Cluster, open_cluster
from .file import GridPoint, Sweep, load_sweep, loads_sweep, sweep_schema
from .run import SweepResult, run_sweep
from .tables import wilson_interval

__all__ = ["Cluster", "GridPoint", "Sweep", "SweepResult", "load_sweep", "loads_sweep", "open_cluster", "run_sweep",
           "sweep_schema", "wilson_interval"]
