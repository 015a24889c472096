"""A training history (one dict per logged row, graphrnn.train.loop) judged and written out:
success rates, the metrics CSV, JSON-safe values and the learning-curve figure."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from ..atomic import write_atomic

__all__ = ["success_rate", "metrics_csv", "plot_curve"]


# -- judging a history -------------------------------------------------------------------------
def wrong_keys(metrics) -> list[str]:
    return [k for k in metrics if k.endswith("wrong") and not k.startswith("symbols")]


def success_rate(metrics) -> float | None:
    """The fraction of test sequences judged correct, from an evaluation's metrics
    (``*wrong`` counts out of ``of``), or None when the task does not report one."""
    metrics = {k[5:] if k.startswith("test_") else k: v for k, v in metrics.items()}
    if "of" not in metrics or not metrics["of"]:
        return None
    wrong = sum(float(metrics[k]) for k in wrong_keys(metrics))
    total = float(metrics["of"]) + float(metrics.get("test_of", 0.0))
    return max(0.0, 1.0 - wrong / total)


def evaluation_metrics(row) -> dict:
    return {k[len("test_"):]: v for k, v in row.items() if k.startswith("test_") and k != "test_solved"}


def evaluation_rows(history) -> list[dict]:
    return [row for row in history if "test_solved" in row or "history_criterion" in row]


def first_solved_row(history):
    """The first row at which the criterion held: where the task's training stop fired (a
    history criterion, as the 1997 experiments count sequences, even when a periodic test
    passed before it), else the first passed test."""
    for key in ("history_criterion", "test_solved"):
        for row in history:
            if row.get(key):
                return row
    return None


def solved_words(row) -> str:
    """How a run's first solved row (:func:`first_solved_row`) reads: a task's training stop (the
    1997 experiments' rule, judged on the training history) "reached the training stop", a passed
    test "solved", none "not solved"."""
    if row is None:
        return "not solved"
    return "reached the training stop" if row.get("history_criterion") else "solved"


def stop_verdict(row, verdict: str) -> str:
    """``verdict`` (the last test, in words) prefixed, for a run that reached its task's training
    stop, with that fact: the test after the stop is judged on its own and may fail."""
    if row is not None and row.get("history_criterion"):
        return f"training stop reached; the test after it: {verdict}" if verdict else "training stop reached"
    return verdict


# -- metrics files -----------------------------------------------------------------------------
def history_columns(history) -> list[str]:
    columns = ["update", "sequences", "loss"]
    for row in history:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def metrics_csv(history) -> str:
    """The history as CSV text: one line per row, empty cells where a row has no value;
    numbers as Python's repr, so the file round-trips exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = history_columns(history)
    writer.writerow(columns)
    for row in history:
        writer.writerow([repr(row[c]) if isinstance(row.get(c), float) else row.get(c, "") for c in columns])
    return out.getvalue()


def json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return json_safe(float(value))
    return value


def curve_figure(history, title: str = "", budget: int | None = None):
    """The learning curve: the loss of every row (faint; a row is one update, or the mean of
    several in a long run) and its running mean against sequences seen (log scale), and each
    test's success rate (or its first metric) as marks
    on a second axis; a vertical line where the criterion first held.  The x-axis spans the
    sequences seen (not the budget, which the axis label gives), and one legend names every
    series, the test marks included.  Returns the matplotlib Figure."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(8, 5.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    seqs = np.array([row["sequences"] for row in history], dtype=float)
    loss = np.array([row["loss"] for row in history], dtype=float)
    finite = np.isfinite(loss)
    if len(loss):
        window = max(1, len(loss) // 100)
        smooth_it = window > 1 and bool(finite.all())
        per_row = max((row.get("loss_updates", 1) for row in history), default=1)
        ax.plot(seqs[finite], loss[finite], color="tab:blue", alpha=0.25 if smooth_it else 1.0,
                lw=0.6 if smooth_it else 1.2,
                label="loss (each update)" if per_row == 1 else f"loss (mean of up to {per_row} updates a row)")
        if smooth_it:
            kernel = np.ones(window) / window
            smooth = np.convolve(loss, kernel, mode="valid")
            ax.plot(seqs[window - 1:], smooth, color="tab:blue", lw=1.5, label=f"running mean ({window} rows)")
        if finite.any() and np.all(loss[finite] > 0):
            ax.set_yscale("log")
            low, high = np.percentile(loss[finite], [1, 100])   # a few tiny losses must not squash the rest
            if low < high:
                ax.set_ylim(low / 2, high * 1.5)
    ax.set_xlabel("sequences seen")
    ax.set_ylabel("training loss")
    if len(seqs):
        ax.set_xlim(0, max(float(seqs.max()), 1.0) * 1.03)
    if budget:
        ax.set_xlabel(f"sequences seen (budget {budget:,})")
    handles, top = [], ax
    evaluations = [row for row in history if "test_solved" in row]
    if evaluations:
        ax2 = top = ax.twinx()     # the legend goes on the top axes, over the test marks
        xs = [row["sequences"] for row in evaluations]
        rates = [success_rate(evaluation_metrics(row)) for row in evaluations]
        if all(r is not None for r in rates):
            values, label = [100.0 * r for r in rates], "test: sequences correct (%)"
            ax2.set_ylim(-2, 102)
        else:
            key = next(iter(evaluation_metrics(evaluations[0])), None)
            values = [row.get(f"test_{key}", math.nan) for row in evaluations]
            label = f"test: {key}"
        for met, color in ((True, "tab:green"), (False, "tab:orange")):
            picked = [(x, v) for x, v, row in zip(xs, values, evaluations) if bool(row["test_solved"]) == met]
            if picked:
                handles.append(ax2.scatter(*zip(*picked), c=color, s=14, zorder=3,
                                           label=f"{label}, criterion {'met' if met else 'not met'}"))
        ax2.set_ylabel(label)
    solved = first_solved_row(history)
    if solved is not None:
        ax.axvline(solved["sequences"], color="tab:green", ls="--", lw=1,
                   label=f"criterion first met ({solved['sequences']:,} sequences)")
    lines, _ = ax.get_legend_handles_labels()
    if lines or handles:
        # below the axes: inside, it would cover the curve or the test marks
        top.legend(handles=lines + handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
                   fontsize=8, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_curve(history, path, title: str = "", budget: int | None = None) -> Path:
    """Write :func:`curve_figure` as a PNG to ``path`` (atomically)."""
    fig = curve_figure(history, title, budget)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return write_atomic(path, buffer.getvalue())
