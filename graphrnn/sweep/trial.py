"""One sweep trial, as a worker runs it: :func:`graphrnn.train.runs.run_trial`, continued from
the run directory's checkpoint when it has one, and a record of what came out.

The record (a dict: the row of ``trials.csv``) is also written to the run directory
(``trial.json``), so a rerun of the sweep takes a finished trial's record from there instead
of training it again.  A trial that raises does not raise here: its error is in the record,
in ``error.txt`` in its run directory (with the traceback) and, for errors of the training
itself, in its ``metrics.json``.
"""
from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

import yaml

from ..atomic import write_atomic
from ..errors import GraphRNNError
from ..train.loop import CHECKPOINT
from ..train.runs import EXPERIMENT_COPY, METRICS_JSON, run_trial

__all__ = ["sweep_trial", "read_record", "same_experiment", "TRIAL_JSON", "ERROR_TXT"]

TRIAL_JSON = "trial.json"
ERROR_TXT = "error.txt"


def _worker() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _metrics(run_dir: Path) -> tuple[dict, list]:
    """What metrics.json says of a trial (solved, solved_at, sequences, updates, final loss, the
    last test's metrics as ``final_*``, resumed_from), and its learning curve [[sequences, loss]]."""
    path = run_dir / METRICS_JSON
    if not path.is_file():
        return {"solved": False, "solved_at": None, "sequences": 0, "updates": 0, "final_loss": None}, []
    doc = json.loads(path.read_text(encoding="utf-8"))
    final, history = doc.get("final", {}), doc.get("history", [])
    facts = {"solved": bool(final.get("solved")), "solved_at": final.get("solved_at"),
             "sequences": final.get("sequences", 0), "updates": final.get("updates", 0),
             "final_loss": history[-1]["loss"] if history else None,
             "budget": doc.get("schedule", {}).get("sequences"),
             "resumed_from": doc.get("timing", {}).get("resumed_from", 0)}
    facts.update({f"final_{k}": v for k, v in (final.get("last_test") or {}).items()})
    return facts, [[row["sequences"], row["loss"]] for row in history]


def sweep_trial(exp, seed: int, run_dir, point: str, values: dict) -> dict:
    """Train (or continue) the trial of ``exp`` with ``seed`` in ``run_dir``; returns its record:
    ``point`` (the grid point's label), ``values`` (its grid values), ``seed``, ``status``
    (finished | diverged | failed), the facts of metrics.json, ``seconds`` (wall time of
    this call), ``worker``, ``error`` and, not kept in trial.json, ``curve``."""
    run_dir = Path(run_dir)
    started = time.perf_counter()
    status, error, details = "finished", "", ""
    try:
        # to the grid point's budget, also a trial first run with another one (a resumed run keeps
        # its recorded budget unless told)
        run_trial(exp, seed, run_dir, (run_dir / CHECKPOINT).is_file(), sequences=exp.plan().sequences)
    except GraphRNNError as err:
        status = "diverged" if err.code == "GR301" else "failed"
        error, details = str(err), str(err)
    except Exception as err:        # noqa: BLE001 -- a trial's bug is its record, not the sweep's end
        status = "failed"
        error = "".join(traceback.format_exception_only(type(err), err)).strip()
        details = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    facts, curve = _metrics(run_dir)
    record = {"point": point, "values": values, "seed": int(seed), "status": status, **facts,
              "seconds": round(time.perf_counter() - started, 3), "worker": _worker(), "error": error,
              "run_dir": str(run_dir)}
    run_dir.mkdir(parents=True, exist_ok=True)
    if details:
        write_atomic(run_dir / ERROR_TXT, details + "\n")
    else:
        (run_dir / ERROR_TXT).unlink(missing_ok=True)
    write_atomic(run_dir / TRIAL_JSON, json.dumps(record, indent=1) + "\n")
    return {**record, "curve": curve}


def same_experiment(a: str, b: str) -> bool:
    """Two experiment texts say the same (comments and layout aside: the header a sweep writes
    names the file as the command line gave it)."""
    try:
        return yaml.safe_load(a) == yaml.safe_load(b)
    except yaml.YAMLError:
        return False


def read_record(run_dir, text: str) -> dict | None:
    """The record of a trial already done in ``run_dir`` (finished or diverged) with the
    experiment ``text``, with its curve; None when it has to run (again)."""
    run_dir = Path(run_dir)
    path, copy = run_dir / TRIAL_JSON, run_dir / EXPERIMENT_COPY
    if not path.is_file() or not copy.is_file() or not same_experiment(copy.read_text(encoding="utf-8"), text):
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("status") not in ("finished", "diverged"):
        return None
    return {**record, "curve": _metrics(run_dir)[1]}
