"""curve.png: the x-axis spans the data, not the budget, and the legend names every series."""
from __future__ import annotations

import numpy as np

from graphrnn.train.history import curve_figure, plot_curve


def history(updates=50, every=10, solved_at=40):
    rows = []
    for k in range(1, updates + 1):
        row = {"update": k, "sequences": 16 * k, "loss": 1.0 / k}
        if k % every == 0:
            row.update({"test_solved": k >= solved_at, "test_wrong": max(0, solved_at - k), "test_of": 100})
        rows.append(row)
    return rows


def legend_labels(fig):
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def test_x_axis_is_fitted_to_the_sequences_seen_not_the_budget():
    rows = history()
    fig = curve_figure(rows, "t", budget=100 * 16 * 50)          # stopped at 1% of the budget
    low, high = fig.axes[0].get_xlim()
    seen = rows[-1]["sequences"]
    assert low == 0 and seen <= high <= 1.05 * seen
    assert "budget 80,000" in fig.axes[0].get_xlabel()


def test_every_series_is_in_the_legend_test_points_included():
    labels = legend_labels(curve_figure(history(), "t"))
    assert any(label.startswith("loss") for label in labels)
    assert any("criterion met" in label for label in labels)
    assert any("criterion not met" in label for label in labels)
    assert any(label.startswith("criterion first met") for label in labels)
    # the marks plotted are exactly those of the legend entries: one scatter per verdict
    fig = curve_figure(history(), "t")
    scatters = [c for ax in fig.axes for c in ax.collections]
    assert sorted(len(c.get_offsets()) for c in scatters) == [2, 3]


def test_a_run_with_no_test_and_no_solution_still_has_a_legend(tmp_path):
    rows = [{"update": k, "sequences": k, "loss": float(np.exp(-k))} for k in range(1, 5)]
    labels = legend_labels(curve_figure(rows))
    assert labels == ["loss (each update)"]
    out = plot_curve(rows, tmp_path / "curve.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
