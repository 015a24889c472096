"""The timer of bench_core.py and bench_cells.py: the median of ``repeats`` runs after one warm-up."""
from __future__ import annotations

import statistics
import time


def median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
