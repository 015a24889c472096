"""Paired timing on a shared, noisy machine: contenders interleaved round by round, CPU-time ratios.

Each round runs every contender once (in a fresh random order), each as a
batch of calls long enough to be timed well; per round, the ratio of a
contender's process CPU time to the baseline's is taken, and the median of
those paired ratios is reported beside the wall-time medians.  CPU time is
what the process itself spent, so being descheduled by another job does not
count; pairing within a round cancels slow drifts of the machine's speed.

``one_thread()`` pins numpy's BLAS (through threadpoolctl) and PyTorch to one
thread; ``blas_report()`` says which BLAS library and kernel ran.
"""
from __future__ import annotations

import os
import random
import statistics
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")   # before numpy is imported by anyone


def one_thread() -> str:
    """Pin BLAS and PyTorch to one thread; returns a line describing the BLAS that runs."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    return blas_report()


def blas_report() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (pip install threadpoolctl to see which kernel runs)"
    import numpy  # noqa: F401  (loads the BLAS, so threadpoolctl sees it)
    parts = []
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            parts.append(f"{pool.get('internal_api')} {pool.get('version')} kernel {pool.get('architecture')}"
                         f", {pool.get('num_threads')} thread(s)")
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    return "BLAS: " + ("; ".join(parts) or "none found") + (f" (OPENBLAS_CORETYPE={coretype})" if coretype else "")


class Rounds:
    """Per-round process CPU and wall seconds per call of each contender, from :func:`paired`."""

    def __init__(self, cpu: dict, wall: dict):
        self.cpu, self.wall = cpu, wall

    def ratio(self, a: str, b: str) -> float:
        """Median over rounds of cpu(a) / cpu(b), both taken in the same round."""
        return statistics.median(x / y for x, y in zip(self.cpu[a], self.cpu[b]))

    def spread(self, a: str, b: str) -> tuple[float, float]:
        """The 25th and 75th percentiles of the paired ratios cpu(a) / cpu(b)."""
        ratios = [x / y for x, y in zip(self.cpu[a], self.cpu[b])]
        if len(ratios) < 2:
            return ratios[0], ratios[0]
        q = statistics.quantiles(ratios, n=4)
        return q[0], q[2]

    def cpu_median(self, a: str) -> float:
        return statistics.median(self.cpu[a])

    def wall_median(self, a: str) -> float:
        return statistics.median(self.wall[a])


def _calls_for(fn, target: float) -> int:
    """How many calls make one timed batch of about ``target`` CPU seconds (fn already warm)."""
    start = time.process_time()
    fn()
    once = max(time.process_time() - start, 1e-6)
    return max(1, int(target / once))


def paired(contenders: dict, rounds: int = 15, target: float = 0.05, seed: int = 0) -> Rounds:
    """Time the callables in ``contenders`` ({name: fn}) interleaved, ``rounds`` rounds.

    Every callable runs once as a warm-up first; each then runs as a batch of
    calls of about ``target`` CPU seconds per round, in a shuffled order.
    """
    for fn in contenders.values():
        fn()
    calls = {name: _calls_for(fn, target) for name, fn in contenders.items()}
    cpu = {name: [] for name in contenders}
    wall = {name: [] for name in contenders}
    order = list(contenders)
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            fn, n = contenders[name], calls[name]
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            c1, w1 = time.process_time(), time.perf_counter()
            cpu[name].append((c1 - c0) / n)
            wall[name].append((w1 - w0) / n)
    return Rounds(cpu, wall)
