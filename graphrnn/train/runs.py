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

Several trials (``runs: N`` or ``seeds:``) write ``runs/<experiment>-<timestamp>/s<seed>/``
each and a ``summary.json`` / ``summary.csv`` beside them.  Everything in ``metrics.csv``
and in the ``history`` of ``metrics.json`` follows from the seed alone, so a resumed
run leaves the same files, bit for bit, as an uninterrupted one; only ``timing`` differs.
"""
from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import GraphRNNError, TrainError
from .atomic import write_atomic
from .loop import CHECKPOINT, load_checkpoint, train

__all__ = ["RunOutcome", "ProgressBar", "train_run", "run_experiment", "new_run_dir", "resume_targets",
           "write_atomic", "save_params", "load_params", "success_rate", "summarize", "plot_curve",
           "EXPERIMENT_COPY", "RUN_META", "METRICS_CSV", "METRICS_JSON", "CURVE", "PARAMS"]

EXPERIMENT_COPY = "experiment.yaml"
RUN_META = "run.json"
METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
CURVE = "curve.png"
PARAMS = "params.npz"
SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"


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


# -- judging a history -------------------------------------------------------------------------
def _wrong_keys(metrics) -> list[str]:
    return [k for k in metrics if k.endswith("wrong") and not k.startswith("symbols")]


def success_rate(metrics) -> float | None:
    """The fraction of test sequences judged correct, from an evaluation's metrics
    (``*wrong`` counts out of ``of``), or None when the task does not report one."""
    metrics = {k[5:] if k.startswith("test_") else k: v for k, v in metrics.items()}
    if "of" not in metrics or not metrics["of"]:
        return None
    wrong = sum(float(metrics[k]) for k in _wrong_keys(metrics))
    total = float(metrics["of"]) + float(metrics.get("test_of", 0.0))
    return max(0.0, 1.0 - wrong / total)


def _test_metrics(row) -> dict:
    return {k[len("test_"):]: v for k, v in row.items() if k.startswith("test_") and k != "test_solved"}


def _evaluations(history) -> list[dict]:
    return [row for row in history if "test_solved" in row or "history_criterion" in row]


def _solved_row(history, stop_when_solved: bool):
    """The first row at which the criterion held (a passed test or a fired history criterion)."""
    for row in history:
        if row.get("history_criterion") or row.get("test_solved"):
            return row
    return None


# -- progress ----------------------------------------------------------------------------------
class ProgressBar:
    """A one-line progress bar on ``stream``: sequences seen of the budget, the running loss,
    the last test's success rate and metrics, elapsed time and an estimate of what is left.

    On a terminal the line is redrawn in place (at most ten times a second); elsewhere
    (a log file, a pipe) a plain line is printed every ``log_every`` seconds, after a
    test already when ``log_every / 10`` have passed, and at the end.
    """

    def __init__(self, total: int, label: str = "", stream=None, start: int = 0, enabled: bool = True,
                 log_every: float = 30.0, width: int = 24):
        self.total, self.label, self.width = total, label, width
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every
        self.start_time = time.perf_counter()
        self.start_seen = start
        self.seen, self.loss, self.test, self.solved = start, None, None, False
        self._last_draw = 0.0
        self._last_log = -math.inf
        self._drawn = False

    def update(self, row: dict) -> None:
        self.seen = row["sequences"]
        loss = row["loss"]
        if math.isfinite(loss):
            self.loss = loss if self.loss is None else 0.98 * self.loss + 0.02 * loss
        evaluated = "test_solved" in row or "history_criterion" in row
        if evaluated:
            self.test = _test_metrics(row)
            self.solved = self.solved or bool(row.get("test_solved")) or bool(row.get("history_criterion"))
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            if now - self._last_draw >= 0.1 or evaluated and self.solved:
                self._draw(self.line(), end="")
                self._last_draw = now
        elif now - self._last_log >= (self.log_every / 10 if evaluated else self.log_every):
            self._draw(self.line(), end="\n")
            self._last_log = now

    def line(self) -> str:
        fraction = min(1.0, self.seen / self.total) if self.total else 1.0
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.start_time
        done = self.seen - self.start_seen
        eta = elapsed / done * (self.total - self.seen) if done > 0 else math.nan
        parts = [f"{self.label} [{bar}] {fraction:4.0%} {self.seen:,}/{self.total:,} seq"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4g}")
        if self.test is not None:
            rate = success_rate(self.test)
            shown = ", ".join(f"{k} {_fmt(v)}" for k, v in self.test.items() if k != "of")
            parts.append((f"success {rate:.1%} " if rate is not None else "test ") + f"({shown})")
        if self.solved:
            parts.append("SOLVED")
        parts.append(f"{elapsed:.0f} s" + (f", ~{eta:.0f} s left" if math.isfinite(eta) and not self.solved
                                           and self.seen < self.total else ""))
        return " | ".join(parts)

    def _draw(self, text: str, end: str) -> None:
        if self.tty:
            text = "\r" + text + "\x1b[K"
        self.stream.write(text + end)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if not self.enabled:
            return
        if self.tty:
            self._draw(self.line(), end="\n")
        elif self.seen:
            self._draw(self.line(), end="\n")


def _fmt(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.4g}"


# -- metrics files -----------------------------------------------------------------------------
def _columns(history) -> list[str]:
    columns = ["update", "sequences", "loss"]
    for row in history:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def metrics_csv(history) -> str:
    """The history as CSV text: one row per update, empty cells where a row has no value;
    numbers as Python's repr, so the file round-trips exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = _columns(history)
    writer.writerow(columns)
    for row in history:
        writer.writerow([repr(row[c]) if isinstance(row.get(c), float) else row.get(c, "") for c in columns])
    return out.getvalue()


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return _json_safe(float(value))
    return value


def plot_curve(history, path, title: str = "", budget: int | None = None) -> Path:
    """The learning curve: the loss of every update (faint) and its running mean against
    sequences seen (log scale), and each test's success rate (or its first metric) as marks
    on a second axis; a vertical line where the criterion first held."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    seqs = np.array([row["sequences"] for row in history], dtype=float)
    loss = np.array([row["loss"] for row in history], dtype=float)
    finite = np.isfinite(loss)
    if len(loss):
        window = max(1, len(loss) // 100)
        smooth_it = window > 1 and bool(finite.all())
        ax.plot(seqs[finite], loss[finite], color="tab:blue", alpha=0.25 if smooth_it else 1.0,
                lw=0.6 if smooth_it else 1.2, label="loss (each update)")
        if smooth_it:
            kernel = np.ones(window) / window
            smooth = np.convolve(loss, kernel, mode="valid")
            ax.plot(seqs[window - 1:], smooth, color="tab:blue", lw=1.5, label=f"running mean ({window} updates)")
        if finite.any() and np.all(loss[finite] > 0):
            ax.set_yscale("log")
            low, high = np.percentile(loss[finite], [1, 100])   # a few tiny losses must not squash the rest
            if low < high:
                ax.set_ylim(low / 2, high * 1.5)
    ax.set_xlabel("sequences seen")
    ax.set_ylabel("training loss")
    if budget:
        ax.set_xlim(0, max(budget, seqs.max() if len(seqs) else 1))
    evaluations = [row for row in history if "test_solved" in row]
    if evaluations:
        ax2 = ax.twinx()
        xs = [row["sequences"] for row in evaluations]
        rates = [success_rate(_test_metrics(row)) for row in evaluations]
        if all(r is not None for r in rates):
            values, label = [100.0 * r for r in rates], "test: sequences correct (%)"
            ax2.set_ylim(-2, 102)
        else:
            key = next(iter(_test_metrics(evaluations[0])), None)
            values = [row.get(f"test_{key}", math.nan) for row in evaluations]
            label = f"test: {key}"
        colors = ["tab:green" if row["test_solved"] else "tab:orange" for row in evaluations]
        ax2.scatter(xs, values, c=colors, s=14, zorder=3)
        ax2.set_ylabel(label + "; green: criterion met")
    solved = _solved_row(history, True)
    if solved is not None:
        ax.axvline(solved["sequences"], color="tab:green", ls="--", lw=1)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return write_atomic(path, buffer.getvalue())


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


def _finished(history, schedule) -> bool:
    if not history:
        return False
    if history[-1]["sequences"] >= schedule.sequences:
        return True
    return schedule.stop_when_solved and _solved_row(history, True) is not None


def _write_results(run_dir: Path, exp, seed, schedule, history, status, seconds, resumed_from, verdict,
                   error=None, params=None, timing=None) -> None:
    solved_row = _solved_row(history, schedule.stop_when_solved)
    evaluations = _evaluations(history)
    last = evaluations[-1] if evaluations else None
    final = {
        "solved": solved_row is not None,
        "solved_at": solved_row["sequences"] if solved_row else None,
        "sequences": history[-1]["sequences"] if history else 0,
        "updates": history[-1]["update"] if history else 0,
        "last_test": _test_metrics(last) if last else None,
        "last_test_success_rate": success_rate(_test_metrics(last)) if last else None,
        "verdict": verdict,
    }
    doc = {"experiment": exp.name, "seed": seed, "status": status, "network": exp.network_path,
           "task": exp.task, "optimizer": exp.optimizer,
           "schedule": {k: getattr(schedule, k) for k in ("sequences", "batch", "seed", "method", "k1", "k2",
                                                         "evaluate_every", "checkpoint_every",
                                                         "stop_when_solved")},
           "loss": f"{exp.loss} (the logged loss is the task's own)" if exp.loss != "task" else "task",
           "final": final, "timing": timing or {"seconds": seconds, "resumed_from": resumed_from},
           "history": history}
    if error is not None:
        doc["error"] = error
    write_atomic(run_dir / METRICS_CSV, metrics_csv(history))
    write_atomic(run_dir / METRICS_JSON, json.dumps(_json_safe(doc), indent=1) + "\n")
    if params is not None:
        save_params(run_dir / PARAMS, params)
    verdict_word = {"finished": "solved" if final["solved"] else "not solved"}.get(status, status)
    title = f"{exp.name}, seed {seed}: {verdict_word}"
    if final["solved_at"] is not None:
        title += f" after {final['solved_at']:,} sequences"
    plot_curve(history, run_dir / CURVE, title=title, budget=schedule.sequences)


def train_run(exp, seed: int | None = None, run_dir=None, runs_dir="runs", resume: bool = False,
              sequences: int | None = None, progress: bool = True, stream=None, on_row=None) -> RunOutcome:
    """Train one trial of experiment ``exp`` (graphrnn.train.experiment) and write its run directory.

    ``seed``: default the experiment's first seed; ``run_dir``: default a new folder under
    ``runs_dir``; ``resume``: continue ``run_dir``'s checkpoint (to the same result as an
    uninterrupted run); ``sequences``: override the budget; ``progress``: draw the
    progress bar on ``stream`` (stderr); ``on_row``: also call it with every history row.

    Raises TrainError GR301 (diverged: metrics are written, the checkpoint is left as it
    was), GR302 (cannot resume); KeyboardInterrupt passes through after the metrics so far
    are written.
    """
    setup = exp.build()
    seed = exp.seeds[0] if seed is None else int(seed)
    schedule = exp.schedule(seed, sequences)
    if run_dir is None:
        if resume:
            raise TrainError("GR302", "resume needs the run directory", fix="pass run_dir=")
        run_dir = new_run_dir(runs_dir, exp.name, seed)
    run_dir = Path(run_dir)
    history: list = []
    resumed_from = 0
    if resume:
        if not (run_dir / CHECKPOINT).is_file():
            raise TrainError("GR302", f"no checkpoint in {run_dir}",
                             fix="resume a run directory that `graphrnn train` wrote (it holds checkpoint.npz)")
        history = load_checkpoint(run_dir, setup.net)[4]
        resumed_from = history[-1]["sequences"] if history else 0
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(run_dir / EXPERIMENT_COPY, exp.text)
    meta = {"experiment": exp.name, "experiment_file": str(Path(exp.file).resolve()) if not exp.file.startswith("<")
            else exp.file, "network": exp.network_path, "seed": seed, "sequences": schedule.sequences,
            "engine": exp.engine, "dtype": exp.dtype}
    write_atomic(run_dir / RUN_META, json.dumps(meta, indent=1) + "\n")

    label = f"{exp.name} s{seed}"
    bar = ProgressBar(schedule.sequences, label, stream=stream, start=resumed_from, enabled=progress)
    rows = list(history)

    def callback(row):
        rows.append(dict(row))
        bar.update(row)
        if on_row is not None:
            on_row(row)

    if resume and _finished(history, schedule):
        bar.close()
        params = load_checkpoint(run_dir, setup.net)[0]
        verdict = _verdict_from(history)
        _write_results(run_dir, exp, seed, schedule, history, "finished", 0.0, resumed_from, verdict,
                       params=params)
        solved_row = _solved_row(history, True)
        return RunOutcome(run_dir, seed, "finished", solved_row is not None, history[-1]["sequences"],
                          history[-1]["update"], solved_row["sequences"] if solved_row else None, 0.0,
                          verdict, params, history)
    started = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # NaN/inf: GR301 below
            result = train(setup.net, setup.task, setup.optimizer, schedule, run_dir=run_dir, resume=resume,
                           progress=callback)
    except GraphRNNError as err:
        bar.close()
        _write_results(run_dir, exp, seed, schedule, rows, "diverged" if err.code == "GR301" else "failed",
                       time.perf_counter() - started, resumed_from, "", error=str(err))
        raise
    except KeyboardInterrupt:
        bar.close()
        _write_results(run_dir, exp, seed, schedule, rows, "interrupted", time.perf_counter() - started,
                       resumed_from, "", error="interrupted")
        raise
    bar.close()
    seconds = time.perf_counter() - started
    verdict = str(result.evaluation) if result.evaluation is not None else _verdict_from(result.history)
    _write_results(run_dir, exp, seed, schedule, result.history, "finished", seconds, resumed_from, verdict,
                   params=result.params)
    solved_row = _solved_row(result.history, schedule.stop_when_solved)
    return RunOutcome(run_dir, seed, "finished", solved_row is not None, result.sequences, result.updates,
                      solved_row["sequences"] if solved_row else None, seconds, verdict, result.params,
                      result.history)


def _verdict_from(history) -> str:
    evaluations = [row for row in history if "test_solved" in row]
    if not evaluations:
        return ""
    last = evaluations[-1]
    metrics = ", ".join(f"{k} {_fmt(v)}" for k, v in _test_metrics(last).items())
    return f"{'solved' if last['test_solved'] else 'not solved'}: {metrics}"


# -- several trials ----------------------------------------------------------------------------
def summarize(outcomes) -> dict:
    """Success fraction and the median / mean sequences to success over trials."""
    solved = [o.solved_at for o in outcomes if o.solved and o.solved_at is not None]
    return {"trials": len(outcomes), "solved": len(solved),
            "success_fraction": len(solved) / len(outcomes) if outcomes else 0.0,
            "median_sequences_to_success": float(np.median(solved)) if solved else None,
            "mean_sequences_to_success": float(np.mean(solved)) if solved else None,
            "seconds": sum(o.seconds for o in outcomes)}


def run_experiment(exp, runs_dir="runs", seeds=None, sequences: int | None = None, progress: bool = True,
                   stream=None) -> tuple[list[RunOutcome], Path]:
    """Every trial of ``exp`` (its ``seeds``, or ``seeds``): one run directory each.

    One trial: ``runs_dir/<experiment>-s<seed>-<timestamp>/``; several:
    ``runs_dir/<experiment>-<timestamp>/s<seed>/`` plus ``summary.json`` and ``summary.csv``
    there.  Returns the outcomes and the folder written.
    """
    seeds = list(exp.seeds if seeds is None else seeds)
    if len(seeds) == 1:
        outcome = train_run(exp, seeds[0], runs_dir=runs_dir, sequences=sequences, progress=progress,
                            stream=stream)
        return [outcome], outcome.run_dir
    parent = new_run_dir(runs_dir, exp.name)
    write_atomic(parent / EXPERIMENT_COPY, exp.text)
    outcomes = []
    for seed in seeds:
        outcomes.append(train_run(exp, seed, run_dir=parent / f"s{seed}", sequences=sequences,
                                  progress=progress, stream=stream))
        write_summary(parent, outcomes)
    return outcomes, parent


def write_summary(parent, outcomes) -> None:
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
