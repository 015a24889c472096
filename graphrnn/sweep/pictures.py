"""The sweep's pictures: the fraction of trials solved against sequences seen (``solved.png``,
one line per grid point) and the learning curves overlaid (``curves.png``)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from .tables import COUNTED

__all__ = ["plot_solved", "plot_curves", "solved_fraction", "SOLVED_PNG", "CURVES_PNG"]

SOLVED_PNG = "solved.png"
CURVES_PNG = "curves.png"


def solved_fraction(records, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """The step function (sequences, fraction of the counted trials solved by then), from 0 to
    ``budget``: one step up at each trial's ``solved_at``."""
    counted = [r for r in records if r["status"] in COUNTED]
    times = sorted(r["solved_at"] for r in counted if r["solved"] and r["solved_at"] is not None)
    x = np.array([0] + [t for t in times for _ in (0, 1)] + [budget], dtype=float)
    y = np.array([0.0] + [v for i in range(len(times)) for v in (i, i + 1)] + [len(times)], dtype=float)
    return x, y / max(1, len(counted))


def _label(point) -> str:
    return ", ".join(f"{k}={Path(v).stem if k == 'network' else v}" for k, v in point.values.items()) or "all"


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return write_atomic(path, buffer.getvalue())


def plot_solved(points, records, path) -> Path:
    """``solved.png``: for each grid point, the fraction of its trials solved after s sequences."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    budget = max([r.get("budget") or r.get("sequences") or 1 for r in records] or [1])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for point in points:
        mine = [r for r in records if r["point"] == point.label]
        if mine:
            x, y = solved_fraction(mine, budget)
            ax.plot(x, y, label=f"{_label(point)} ({sum(r['status'] in COUNTED for r in mine)} trials)")
    ax.set(xlabel="training sequences seen", ylabel="fraction of trials solved", ylim=(-0.02, 1.02),
           xlim=(0, budget), title="trials solved after s sequences")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, Path(path))


def _smooth(loss: np.ndarray) -> np.ndarray:
    window = max(1, len(loss) // 100)
    if window == 1:
        return loss
    kernel = np.ones(window) / window
    return np.convolve(loss, kernel, mode="valid")


def plot_curves(points, records, path) -> Path:
    """``curves.png``: every trial's loss against sequences seen (a running mean over 1% of its
    updates), coloured by grid point, solved trials drawn solid and the others dashed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, point in enumerate(points):
        colour = colours[index % len(colours)]
        first = True
        for record in (r for r in records if r["point"] == point.label and r.get("curve")):
            curve = np.asarray(record["curve"], dtype=float)
            loss = _smooth(curve[:, 1])
            x = curve[len(curve) - len(loss):, 0]
            ax.plot(x, loss, color=colour, alpha=0.6, lw=0.9, ls="-" if record["solved"] else "--",
                    label=_label(point) if first else None)
            first = False
    ax.set(xlabel="training sequences seen", ylabel="training loss (running mean)",
           title="learning curves (solid: solved, dashed: not solved)")
    if any(r.get("curve") for r in records) and all(
            np.all(np.asarray(r["curve"], dtype=float)[:, 1] > 0) for r in records if r.get("curve")):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, Path(path))
