"""Run a sweep: every trial of every grid point, here or on a Dask cluster, into one folder.

    SWEEP_DIR/
      sweep.yaml              the sweep file it ran
      sweep.json              where it was (its relative paths are relative to that folder)
      trials.csv              one row per trial (graphrnn.sweep.tables)
      summary.csv, summary.json, summary.md     one row per grid point
      solved.png, curves.png  the fraction solved against sequences seen; the learning curves
      <point>/experiment.yaml the grid point's experiment (the file's, with the grid values set)
      <point>/s<seed>/        the trial's run directory (graphrnn.train.runs) + trial.json

The trials go through :func:`graphrnn.train.trials.run_each`, the runner of
``graphrnn train``, with the cluster's executor (:mod:`graphrnn.sweep.cluster`).
A trial already done in SWEEP_DIR (finished or diverged, with the same
experiment) is not run again; an interrupted one continues from its
checkpoint (:func:`graphrnn.sweep.trial.sweep_trial`), which is also how a
trial whose worker died finishes on another worker.  The tables are
rewritten after every trial, so Ctrl-C leaves every finished trial recorded.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from ..atomic import write_atomic
from ..errors import TrainError
from ..train.runs import EXPERIMENT_COPY
from .pictures import CURVES_PNG, SOLVED_PNG, plot_curves, plot_solved
from .progress import SweepProgress
from .tables import COUNTED, write_tables
from .trial import read_record, same_experiment, sweep_trial

__all__ = ["run_sweep", "SweepResult", "SWEEP_COPY", "SWEEP_META", "trial_dir"]

SWEEP_COPY = "sweep.yaml"
SWEEP_META = "sweep.json"


@dataclass
class SweepResult:
    """``directory``; ``records`` (one per trial, in the sweep's order; None for a trial that
    did not end); ``summary`` (one row per grid point); ``ran``: trials run now."""

    directory: Path
    records: list
    summary: list
    ran: int


def trial_dir(directory, point, seed: int) -> Path:
    return Path(directory) / point.label / f"s{seed}"


def _prepare(sweep, directory: Path) -> list:
    """Write the sweep and grid point copies; the experiment of each point, bound to its copy.
    GR312 when the folder holds a grid point run with another experiment."""
    directory.mkdir(parents=True, exist_ok=True)
    experiments = []
    for point in sweep.points:
        copy = directory / point.label / EXPERIMENT_COPY
        if copy.is_file() and not same_experiment(copy.read_text(encoding="utf-8"), point.experiment.text):
            raise TrainError("GR312", f"{copy.parent} holds trials of another experiment than the grid point "
                                      f"`{point.label}` of {sweep.file} now makes",
                             fix="give the sweep another directory (--out DIR), or remove that folder to start over")
        experiments.append(replace(point.experiment, file=str(copy)))
    write_atomic(directory / SWEEP_COPY, sweep.text)
    write_atomic(directory / SWEEP_META, json.dumps({"sweep": sweep.name, "sweep_file": sweep.file,
                                                    "relative_to": sweep.folder}, indent=1) + "\n")
    for point, exp in zip(sweep.points, experiments):
        write_atomic(Path(exp.file), exp.text)
    return experiments


def run_sweep(sweep, directory, *, executor=None, slots=lambda: 1, stream=None, progress: bool = True,
              pictures: bool = True) -> SweepResult:
    """Run the trials of ``sweep`` (graphrnn.sweep.file) not yet done in ``directory``.

    ``executor``: None runs them here one after the other, else a concurrent.futures
    executor (``client.get_executor()`` of a Dask cluster); ``slots()``: how many run at once
    (for the progress line on ``stream``).  A trial that fails is recorded and the rest go
    on.  KeyboardInterrupt passes through after the tables of the trials done are written.
    """
    directory = Path(directory)
    experiments = _prepare(sweep, directory)
    records = [None] * len(sweep.trials)
    position = {(point.label, seed): i for i, (point, seed) in enumerate(sweep.trials)}
    todo = []
    for index, ((point, seed), exp) in enumerate(zip(sweep.trials, [e for e in experiments
                                                                     for _ in sweep.seeds])):
        run_dir = trial_dir(directory, point, seed)
        records[index] = read_record(run_dir, exp.text)
        if records[index] is None:
            todo.append((exp, seed, str(run_dir), point.label, dict(point.values)))
    bar = SweepProgress(f"sweep {sweep.name}", len(records), len(records) - len(todo), slots=slots, stream=stream,
                        enabled=progress)

    def write():
        write_tables(directory, sweep, [r for r in records if r is not None])

    def done(record):
        records[position[record["point"], record["seed"]]] = record
        write()
        bar.finished(record["status"] in COUNTED)

    def failed(index, error):
        exp, seed, run_dir, label, values = todo[index]
        # the worker died too often (distributed.KilledWorker), or the trial could not be sent
        return {"point": label, "values": values, "seed": seed, "status": "failed", "solved": False,
                "solved_at": None, "sequences": 0, "updates": 0, "final_loss": None, "seconds": None,
                "worker": "", "error": f"{type(error).__name__}: {error}", "run_dir": run_dir, "curve": []}

    from ..train.trials import run_each
    write()
    bar.tick()
    try:
        run_each(sweep_trial, todo, executor=executor, on_outcome=done, on_error=failed, tick=bar.tick)
    finally:
        bar.close()
        write()
    finished = [r for r in records if r is not None]
    if pictures and finished:
        plot_solved(sweep.points, finished, directory / SOLVED_PNG)
        plot_curves(sweep.points, finished, directory / CURVES_PNG)
    return SweepResult(directory, records, write_tables(directory, sweep, finished), len(todo))

