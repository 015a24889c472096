"""The sweep's tables: one row per trial (``trials.csv``) and one per grid point in the papers'
terms (``summary.csv``, ``summary.json``, ``summary.md``).

A trial *counts* when it trained to its end (``finished``) or diverged (GR301: a
training outcome, not solved); a trial that ``failed`` (an error other than
divergence, or a worker that died too often) is listed with its error and left
out of the success fraction.  The success fraction's 95% interval is the Wilson
score interval (:func:`wilson_interval`), which stays inside [0, 1] and is not
degenerate at 0 of n or n of n, where most reproductions sit.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from ..atomic import write_atomic

__all__ = ["wilson_interval", "summarize_points", "trials_csv", "summary_csv", "summary_markdown",
           "write_tables", "TRIALS_CSV", "SUMMARY_CSV", "SUMMARY_JSON", "SUMMARY_MD", "COUNTED", "INTERVAL"]

TRIALS_CSV = "trials.csv"
SUMMARY_CSV = "summary.csv"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
COUNTED = ("finished", "diverged")
INTERVAL = "Wilson score interval, 95%"
Z95 = 1.959963984540054     # the standard normal's 97.5% quantile


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a success fraction ``successes / trials`` (``(nan, nan)``
    for no trials): the p for which |p̂ - p| <= z sqrt(p (1 - p) / n)."""
    if trials <= 0:
        return math.nan, math.nan
    p, n = successes / trials, trials
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


# -- trials ------------------------------------------------------------------------------------
TRIAL_COLUMNS = ["point", "seed", "status", "solved", "solved_at", "sequences", "updates", "final_loss"]
TAIL_COLUMNS = ["seconds", "resumed_from", "worker", "error", "run_dir"]


def trial_columns(records, grid_paths) -> list[str]:
    """The columns of trials.csv: the point, one per grid path, the outcome, the last test's
    metrics (``final_*``, those any trial has), time, worker, error, run directory."""
    tests = sorted({k for r in records for k in r if k.startswith("final_") and k != "final_loss"})
    return TRIAL_COLUMNS[:1] + list(grid_paths) + TRIAL_COLUMNS[1:] + tests + TAIL_COLUMNS


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def trials_csv(records, grid_paths) -> str:
    """``trials.csv``: one row per trial record (graphrnn.sweep.trial), grid values included."""
    columns = trial_columns(records, grid_paths)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        values = record.get("values", {})
        writer.writerow([_cell(values.get(c) if c in grid_paths else record.get(c)) for c in columns])
    return out.getvalue()


# -- grid points -------------------------------------------------------------------------------
def summarize_points(points, records) -> list[dict]:
    """One summary per grid point (``points``: GridPoints, in order), from the trial records:
    counted trials, solved, the success fraction and its 95% interval, mean / median / min /
    max sequences to success (over the solved trials), failed trials, training seconds."""
    rows = []
    for point in points:
        mine = [r for r in records if r["point"] == point.label]
        counted = [r for r in mine if r["status"] in COUNTED]
        solved = [r["solved_at"] for r in counted if r["solved"] and r["solved_at"] is not None]
        low, high = wilson_interval(len(solved), len(counted))
        rows.append({
            "point": point.label, "values": dict(point.values), "trials": len(counted), "solved": len(solved),
            "failed": len(mine) - len(counted),
            "success_fraction": len(solved) / len(counted) if counted else None,
            "interval_low": None if math.isnan(low) else low, "interval_high": None if math.isnan(high) else high,
            "mean_sequences_to_success": float(np.mean(solved)) if solved else None,
            "median_sequences_to_success": float(np.median(solved)) if solved else None,
            "min_sequences_to_success": min(solved) if solved else None,
            "max_sequences_to_success": max(solved) if solved else None,
            "budget": max((r["budget"] for r in mine if r.get("budget")), default=None),
            "seconds": round(sum(r.get("seconds") or 0.0 for r in mine), 3),
        })
    return rows


SUMMARY_COLUMNS = ["point", "trials", "solved", "failed", "success_fraction", "interval_low", "interval_high",
                   "mean_sequences_to_success", "median_sequences_to_success", "min_sequences_to_success",
                   "max_sequences_to_success", "budget", "seconds"]


def summary_csv(rows, grid_paths) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = SUMMARY_COLUMNS[:1] + list(grid_paths) + SUMMARY_COLUMNS[1:]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row["values"].get(c) if c in grid_paths else row[c]) for c in columns])
    return out.getvalue()


def _shown(path: str, value) -> str:
    """A grid value in the docs' table: a network by its file name."""
    return Path(value).stem if path == "network" and isinstance(value, str) else _cell(value)


def _count(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def summary_markdown(sweep_name: str, rows, grid_paths, unit: str = "sequences") -> str:
    """A table ready for the docs: a row per grid point; ``unit``: what a trial counts until
    success (training sequences; weight sets for random guessing)."""
    head = ["grid point" if grid_paths else "sweep", "trials", "solved", "success (95% CI)",
            f"mean {unit} to success", "median", "min-max", "budget"]
    lines = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)]
    for row in rows:
        name = ", ".join(f"{p} = {_shown(p, row['values'][p])}" for p in grid_paths) if grid_paths else sweep_name
        if row["success_fraction"] is None:
            success = "-"
        else:
            success = (f"{row['success_fraction']:.0%} ({row['interval_low']:.0%}-{row['interval_high']:.0%})")
        solved = f"{row['solved']} of {row['trials']}" + (f" ({row['failed']} failed)" if row["failed"] else "")
        spread = "-" if row["min_sequences_to_success"] is None else \
            f"{row['min_sequences_to_success']:,}-{row['max_sequences_to_success']:,}"
        lines.append(f"| {name} | {row['trials']} | {solved} | {success} | "
                     f"{_count(row['mean_sequences_to_success'])} | {_count(row['median_sequences_to_success'])} | "
                     f"{spread} | {_count(row['budget'])} |")
    lines.append("")
    lines.append("Success: trials whose test criterion held within the budget (for a task with a training "
                 "stop, such as the 1997 experiments': trials that reached it; the test after the stop is in "
                 f"trials.csv) (95% confidence interval: Wilson score); {unit} to success: over the solved trials.")
    return "\n".join(lines) + "\n"


def write_tables(directory, sweep, records, unit: str = "sequences") -> list[dict]:
    """trials.csv, summary.csv, summary.json and summary.md in ``directory`` (atomically) from
    the trial records so far (``sweep``: its name, grid, points, experiment_file, seeds and
    overrides are read); returns the summary rows."""
    directory = Path(directory)
    paths = list(sweep.grid)
    rows = summarize_points(sweep.points, records)
    write_atomic(directory / TRIALS_CSV, trials_csv(records, paths))
    write_atomic(directory / SUMMARY_CSV, summary_csv(rows, paths))
    write_atomic(directory / SUMMARY_JSON, json.dumps({"sweep": sweep.name, "experiment": sweep.experiment_file,
                                                      "seeds": list(sweep.seeds), "overrides": sweep.overrides,
                                                      "interval": INTERVAL, "points": rows}, indent=1) + "\n")
    write_atomic(directory / SUMMARY_MD, summary_markdown(sweep.name, rows, paths, unit))
    return rows
