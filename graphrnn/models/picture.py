"""A picture of which inputs each level of a history compressor receives over time.

One panel per sequence: time runs left to right, level 0 at the bottom; a
labelled box at (t, k) means level k read an input at time step t (its
symbol's name, from ``names``), a small grey dot that it did not run then.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .compressor import HistoryCompressor

__all__ = ["level_inputs", "draw_level_inputs"]


def level_inputs(compressor: HistoryCompressor, sequence) -> np.ndarray:
    """(T, I) -> (K, T) int: the symbol index level k read at time t, or -1 where it did not run."""
    x = np.asarray(sequence, dtype=float)
    out = np.full((len(compressor.levels), len(x)), -1, dtype=int)
    for k, (times, inputs) in enumerate(compressor.level_streams(x)):
        out[k, times] = np.argmax(inputs[:, :compressor.input_size], axis=1)
    return out


def draw_level_inputs(compressor: HistoryCompressor, sequences, path, names=None, titles=None) -> Path:
    """Write a PNG with one panel per (T, I) sequence; ``names[i]`` labels symbol i."""
    import matplotlib
    matplotlib.use("Agg")   # files only: no display needed
    import matplotlib.pyplot as plt

    grids = [level_inputs(compressor, s) for s in sequences]
    K = len(compressor.levels)
    T = max(g.shape[1] for g in grids)
    fig, axes = plt.subplots(len(grids), 1, figsize=(max(6.0, 0.42 * T + 1.5), (0.7 * K + 0.9) * len(grids)),
                             squeeze=False)
    for panel, (ax, grid) in enumerate(zip(axes[:, 0], grids)):
        for k in range(K):
            for t in range(grid.shape[1]):
                symbol = grid[k, t]
                if symbol < 0:
                    ax.plot(t, k, ".", color="0.8", markersize=4)
                    continue
                label = names[symbol] if names is not None else str(symbol)
                ax.text(t, k, label, ha="center", va="center", fontsize=7,
                        bbox={"boxstyle": "round,pad=0.25", "fc": "#ffd28a" if k else "#cfe3ff", "ec": "0.4"})
        ax.set_xlim(-0.7, T - 0.3)
        ax.set_ylim(-0.7, K - 0.3)
        ax.set_yticks(range(K), [f"level {k}" for k in range(K)])
        ax.set_xticks(range(T))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlabel("time step")
        ax.set_title(titles[panel] if titles else f"sequence {panel}: inputs each level receives", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
