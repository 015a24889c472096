"""The "ours" cells of docs/training.md's reproduction table, from sweep directories.

    python examples/reproductions/table.py runs/sweeps/reber runs/sweeps/elman ...

For each sweep directory (written by ``graphrnn sweep`` or ``run.py``): one line
per grid point and, for a grid, one for all its trials pooled (the papers pool
their data sets), read from ``summary.json`` and ``trials.csv``: solved of
trials within the budget, the success fraction with its 95% Wilson interval,
mean / median / min-max to success, and the trials' summed training time.
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

from graphrnn.sweep.tables import COUNTED, wilson_interval


def _count(value) -> str:
    return f"{value:,.0f}"


def cell(solved_at: list, trials: int, budget, unit: str) -> str:
    """``solved_at``: sequences (or weight sets) to success of the solved trials, of ``trials``."""
    if not trials:
        return "no trials yet"
    low, high = wilson_interval(len(solved_at), trials)
    text = (f"**{len(solved_at)} of {trials}** within {_count(budget)} {unit} "
            f"({len(solved_at) / trials:.0%}, 95% interval {low:.0%}-{high:.0%}, Wilson)")
    if solved_at:
        text += (f"; mean {_count(statistics.mean(solved_at))}, median {_count(statistics.median(solved_at))} "
                 f"({_count(min(solved_at))} to {_count(max(solved_at))})")
    return text


def rows(directory: Path) -> list[str]:
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    with open(directory / "trials.csv", encoding="utf-8", newline="") as handle:
        trials = [t for t in csv.DictReader(handle) if t["status"] in COUNTED]
    unit = "weight sets" if "max_trials" in summary.get("overrides", {}) else "sequences"
    lines = []
    for point in summary["points"]:
        mine = [t for t in trials if t["point"] == point["point"]]
        solved = [int(t["solved_at"]) for t in mine if t["solved"] == "true" and t["solved_at"]]
        seconds = sum(float(t["seconds"] or 0) for t in mine)
        lines.append(f"{summary['sweep']} [{point['point']}]: {cell(solved, len(mine), point['budget'], unit)}; "
                     f"{seconds:,.0f} s of training")
    if len(summary["points"]) > 1:
        solved = [int(t["solved_at"]) for t in trials if t["solved"] == "true" and t["solved_at"]]
        budget = max((p["budget"] for p in summary["points"] if p["budget"]), default=None)
        lines.append(f"{summary['sweep']} [all points]: {cell(solved, len(trials), budget, unit)}; "
                     f"{sum(float(t['seconds'] or 0) for t in trials):,.0f} s of training")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep directories")
    args = parser.parse_args(argv)
    for directory in args.sweeps:
        print("\n".join(rows(directory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
