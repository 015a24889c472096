"""Several trials: run an experiment for N seeds (or resume its runs) and summarise the outcomes.

    trials, folder = new_trials(exp, seeds=[0, 1, 2], runs_dir="runs")   # the run directories
    outcomes = run_trials(trials, folder)                                # one run_trial each
    summarize(outcomes)        # success fraction, median and mean sequences to success

A :class:`Trial` is the picklable (experiment, seed, run directory, resume)
that :func:`graphrnn.train.runs.run_trial` takes; :func:`run_each` maps any
such function over trials, one after the other here or on any
``concurrent.futures`` executor (a Dask cluster's: ``graphrnn sweep``,
graphrnn.sweep), and reports each outcome as it comes: it is the one trials
runner of ``graphrnn train``, the sweeps and the example scripts.
:func:`summarize` reads any outcomes with ``solved``, ``solved_at`` and
``seconds`` (random guessing's too).

One trial writes ``runs_dir/<experiment>-s<seed>-<timestamp>/``; several
write ``runs_dir/<experiment>-<timestamp>/s<seed>/`` each, the experiment
copy and ``summary.json`` / ``summary.csv`` (rewritten after every trial)
there.  :func:`resumed_trials` finds the trials ``--resume PATH`` continues.
"""
from __future__ import annotations

import csv
import io
import json
from concurrent.futures import FIRST_COMPLETED, wait
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..atomic import write_atomic
from ..errors import TrainError
from .experiment import loads_experiment
from .loop import CHECKPOINT
from .runs import EXPERIMENT_COPY, RUN_META, new_run_dir, read_run_meta, run_trial

__all__ = ["Trial", "new_trials", "resumed_trials", "run_trials", "run_experiment", "run_each", "summarize",
           "write_summary", "resume_targets", "SUMMARY_JSON", "SUMMARY_CSV"]

SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"


class Trial(NamedTuple):
    """The arguments of :func:`graphrnn.train.runs.run_trial` for one trial."""

    experiment: object
    seed: int
    run_dir: Path
    resume: bool = False


def run_each(trial, arguments, *, executor=None, on_outcome=None, on_error=None, tick=None,
             tick_seconds: float = 1.0) -> list:
    """``[trial(*args) for args in arguments]``, calling ``on_outcome(outcome)`` as each comes.

    ``executor``: None runs the trials here, one after the other; any
    ``concurrent.futures.Executor`` runs them there (a ``ProcessPoolExecutor``, or a Dask
    cluster's ``client.get_executor()``: graphrnn.sweep), reported as they finish, returned in
    the order of ``arguments`` (``trial`` and ``arguments`` must pickle).  ``on_error(index,
    error)``: the outcome to record for a trial that raised, and the rest goes on; without it
    the first error cancels the trials not yet started and is raised.  ``tick()`` is called
    every ``tick_seconds`` while trials run elsewhere (a progress line).  Ctrl-C cancels the
    trials not yet finished and passes through.
    """
    arguments = [tuple(args) for args in arguments]
    outcomes: list = [None] * len(arguments)

    def report(index, outcome):
        outcomes[index] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    def failed(index, error):
        if on_error is None:
            raise error
        report(index, on_error(index, error))

    if executor is None:
        for index, args in enumerate(arguments):
            try:
                outcome = trial(*args)
            except Exception as error:      # noqa: BLE001 -- handed to on_error, or raised
                failed(index, error)
            else:
                report(index, outcome)
        return outcomes
    futures = {executor.submit(trial, *args): index for index, args in enumerate(arguments)}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=tick_seconds, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=futures.get):
                index = futures.pop(future)     # no reference left: a Dask worker frees the result
                try:
                    outcome = future.result()
                except Exception as error:  # noqa: BLE001
                    failed(index, error)
                else:
                    report(index, outcome)
            if tick is not None:
                tick()
    finally:
        for future in pending:          # after an error or Ctrl-C the trials not yet finished stop
            future.cancel()
    return outcomes


def new_trials(exp, seeds=None, runs_dir="runs") -> tuple[list[Trial], Path]:
    """Fresh run directories for the trials of ``exp`` (its ``seeds``, or ``seeds``) and the
    folder they are in: the one run directory for one seed, else the parent of ``s<seed>/``."""
    seeds = [int(s) for s in (exp.seeds if seeds is None else seeds)]
    if len(seeds) == 1:
        run_dir = new_run_dir(runs_dir, exp.name, seeds[0])
        return [Trial(exp, seeds[0], run_dir)], run_dir
    parent = new_run_dir(runs_dir, exp.name)
    write_atomic(parent / EXPERIMENT_COPY, exp.text)
    return [Trial(exp, seed, parent / f"s{seed}") for seed in seeds], parent


def run_trials(trials, folder=None, *, sequences: int | None = None, progress: bool = True, stream=None,
               executor=None, on_outcome=None) -> list:
    """Run every :class:`Trial` (see :func:`graphrnn.train.runs.run_trial` for ``sequences``,
    ``progress`` and ``stream``; :func:`run_each` for ``executor``); with several trials, keep
    ``folder``'s summary up to date.  Returns the RunOutcomes in order; a trial's error stops
    the rest."""
    trials = list(trials)
    options = {"sequences": sequences, "progress": progress, **({"stream": stream} if stream is not None else {})}
    outcomes = []

    def done(outcome):
        outcomes.append(outcome)
        if folder is not None and len(trials) > 1:
            write_summary(folder, sorted(outcomes, key=lambda o: o.seed))
        if on_outcome is not None:
            on_outcome(outcome)
    return run_each(partial(run_trial, **options), trials, executor=executor, on_outcome=done)


def run_experiment(exp, runs_dir="runs", seeds=None, *, sequences: int | None = None, progress: bool = True,
                   stream=None, executor=None, on_outcome=None) -> tuple[list, Path]:
    """Every trial of ``exp`` (its ``seeds``, or ``seeds``) in fresh run directories
    (:func:`new_trials`); returns the outcomes and the folder written."""
    trials, folder = new_trials(exp, seeds, runs_dir)
    return run_trials(trials, folder, sequences=sequences, progress=progress, stream=stream,
                      executor=executor, on_outcome=on_outcome), folder


def resumed_trials(path, experiment=None, seed: int | None = None) -> list[Trial]:
    """The trials ``graphrnn train --resume PATH`` continues (:func:`resume_targets`), each with
    the experiment copy it holds (or ``experiment``) and the seed it was started with.

    A trial that has no checkpoint yet starts from the beginning.  TrainError GR302 when a
    folder holds no run, no copy of its experiment, or ``seed`` is not the trial's.
    """
    trials = []
    for run_dir in resume_targets(path):
        meta = read_run_meta(run_dir)
        exp = experiment
        if exp is None:
            copy = run_dir / EXPERIMENT_COPY
            if not copy.is_file():
                raise TrainError("GR302", f"{run_dir} holds no copy of its experiment ({EXPERIMENT_COPY})",
                                 fix="name the experiment file too: graphrnn train EXPERIMENT --resume RUN_DIR")
            original = meta.get("experiment_file", "")
            base = Path(original).parent if original and not original.startswith("<") else run_dir
            exp = loads_experiment(copy.read_text(encoding="utf-8"), str(copy), base_dir=base)
        trial_seed = meta.get("seed", exp.seeds[0] if seed is None else seed)
        if seed is not None and seed != trial_seed:
            raise TrainError("GR302", f"{run_dir} was trained with seed {trial_seed}, not {seed}",
                             fix="drop --seed when resuming (a run continues with its own seed)")
        has_checkpoint = (run_dir / CHECKPOINT).is_file()
        if not has_checkpoint and not meta:
            raise TrainError("GR302", f"no checkpoint in {run_dir}",
                             fix="resume a run directory that `graphrnn train` wrote (it holds checkpoint.npz)")
        trials.append(Trial(exp, trial_seed, run_dir, has_checkpoint))
    return trials


def resume_targets(path) -> list[Path]:
    """The run directories ``--resume PATH`` continues: PATH itself when it holds a run
    (run.json or a checkpoint), else its ``s<seed>`` sub-folders (a several-trial run)."""
    path = Path(path)
    if not path.is_dir():
        raise TrainError("GR302", f"no run directory {path}", fix="give a folder that `graphrnn train` wrote")
    if (path / RUN_META).is_file() or (path / CHECKPOINT).is_file():
        return [path]
    subs = sorted((p for p in path.iterdir() if p.is_dir() and (p / RUN_META).is_file()),
                  key=lambda p: p.name)
    if not subs:
        raise TrainError("GR302", f"no checkpoint in {path}",
                         fix="resume a run directory that `graphrnn train` wrote (it holds checkpoint.npz)")
    return subs


# -- the summary -------------------------------------------------------------------------------
def summarize(outcomes) -> dict:
    """Success fraction and the median / mean sequences (or guessing trials) to success over
    outcomes that have ``solved``, ``solved_at`` and ``seconds``."""
    solved = [o.solved_at for o in outcomes if o.solved and o.solved_at is not None]
    return {"trials": len(outcomes), "solved": len(solved),
            "success_fraction": len(solved) / len(outcomes) if outcomes else 0.0,
            "median_sequences_to_success": float(np.median(solved)) if solved else None,
            "mean_sequences_to_success": float(np.mean(solved)) if solved else None,
            "seconds": sum(o.seconds for o in outcomes)}


def write_summary(parent, outcomes) -> None:
    """``summary.json`` (the summary and one row per trial) and ``summary.csv`` in ``parent``."""
    rows = [o.summary() for o in outcomes]
    write_atomic(Path(parent) / SUMMARY_JSON, json.dumps({"summary": summarize(outcomes), "trials": rows},
                                                         indent=1) + "\n")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ["seed", "status", "solved", "solved_at", "sequences", "seconds", "verdict"]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] if row[c] is not None else "" for c in columns])
    write_atomic(Path(parent) / SUMMARY_CSV, out.getvalue())
