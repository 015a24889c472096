"""The sweep's progress line on stderr: trials done, running, failed and waiting, and an ETA."""
from __future__ import annotations

import math
import sys
import time

__all__ = ["SweepProgress", "duration"]


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class SweepProgress:
    """``total`` trials of which ``already`` were done before this run.  :meth:`finished` counts a
    trial as it ends; :meth:`tick` redraws.  ``slots()`` says how many trials can run at once
    (the cluster's worker threads): the trials running are as many of those not yet done.

    On a terminal the line is redrawn in place; elsewhere a line is printed every
    ``log_every`` seconds and when a trial ends, at most every ``log_every / 10``.  The ETA is
    the wall time per trial ended in this run times the trials left.
    """

    def __init__(self, label: str, total: int, already: int = 0, slots=lambda: 1, stream=None,
                 enabled: bool = True, log_every: float = 30.0):
        self.label, self.total, self.already, self.slots = label, total, already, slots
        self.stream = sys.stderr if stream is None else stream
        self.enabled, self.log_every = enabled, log_every
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.done = self.failed = 0
        self._last = -math.inf
        self._slots = 1

    def finished(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        self.tick(ended=True)

    def line(self) -> str:
        done = self.already + self.done
        left = self.total - done
        running = min(left, self._slots)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * left if self.done else math.nan
        text = (f"{self.label}: {done}/{self.total} trials done, {running} running, {self.failed} failed, "
                f"{left - running} waiting | {duration(elapsed)}")
        return text + (f", ~{duration(eta)} left" if left and self.done else "")

    def tick(self, ended: bool = False) -> None:
        if not self.enabled:
            return
        try:
            self._slots = max(1, int(self.slots()))
        except Exception:           # noqa: BLE001 -- a scheduler that does not answer now: keep the last count
            pass
        now = time.perf_counter()
        if self.tty:
            self.stream.write("\r" + self.line() + "\x1b[K")
        elif now - self._last >= (self.log_every / 10 if ended else self.log_every):
            self.stream.write(self.line() + "\n")
            self._last = now
        else:
            return
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write(("\r" if self.tty else "") + self.line() + ("\x1b[K" if self.tty else "") + "\n")
            self.stream.flush()
