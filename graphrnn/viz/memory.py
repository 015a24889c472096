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
    weightings (None: up to the last slot a head gave more than 0.05, unless
    the heads wrapped around the end of the memory: then all).
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..atomic import write_atomic

    records = trace.records[node]
    T = steps or np.asarray(x).shape[0]

    def seq(a):
        return np.asarray(a)[:T, row].T      # (features, T): time along the x axis

    write = seq(records["write1.w"]) if "write1.w" in records else None
    read = seq(records["read1.w"])
    N, first = read.shape[0], 0
    if slots is None:   # the slots the heads really visit (weight > 0.05), as one circular window
        heavy = (read.max(1) if write is None else np.maximum(read.max(1), write.max(1))) > 0.05
        first, slots = _circular_window(heavy)
    panels = [("inputs", seq(x)), ("outputs", seq(trace.y)),
              ("adds", seq(records["write1.add"]) if "write1.add" in records else None),
              ("reads", seq(trace[node])),
              ("write weightings", None if write is None else _window(write, first, slots)),
              ("read weightings", _window(read, first, slots))]
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
        if "weightings" in label:
            ticks = ax.get_yticks()
            ticks = ticks[(ticks >= 0) & (ticks < data.shape[0])]
            ax.set_yticks(ticks, [str(int((first + t) % N)) for t in ticks])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png")
    return write_atomic(path, buffer.getvalue())


def _circular_window(heavy) -> tuple[int, int]:
    """(first slot, number of slots) of the shortest circular window holding every True slot
    (with a slot of margin each side): the complement of the longest circular run of False."""
    N = len(heavy)
    if not heavy.any() or heavy.all():
        return 0, N
    best_len, best_end, run = 0, 0, 0
    for i in range(2 * N):               # twice round, so a run through slot 0 counts whole
        run = 0 if heavy[i % N] else run + 1
        if run > best_len and run <= N:
            best_len, best_end = run, i
    first = (best_end + 1 - 1) % N       # one slot of margin before the window
    return first, min(N, N - best_len + 2)


def _window(w, first: int, count: int):
    """Rows first, first+1, ... (count of them, circularly) of w (N, T)."""
    return np.roll(w, -first, axis=0)[:count]
