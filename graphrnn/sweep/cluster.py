"""Where a sweep's trials run: an embedded Dask ``LocalCluster`` or an existing Dask cluster.

    with open_cluster(workers=2) as cluster:          # or open_cluster(scheduler="tcp://host:8786")
        run_sweep(sweep, folder, executor=cluster.executor, slots=cluster.slots)

The embedded cluster has one worker process per core (``workers``), one
thread each, and BLAS pinned to one thread in every worker (the environment
variables below, set before the worker starts): the networks are small, and
trials side by side use the cores better than BLAS threads inside one trial.
A worker that dies (killed, out of memory) is restarted by its nanny and the
scheduler gives its trial to another worker (Dask gives up on a task after
``distributed.scheduler.allowed-failures`` deaths, 3 by default).  With
``scheduler``, the workers of that cluster need graphrnn installed and must
see the sweep directory (a shared file system): they write the run
directories.
"""
from __future__ import annotations

import importlib.util
import logging
import os
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from ..errors import TrainError

__all__ = ["open_cluster", "Cluster", "BLAS_ENV"]

#: one BLAS / OpenMP thread in every worker
BLAS_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                   "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
                                   "NUMBA_NUM_THREADS")}


@dataclass
class Cluster:
    """A Dask ``client``, its ``executor`` (concurrent.futures, pure=False: every trial runs),
    the ``dashboard`` address (None without bokeh) and ``where`` it runs, in words."""

    client: object
    executor: object
    dashboard: str | None
    where: str

    def slots(self) -> int:
        """Worker threads now: how many trials run at once."""
        return sum(self.client.nthreads().values())


@contextmanager
def open_cluster(scheduler: str | None = None, workers: int | None = None, timeout: float = 20.0):
    """A :class:`Cluster`: on ``scheduler`` (an address, ``tcp://host:8786``), else an embedded
    LocalCluster of ``workers`` processes (default: one per core).  TrainError GR313 when the
    scheduler cannot be reached within ``timeout`` seconds or the cluster does not start."""
    from distributed import Client, LocalCluster
    local = None
    try:
        if scheduler:
            client = Client(scheduler, timeout=f"{timeout}s")
            where = f"the Dask cluster at {scheduler}"
        else:
            workers = workers or os.cpu_count() or 1
            local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, env=dict(BLAS_ENV),
                                 dashboard_address=":0", silence_logs=logging.ERROR)
            client = Client(local, timeout=f"{timeout}s")
            where = f"a local Dask cluster of {workers} worker process{'es' if workers != 1 else ''}"
    except (OSError, TimeoutError) as err:
        if local is not None:
            local.close()
        target = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise TrainError("GR313", f"cannot reach {target}: {err}",
                         fix="start one (`dask scheduler` and `dask worker ADDRESS`), check the address, "
                             "or leave out --scheduler to run on this machine") from None
    try:
        served = "dashboard" in client.scheduler_info().get("services", {})
        link = client.dashboard_link if served and (scheduler or importlib.util.find_spec("bokeh")) else None
    except Exception:               # noqa: BLE001 -- a scheduler that does not say: no link
        link = None
    try:
        yield Cluster(client, client.get_executor(pure=False), link, where)
    finally:
        # a cluster slow to shut down (workers busy in a trial when Ctrl-C came) must not
        # replace the interrupt or the finished sweep by a TimeoutError: the results are written
        with suppress(OSError, TimeoutError):
            client.close()
        if local is not None:
            with suppress(OSError, TimeoutError):
                local.close()
