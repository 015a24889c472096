"""One writer per run directory: ``run.lock`` names the process that holds it.

    with RunLock(run_dir):       # TrainError GR304 while another live process holds it
        ...                      # train, checkpoint, write the metrics

The lock is an exclusive ``flock`` on ``run_dir/run.lock`` (the kernel drops
it when the holder dies, however it dies: SIGKILL, a crash, a power cut of a
local disk), and the file says who holds it: pid, host, start time, so the
refusal can name the first run.  A lock file left behind by a process that
died is stale and is simply taken over.  Where ``fcntl`` does not exist
(Windows) the file alone is the lock: created exclusively, and stale when its
pid no longer runs on this host.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from ..errors import TrainError

try:
    import fcntl
except ImportError:                      # Windows
    fcntl = None

__all__ = ["RunLock", "LOCK_FILE", "lock_holder"]

LOCK_FILE = "run.lock"


def lock_holder(run_dir) -> dict | None:
    """What ``run_dir/run.lock`` says about its holder (pid, host, since), or None."""
    try:
        holder = json.loads((Path(run_dir) / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:              # it exists, under another user
        return True
    except OSError:
        return False
    return True


class RunLock:
    """The exclusive right to write ``run_dir``; a context manager (see the module docstring)."""

    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _record(self) -> bytes:
        return (json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                            "since": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n").encode()

    def _refuse(self, holder: dict | None) -> TrainError:
        who = (f"pid {holder.get('pid')} on host {holder.get('host')} (since {holder.get('since')})"
               if holder else "another process")
        return TrainError("GR304", f"{self.run_dir} is being written by {who}",
                          fix=f"wait for that run to finish or stop it; if it is no longer running (its host "
                              f"went down), delete {self.path}")

    def acquire(self) -> None:
        """Take the lock, or raise TrainError GR304 naming the live process that holds it."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            return self._acquire_by_file()
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._refuse(lock_holder(self.run_dir)) from None
            except OSError:              # a file system without flock (some network mounts)
                os.close(fd)
                return self._acquire_by_file()
            try:                         # the holder before us may have removed the file meanwhile
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, self._record())
        self._fd = fd

    def _acquire_by_file(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                holder = lock_holder(self.run_dir)
                if holder and (holder.get("host") != socket.gethostname() or _pid_alive(holder.get("pid"))):
                    raise self._refuse(holder) from None
                self.path.unlink(missing_ok=True)          # stale: its process is gone
                continue
            os.write(fd, self._record())
            self._fd = fd
            return
        raise self._refuse(lock_holder(self.run_dir))

    def release(self) -> None:
        """Give the lock up and remove ``run.lock`` (idempotent)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None
