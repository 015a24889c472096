"""Run directories: train an experiment and leave its metrics, learning curve and parameters.

One trial (one seed) writes one folder::

    runs/<experiment>-s<seed>-<YYYYmmdd-HHMMSS>/
        experiment.yaml   the experiment text it ran (resume reads it back)
        run.json          the seed, the experiment file, the network spec, the budget
        checkpoint.npz    written atomically by the training loop (graphrnn.train.checkpoint)
        run.lock          while a process writes the folder: who (graphrnn.train.runlock)
        metrics.csv       one row per update: update, sequences, loss, test_* after each test
        metrics.json      the same history, the final verdict, the status and the timing
        curve.png         loss against sequences seen, test results marked
        params.npz        the final parameters (written atomically; np.load(allow_pickle=False))

Several trials (``runs: N`` or ``seeds:``, :mod:`graphrnn.train.trials`) write
``runs/<experiment>-<timestamp>/s<seed>/`` each and a ``summary.json`` / ``summary.csv``
beside them.  :func:`run_trial` trains one.  Everything in ``metrics.csv``
and in the ``history`` of ``metrics.json`` follows from the seed alone, so a resumed
run leaves the same files, bit for bit, as an uninterrupted one; only ``timing`` differs.

A resumed run keeps the budget in ``run.json`` (the one it was started with, ``--sequences``
included); an explicit ``sequences`` extends it, and run.json records the extension.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import GraphRNNError, TrainError
from ..atomic import write_atomic
from .checkpoint import read_npz, write_npz
from .history import (evaluation_metrics, evaluation_rows, first_solved_row, json_safe, metrics_csv, plot_curve,
                      solved_words, stop_verdict, success_rate)
from .loop import CHECKPOINT, load_checkpoint, train
from .progress import ProgressBar, format_number
from .runlock import RunLock

__all__ = ["RunOutcome", "ProgressBar", "run_trial", "new_run_dir", "write_atomic", "save_params",
           "load_params", "read_run_meta", "resume_budget", "success_rate", "plot_curve", "EXPERIMENT_COPY",
           "RUN_META", "METRICS_CSV", "METRICS_JSON", "CURVE", "PARAMS"]

EXPERIMENT_COPY = "experiment.yaml"
RUN_META = "run.json"
METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
CURVE = "curve.png"
PARAMS = "params.npz"


# -- files -------------------------------------------------------------------------------------
def save_params(path, params) -> Path:
    """The parameter dict as an ``.npz`` (one array per name), written atomically."""
    return write_npz(path, params)


def load_params(path) -> dict[str, np.ndarray]:
    """The parameters a run wrote (``params.npz``), checked as graphrnn.train.checkpoint reads
    checkpoints (GR303 naming the file when it is damaged; nothing unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise TrainError("GR302", f"no parameter file {path}", fix="give the params.npz a run wrote")
    return read_npz(path)


def read_run_meta(run_dir) -> dict:
    """``run_dir/run.json`` ({} when there is none); GR302 when it is not the JSON object a run wrote."""
    path = Path(run_dir) / RUN_META
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        meta = err
    if not isinstance(meta, dict):
        raise TrainError("GR302", f"{path} is damaged: not the JSON object `graphrnn train` writes",
                         fix="restore it, or start the run again")
    return meta


def resume_budget(run_dir, exp, sequences: int | None = None) -> tuple[int, str]:
    """The budget a resumed run of ``run_dir`` trains to, and a note saying why: the one in its
    run.json (else the experiment's), or ``sequences`` when given (an extension)."""
    recorded = read_run_meta(run_dir).get("sequences")
    if isinstance(recorded, bool) or not isinstance(recorded, int) or recorded < 1:
        recorded = exp.plan().sequences
    if sequences is None or sequences == recorded:
        return recorded, f"budget {recorded:,} sequences (as recorded; --sequences N changes it)"
    verb = "extended" if sequences > recorded else "changed"
    return sequences, f"budget {verb} from {recorded:,} to {sequences:,} sequences (--sequences)"


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


def _write_results(run_dir: Path, exp, seed, plan, history, status, seconds, resumed_from, verdict,
                   error=None, params=None, timing=None) -> None:
    solved_row = first_solved_row(history)
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
    verdict_word = {"finished": solved_words(solved_row)}.get(status, status)
    title = f"{exp.name}, seed {seed}: {verdict_word}"
    if final["solved_at"] is not None:
        title += f" after {final['solved_at']:,} sequences"
    plot_curve(history, run_dir / CURVE, title=title, budget=plan.sequences)


def run_trial(exp, seed: int, run_dir, resume: bool = False, *, sequences: int | None = None,
              progress: bool = False, stream=None, on_row=None) -> RunOutcome:
    """Train one trial of experiment ``exp`` (graphrnn.train.experiment) and write ``run_dir``.

    ``seed``: the trial's seed (one of ``exp.seeds``, or any); ``resume``: continue
    ``run_dir``'s checkpoint (to the same result as an uninterrupted run; a finished
    run is left as it is); ``sequences``: the budget (default: the experiment's, or for a
    resumed run the one it recorded; a larger one extends it); ``progress``: draw
    the progress bar on ``stream`` (stderr); ``on_row``: also call it with every
    history row.  A plain function of picklable arguments returning a picklable
    outcome, so trials can run in other processes.  The run directory is locked
    (graphrnn.train.runlock) while the trial writes it.

    Raises TrainError GR301 (diverged: metrics are written, the checkpoint is left as it
    was), GR302 (cannot resume), GR303 (a damaged checkpoint), GR304 (another process is
    writing ``run_dir``); KeyboardInterrupt passes through after the metrics so far are
    written.  The exception carries the trial's ``run_dir`` to resume (not for GR302-GR304).
    """
    run_dir = Path(run_dir)
    if resume and not run_dir.is_dir():
        raise TrainError("GR302", f"no run directory {run_dir}", fix="give a folder that `graphrnn train` wrote")
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        return _run_trial(exp, int(seed), run_dir, resume, sequences, progress, stream, on_row)
    except (GraphRNNError, KeyboardInterrupt) as err:
        if getattr(err, "code", None) not in ("GR302", "GR303"):     # those cannot be resumed
            err.run_dir = run_dir
        raise
    finally:
        lock.release()


def _run_trial(exp, seed, run_dir, resume, sequences, progress, stream, on_row) -> RunOutcome:
    setup = exp.build()
    meta = read_run_meta(run_dir) if resume else {}
    budget = resume_budget(run_dir, exp, sequences)[0] if resume else sequences
    plan = exp.plan(seed, budget)
    history: list = []
    resumed_from = 0
    if resume:
        if not (run_dir / CHECKPOINT).is_file():
            if not meta:
                raise TrainError("GR302", f"no checkpoint in {run_dir}", fix="resume a run directory that "
                                 "`graphrnn train` wrote (it holds checkpoint.npz)")
            resume = False       # killed before its first checkpoint: it starts from the beginning
        else:
            history = load_checkpoint(run_dir, setup.net)[4]
            resumed_from = history[-1]["sequences"] if history else 0
        if resumed_from > plan.sequences:
            raise TrainError("GR302", f"{run_dir} has already seen {resumed_from:,} sequences; a budget of "
                             f"{plan.sequences:,} cannot shorten it",
                             fix=f"give --sequences above {resumed_from:,} to extend the run, or leave it out")
    source = exp.file if exp.file.startswith("<") else str(Path(exp.file).resolve())
    if source == str((run_dir / EXPERIMENT_COPY).resolve()) and meta:
        # resumed from its own copy: the original file still anchors the copy's relative `network:`
        source = meta.get("experiment_file", source)
    record = {"experiment": exp.name, "experiment_file": source, "network": exp.network_path, "seed": seed,
              "sequences": plan.sequences, "engine": setup.net.engine.name, "dtype": exp.dtype}
    changes = list(meta["budget_changes"]) if isinstance(meta.get("budget_changes"), list) else []
    if meta.get("sequences") not in (None, plan.sequences):
        changes.append({"from": meta["sequences"], "to": plan.sequences, "at_sequences": resumed_from})
    if changes:
        record["budget_changes"] = changes
    # run.json first: a run killed between the two writes still knows its experiment file
    write_atomic(run_dir / RUN_META, json.dumps(record, indent=1) + "\n")
    write_atomic(run_dir / EXPERIMENT_COPY, exp.text)

    label = f"{exp.name} s{seed}"
    bar = ProgressBar(plan.sequences, label, stream=stream, start=resumed_from, enabled=progress)
    rows = list(history)

    def callback(row):
        rows.append(dict(row))
        bar.update(row)
        if on_row is not None:
            on_row(row)

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
    solved_row = first_solved_row(result.history)
    verdict = stop_verdict(solved_row, verdict)
    _write_results(run_dir, exp, seed, plan, result.history, "finished", seconds, resumed_from, verdict,
                   params=result.params)
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
