"""Checkpoints and parameter files: written atomically from finite weights, read back checked.

A checkpoint (``checkpoint.npz``) holds the parameters (``param/NAME``), the
optimizer state (``opt/NAME``) and, as JSON in a uint8 array ``meta``, the
updates made, the sequences seen, the history so far and the training
monitor's state.  :func:`save_checkpoint` refuses non-finite weights or
state, so the last checkpoint written is always one a run can continue from.

Reading goes through :func:`read_npz`, not ``np.load``: every member is read
to its end, so the zip's CRC-32 is checked (``np.load`` reads only as many
bytes as an array's header asks for, so a flipped byte in the data passes
unnoticed), each array header must describe exactly the bytes that follow
(no allocation a damaged header asks for), and object arrays are refused
(nothing is unpickled).  Whatever is wrong -- truncated, not a zip, a bad
CRC, a header that lies, metadata that is not the JSON written, missing,
misshapen or non-finite parameters -- is TrainError GR303 naming the file.
"""
from __future__ import annotations

import io
import json
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ..atomic import write_atomic
from ..errors import TrainError

__all__ = ["CHECKPOINT", "save_checkpoint", "load_checkpoint", "read_npz", "write_npz", "check_finite_arrays",
           "restore_monitor"]

CHECKPOINT = "checkpoint.npz"
#: deflate cannot shrink data more than about 1032:1, so a member claiming more is a lie
_MAX_RATIO = 1100


def damaged(path, what: str) -> TrainError:
    """GR303 naming ``path``."""
    return TrainError("GR303", f"{path}: {what}",
                      fix="restore the file from a copy, or start the run again (graphrnn writes checkpoints "
                          "atomically and only from finite weights: the damage came from outside)")


def another(path, what: str, detail: str) -> TrainError:
    """GR302: the checkpoint at ``path`` was written for another network or optimizer."""
    return TrainError("GR302", f"the checkpoint {path} belongs to another {what}: {detail}",
                      fix="resume with the experiment (and the network spec) that wrote it; a changed spec "
                          "starts a new run")


# -- npz files -----------------------------------------------------------------------------------
def write_npz(path, arrays: dict) -> Path:
    """``arrays`` (name -> array) as an uncompressed ``.npz``, written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(value) for name, value in arrays.items()})
    return write_atomic(path, buffer.getvalue())


def read_npz(path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, each checked as the module docstring says; GR303 if damaged.

    A missing file is the caller's to report (FileNotFoundError passes through).
    """
    path = Path(path)
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > _MAX_RATIO * max(size, 1024):
                raise damaged(path, "its members claim more data than the file can hold")
            arrays = {}
            for info in infos:
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if name in arrays:
                    raise damaged(path, f"it holds `{name}` twice")
                arrays[name] = _parse_npy(path, name, archive.read(info))
    except TrainError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, ValueError, KeyError,
            OSError, NotImplementedError, RuntimeError) as err:
        # zipfile's own answers to a damaged archive: NotImplementedError for a compression
        # method it lacks, RuntimeError for an encrypted member
        raise damaged(path, f"not a readable .npz file ({type(err).__name__}: {err})") from None
    return arrays


def _parse_npy(path, name: str, data: bytes) -> np.ndarray:
    stream = io.BytesIO(data)
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError) as err:
        raise damaged(path, f"array `{name}` has a damaged header ({err})") from None
    if dtype.hasobject:
        raise damaged(path, f"array `{name}` holds Python objects, which graphrnn never writes or unpickles")
    body = len(data) - stream.tell()
    count = math.prod(shape)
    if count * dtype.itemsize != body:
        raise damaged(path, f"array `{name}` claims shape {shape} of {dtype} ({count * dtype.itemsize} bytes) "
                            f"but {body} bytes follow its header")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return array.reshape(shape, order="F" if fortran else "C").copy()


def check_finite_arrays(path, arrays: dict, what: str) -> None:
    """GR303 for the first array in ``arrays`` that is not a finite real array."""
    for name, value in arrays.items():
        if value.dtype.kind not in "fiu":
            raise damaged(path, f"{what} `{name}` is of type {value.dtype}, not a number array")
        if not np.isfinite(value).all():
            raise damaged(path, f"{what} `{name}` holds NaN or infinite values")


# -- checkpoints ---------------------------------------------------------------------------------
def save_checkpoint(run_dir, params, state, updates, seen, history, monitor_state) -> Path:
    """Write the checkpoint atomically; TrainError GR301 (nothing written) if a weight or an
    optimizer state entry is not finite, so the last checkpoint is always a good one."""
    arrays = {f"param/{k}": np.asarray(v) for k, v in params.items()}
    arrays.update({f"opt/{k}": np.asarray(v) for k, v in state.items()})
    for name, value in arrays.items():
        if not np.isfinite(value).all():
            raise TrainError("GR301", f"`{name.split('/', 1)[1]}` is not finite after update {updates} "
                             f"({seen} sequences seen); no checkpoint written, the last one is intact",
                             fix="lower the learning rate or clip gradients (`clip: {norm: 1}`)")
    meta = {"updates": updates, "sequences": seen, "history": history, "monitor": monitor_state}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    return write_npz(Path(run_dir) / CHECKPOINT, arrays)


def load_checkpoint(run_dir, net, state_template: dict | None = None):
    """(params, optimizer state, updates, sequences, history, monitor state) from ``run_dir``.

    GR302 when there is no checkpoint, when it belongs to another network (other parameter
    names or shapes) or (given the optimizer's fresh ``state_template``) to another optimizer;
    GR303 when it is damaged.
    """
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        raise TrainError("GR302", f"no checkpoint in {run_dir}", fix="resume a run directory that "
                         "`graphrnn train` wrote (it holds checkpoint.npz)")
    arrays = read_npz(path)
    if "meta" not in arrays:
        raise damaged(path, "it has no `meta` entry (updates, sequences, history)")
    params = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
    state = {k[len("opt/"):]: v for k, v in arrays.items() if k.startswith("opt/")}
    meta = _meta(path, arrays["meta"])
    check_finite_arrays(path, params, "parameter")
    check_finite_arrays(path, state, "optimizer state")
    if set(params) != set(net.params):
        missing, extra = sorted(set(net.params) - set(params)), sorted(set(params) - set(net.params))
        raise another(path, "network", "; ".join(
            part for part in (f"it lacks {', '.join(missing[:5])}" if missing else "",
                              f"it has {', '.join(extra[:5])}, which the network does not" if extra else "")
            if part))
    for name, spec in net.params.items():
        if tuple(params[name].shape) != tuple(spec.shape):
            raise another(path, "network", f"its `{name}` has shape {params[name].shape}, the network's is "
                                           f"{tuple(spec.shape)}")
    params = {name: value.astype(float) for name, value in params.items()}
    if state_template is not None:
        if set(state) != set(state_template) or any(state[k].shape != np.shape(state_template[k]) for k in state):
            raise another(path, "optimizer", f"its state has {len(state)} arrays, this optimizer's "
                                             f"{len(state_template)}")
    return params, state, meta["updates"], meta["sequences"], meta["history"], meta["monitor"]


def restore_monitor(path, monitor, monitor_state: dict) -> None:
    """Put the training stop's saved state back; GR303 naming ``path`` when the metadata holds
    something else (its JSON was edited: the loop writes only what ``state_dict`` returns)."""
    try:
        monitor.load_state_dict(monitor_state)
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise damaged(path, f"its metadata's `monitor` is not the state of this task's training stop "
                            f"({type(err).__name__}: {err})") from None


def _meta(path, raw: np.ndarray) -> dict:
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise damaged(path, f"its metadata is not JSON ({err})") from None
    if not isinstance(meta, dict):
        raise damaged(path, "its metadata is not a JSON object")
    for key in ("updates", "sequences"):
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise damaged(path, f"its metadata's `{key}` is {value!r}, not a whole number >= 0")
    history = meta.get("history")
    if not isinstance(history, list) or not all(
            isinstance(row, dict) and isinstance(row.get("update"), int) and isinstance(row.get("sequences"), int)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row.values())
            for row in history):
        raise damaged(path, "its metadata's `history` is not the list of rows the training loop writes")
    if history and (history[-1]["update"], history[-1]["sequences"]) != (meta["updates"], meta["sequences"]):
        raise damaged(path, f"its history ends at update {history[-1]['update']} "
                            f"({history[-1]['sequences']} sequences) but it says {meta['updates']} "
                            f"({meta['sequences']} sequences)")
    if not history and (meta["updates"] or meta["sequences"]):
        raise damaged(path, "its history is empty but it counts updates")
    monitor = meta.get("monitor")
    if monitor is not None and not isinstance(monitor, dict):
        raise damaged(path, "its metadata's `monitor` is not a JSON object")
    meta.setdefault("monitor", None)
    return meta
