"""The progress bar of ``graphrnn train``."""
from __future__ import annotations

import math
import sys
import time

from .history import evaluation_metrics, success_rate

__all__ = ["ProgressBar"]


# -- progress ----------------------------------------------------------------------------------
class ProgressBar:
    """A one-line progress bar on ``stream``: sequences seen of the budget, the running loss,
    the last test's success rate and metrics, elapsed time and an estimate of what is left.

    On a terminal the line is redrawn in place (at most ten times a second); elsewhere
    (a log file, a pipe) a plain line is printed every ``log_every`` seconds, after a
    test already when ``log_every / 10`` have passed, and at the end.
    """

    def __init__(self, total: int, label: str = "", stream=None, start: int = 0, enabled: bool = True,
                 log_every: float = 30.0, width: int = 24):
        self.total, self.label, self.width = total, label, width
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every
        self.start_time = time.perf_counter()
        self.start_seen = start
        self.seen, self.loss, self.test, self.solved = start, None, None, False
        self._last_draw = 0.0
        self._last_log = -math.inf
        self._drawn = False

    def update(self, row: dict) -> None:
        self.seen = row["sequences"]
        loss = row["loss"]
        if math.isfinite(loss):
            self.loss = loss if self.loss is None else 0.98 * self.loss + 0.02 * loss
        evaluated = "test_solved" in row or "history_criterion" in row
        if evaluated:
            self.test = evaluation_metrics(row)
            self.solved = self.solved or bool(row.get("test_solved")) or bool(row.get("history_criterion"))
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            if now - self._last_draw >= 0.1 or evaluated and self.solved:
                self._draw(self.line(), end="")
                self._last_draw = now
        elif now - self._last_log >= (self.log_every / 10 if evaluated else self.log_every):
            self._draw(self.line(), end="\n")
            self._last_log = now

    def line(self) -> str:
        fraction = min(1.0, self.seen / self.total) if self.total else 1.0
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.perf_counter() - self.start_time
        done = self.seen - self.start_seen
        eta = elapsed / done * (self.total - self.seen) if done > 0 else math.nan
        parts = [f"{self.label} [{bar}] {fraction:4.0%} {self.seen:,}/{self.total:,} seq"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4g}")
        if self.test is not None:
            rate = success_rate(self.test)
            shown = ", ".join(f"{k} {format_number(v)}" for k, v in self.test.items() if k != "of")
            parts.append((f"success {rate:.1%} " if rate is not None else "test ") + f"({shown})")
        if self.solved:
            parts.append("SOLVED")
        parts.append(f"{elapsed:.0f} s" + (f", ~{eta:.0f} s left" if math.isfinite(eta) and not self.solved
                                           and self.seen < self.total else ""))
        return " | ".join(parts)

    def _draw(self, text: str, end: str) -> None:
        if self.tty:
            text = "\r" + text + "\x1b[K"
        self.stream.write(text + end)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if not self.enabled:
            return
        if self.tty:
            self._draw(self.line(), end="\n")
        elif self.seen:
            self._draw(self.line(), end="\n")


def format_number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.4g}"
