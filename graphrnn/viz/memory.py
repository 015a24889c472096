"""What an NTM memory node did during one sequence, in the style of Graves et al. 2014, Figure 6.

Left column: the inputs, the write head's add vectors and its weightings
over the memory slots; right column: the outputs, the read vectors and the
read head's weightings.  Time runs left to right in every panel.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

__all__ = ["plot_memory_use"]


def plot_memory_use(trace, x, path, node: str = "mem", row: int = 0, steps: int | None = None,
                    slots: int | None = None, title: str = "") -> Path:
    """Write the six heatmaps of one batch ``row`` to ``path`` (PNG or SVG).

    ``trace`` is ``net.run(params, x)`` of a network with a memory node
    ``node``; ``x`` its (T, B, I) input; ``steps`` cuts the sequence to its
    length (padding dropped); ``slots`` shows only the first slots of the
    weightings (None: all, or the slots any weighting of this row touched
    with more than 1e-3, whichever is fewer rows to show).
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..train.atomic import write_atomic

    records = trace.records[node]
    T = steps or np.asarray(x).shape[0]

    def seq(a):
        return np.asarray(a)[:T, row].T      # (features, T): time along the x axis

    write = seq(records["write1.w"]) if "write1.w" in records else None
    read = seq(records["read1.w"])
    if slots is None:
        used = np.flatnonzero((read > 1e-3).any(1) | ((write > 1e-3).any(1) if write is not None else False))
        slots = int(used.max()) + 1 if used.size else read.shape[0]
    panels = [("inputs", seq(x)), ("outputs", seq(trace.y)),
              ("adds", seq(records["write1.add"]) if "write1.add" in records else None),
              ("reads", seq(trace[node])),
              ("write weightings", None if write is None else write[:slots]), ("read weightings", read[:slots])]
    fig = Figure(figsize=(10, 7.5), dpi=100)
    FigureCanvasAgg(fig)
    for k, (label, data) in enumerate(panels):
        ax = fig.add_subplot(3, 2, k + 1)
        if data is None:
            ax.set_axis_off()
            continue
        cmap = "gray_r" if "weightings" in label else "viridis"
        ax.imshow(data, aspect="auto", interpolation="nearest", cmap=cmap, origin="upper")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("time" if k >= 4 else "")
        ax.set_ylabel("location" if "weightings" in label else "")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png")
    return write_atomic(path, buffer.getvalue())
