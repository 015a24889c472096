"""Run directories: train an experiment and leave its metrics, learning curve and parameters.

One trial (one seed) writes one folder::

    runs/<experiment>-s<seed>-<YYYYmmdd-HHMMSS>/
        experiment.yaml   the experiment text it ran (resume reads it back)
        run.json          the seed, the experiment file, the network spec, the budget
        checkpoint.npz    written atomically by the training loop (graphrnn.train.loop)
        metrics.csv       one row per update: update, sequences, loss, test_* after each test
        metrics.json      the same history, the final verdict, the status and the timing
        curve.png         loss against sequences seen, test results marked
        params.npz        the final parameters (written atomically; np.load(allow_pickle=False))

Several trials (``runs: N`` or ``seeds:``, :mod:`graphrnn.train.trials`) write
``runs/<experiment>-<timestamp>/s<seed>/`` each and a ``summary.json`` / ``summary.csv``
beside them.  :func:`run_trial` trains one.  Everything in ``metrics.csv``
and in the ``history`` of ``metrics.json`` follows from the seed alone, so a resumed
run leaves the same files, bit for bit, as an uninterrupted one; only ``timing`` differs.
"""
from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import GraphRNNError, TrainError
from ..atomic import write_atomic
from .history import (evaluation_metrics, evaluation_rows, first_solved_row, json_safe, metrics_csv, plot_curve,
                      success_rate)
from .loop import CHECKPOINT, load_checkpoint, train
from .progress import ProgressBar, format_number

__all__ = ["RunOutcome", "ProgressBar", "run_trial", "new_run_dir", "write_atomic", "save_params",
           "load_params", "success_rate", "plot_curve", "EXPERIMENT_COPY", "RUN_META", "METRICS_CSV",
           "METRICS_JSON", "CURVE", "PARAMS"]

EXPERIMENT_COPY = "experiment.yaml"
RUN_META = "run.json"
METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
CURVE = "curve.png"
PARAMS = "params.npz"


# -- files -------------------------------------------------------------------------------------
def save_params(path, params) -> Path:
    """The parameter dict as an ``.npz`` (one array per name), written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(value) for name, value in params.items()})
    return write_atomic(path, buffer.getvalue())


def load_params(path) -> dict[str, np.ndarray]:
    """The parameters a run wrote (``params.npz``), loaded with ``allow_pickle=False``."""
    with np.load(Path(path), allow_pickle=False) as data:
        return {name: data[name].copy() for name in data.files}


def new_run_dir(runs_dir, name: str, seed: int | None = None, now: datetime | None = None) -> Path:
    """A fresh folder ``runs_dir/<name>[-s<seed>]-<timestamp>`` (``-2``, ``-3`` ... if taken)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{name}-s{seed}-{stamp}" if seed is not None else f"{name}-{stamp}"
    runs_dir = Path(runs_dir)
    candidate, n = runs_dir / base, 1
    while candidate.exists():
        n += 1
        candidate = runs_dir / f"{base}-{n}"
    candidate.mkdir(parents=True)
    return candidate


# -- one trial ---------------------------------------------------------------------------------
@dataclass
class RunOutcome:
    """What one trial left: ``run_dir``, ``seed``, ``status`` (finished | diverged | interrupted),
    ``solved``, ``sequences`` seen, ``solved_at`` (sequences when the criterion first held),
    ``seconds`` of training in this process, ``verdict`` (the last test, in words)."""

    run_dir: Path
    seed: int
    status: str
    solved: bool
    sequences: int
    updates: int
    solved_at: int | None
    seconds: float
    verdict: str = ""
    params: dict | None = field(default=None, repr=False)
    history: list = field(default_factory=list, repr=False)

    def summary(self) -> dict:
        return {"seed": self.seed, "status": self.status, "solved": self.solved,
                "sequences": self.sequences, "solved_at": self.solved_at, "seconds": round(self.seconds, 3),
                "verdict": self.verdict, "run_dir": str(self.run_dir)}


def _finished(history, plan) -> bool:
    if not history:
        return False
    if history[-1]["sequences"] >= plan.sequences:
        return True
    return plan.stop_when_solved and first_solved_row(history, True) is not None


def _write_results(run_dir: Path, exp, seed, plan, history, status, seconds, resumed_from, verdict,
                   error=None, params=None, timing=None) -> None:
    solved_row = first_solved_row(history, plan.stop_when_solved)
    evaluations = evaluation_rows(history)
    last = evaluations[-1] if evaluations else None
    final = {
        "solved": solved_row is not None,
        "solved_at": solved_row["sequences"] if solved_row else None,
        "sequences": history[-1]["sequences"] if history else 0,
        "updates": history[-1]["update"] if history else 0,
        "last_test": evaluation_metrics(last) if last else None,
        "last_test_success_rate": success_rate(evaluation_metrics(last)) if last else None,
        "verdict": verdict,
    }
    doc = {"experiment": exp.name, "seed": seed, "status": status, "network": exp.network_path,
           "task": exp.task, "optimizer": exp.optimizer,
           "schedule": {k: getattr(plan, k) for k in ("sequences", "batch", "seed", "method", "k1", "k2",
                                                     "evaluate_every", "checkpoint_every",
                                                     "stop_when_solved")},
           "loss": f"{exp.loss} (the logged loss is the task's own)" if exp.loss != "task" else "task",
           "final": final, "timing": timing or {"seconds": seconds, "resumed_from": resumed_from},
           "history": history}
    if error is not None:
        doc["error"] = error
    write_atomic(run_dir / METRICS_CSV, metrics_csv(history))
    write_atomic(run_dir / METRICS_JSON, json.dumps(json_safe(doc), indent=1) + "\n")
    if params is not None:
        save_params(run_dir / PARAMS, params)
    verdict_word = {"finished": "solved" if final["solved"] else "not solved"}.get(status, status)
    title = f"{exp.name}, seed {seed}: {verdict_word}"
    if final["solved_at"] is not None:
        title += f" after {final['solved_at']:,} sequences"
    plot_curve(history, run_dir / CURVE, title=title, budget=plan.sequences)


def run_trial(exp, seed: int, run_dir, resume: bool = False, *, sequences: int | None = None,
              progress: bool = False, stream=None, on_row=None) -> RunOutcome:
    """Train one trial of experiment ``exp`` (graphrnn.train.experiment) and write ``run_dir``.

    ``seed``: the trial's seed (one of ``exp.seeds``, or any); ``resume``: continue
    ``run_dir``'s checkpoint (to the same result as an uninterrupted run; a finished
    run is left as it is); ``sequences``: override the budget; ``progress``: draw
    the progress bar on ``stream`` (stderr); ``on_row``: also call it with every
    history row.  A plain function of picklable arguments returning a picklable
    outcome, so trials can run in other processes.

    Raises TrainError GR301 (diverged: metrics are written, the checkpoint is left as it
    was), GR302 (cannot resume); KeyboardInterrupt passes through after the metrics so far
    are written.  The exception carries the trial's ``run_dir``.
    """
    run_dir = Path(run_dir)
    try:
        return _run_trial(exp, int(seed), run_dir, resume, sequences, progress, stream, on_row)
    except (GraphRNNError, KeyboardInterrupt) as err:
        err.run_dir = run_dir
        raise


def _run_trial(exp, seed, run_dir, resume, sequences, progress, stream, on_row) -> RunOutcome:
    setup = exp.build()
    plan = exp.plan(seed, sequences)
    history: list = []
    resumed_from = 0
    if resume:
        if not (run_dir / CHECKPOINT).is_file():
            raise TrainError("GR302", f"no checkpoint in {run_dir}",
                             fix="resume a run directory that `graphrnn train` wrote (it holds checkpoint.npz)")
        history = load_checkpoint(run_dir, setup.net)[4]
        resumed_from = history[-1]["sequences"] if history else 0
    run_dir.mkdir(parents=True, exist_ok=True)
    source = exp.file if exp.file.startswith("<") else str(Path(exp.file).resolve())
    if source == str((run_dir / EXPERIMENT_COPY).resolve()) and (run_dir / RUN_META).is_file():
        # resumed from its own copy: the original file still anchors the copy's relative `network:`
        source = json.loads((run_dir / RUN_META).read_text()).get("experiment_file", source)
    write_atomic(run_dir / EXPERIMENT_COPY, exp.text)
    meta = {"experiment": exp.name, "experiment_file": source, "network": exp.network_path, "seed": seed,
            "sequences": plan.sequences, "engine": setup.net.engine.name, "dtype": exp.dtype}
    write_atomic(run_dir / RUN_META, json.dumps(meta, indent=1) + "\n")

    label = f"{exp.name} s{seed}"
    bar = ProgressBar(plan.sequences, label, stream=stream, start=resumed_from, enabled=progress)
    rows = list(history)

    def callback(row):
        rows.append(dict(row))
        bar.update(row)
        if on_row is not None:
            on_row(row)

    if resume and _finished(history, plan):
        bar.close()
        params = load_checkpoint(run_dir, setup.net)[0]
        verdict = _verdict_from(history)
        _write_results(run_dir, exp, seed, plan, history, "finished", 0.0, resumed_from, verdict,
                       params=params)
        solved_row = first_solved_row(history, True)
        return RunOutcome(run_dir, seed, "finished", solved_row is not None, history[-1]["sequences"],
                          history[-1]["update"], solved_row["sequences"] if solved_row else None, 0.0,
                          verdict, params, history)
    started = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # NaN/inf: GR301 below
            result = train(setup.net, setup.task, setup.optimizer, plan, run_dir=run_dir, resume=resume,
                           progress=callback)
    except GraphRNNError as err:
        bar.close()
        _write_results(run_dir, exp, seed, plan, rows, "diverged" if err.code == "GR301" else "failed",
                       time.perf_counter() - started, resumed_from, "", error=str(err))
        raise
    except KeyboardInterrupt:
        bar.close()
        _write_results(run_dir, exp, seed, plan, rows, "interrupted", time.perf_counter() - started,
                       resumed_from, "", error="interrupted")
        raise
    bar.close()
    seconds = time.perf_counter() - started
    verdict = str(result.evaluation) if result.evaluation is not None else _verdict_from(result.history)
    _write_results(run_dir, exp, seed, plan, result.history, "finished", seconds, resumed_from, verdict,
                   params=result.params)
    solved_row = first_solved_row(result.history, plan.stop_when_solved)
    return RunOutcome(run_dir, seed, "finished", solved_row is not None, result.sequences, result.updates,
                      solved_row["sequences"] if solved_row else None, seconds, verdict, result.params,
                      result.history)


def _verdict_from(history) -> str:
    evaluations = [row for row in history if "test_solved" in row]
    if not evaluations:
        return ""
    last = evaluations[-1]
    metrics = ", ".join(f"{k} {format_number(v)}" for k, v in evaluation_metrics(last).items())
    return f"{'solved' if last['test_solved'] else 'not solved'}: {metrics}"
