"""Training faults: damaged checkpoints and parameter files are GR303 naming the file, whatever
the damage; weights that overflow stop the run (GR301) and no checkpoint ever holds them; a run
directory has one writer at a time (GR304 names the other); non-finite inputs are GR202."""
import io
import json
import os
import signal
import socket
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

import graphrnn as gr
from graphrnn.errors import RunError, TrainError
from graphrnn.train import runlock
from graphrnn.train.checkpoint import CHECKPOINT, load_checkpoint, read_npz, save_checkpoint
from graphrnn.train.experiment import load_experiment
from graphrnn.train.runs import PARAMS, load_params, run_trial
from graphrnn.train.step import WEIGHT_LIMIT


@pytest.fixture
def exp(net_folder, latch_experiment):
    (net_folder / "exp.yaml").write_text(latch_experiment(sequences=100, seed=0))
    return load_experiment(net_folder / "exp.yaml")


@pytest.fixture
def good_checkpoint(exp, tmp_path):
    """The bytes of a real checkpoint (a tiny run of 100 sequences) and its experiment."""
    run_trial(exp, 0, tmp_path / "good")
    return (tmp_path / "good" / CHECKPOINT).read_bytes(), exp


def members(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(files: dict) -> bytes:
    """A well-formed zip (right CRCs) of ``files``: damage the zip layer cannot see."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def npy(array) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def with_meta(files, meta) -> dict:
    text = meta if isinstance(meta, (str, bytes)) else json.dumps(meta)
    raw = text.encode() if isinstance(text, str) else text
    return {**files, "meta.npy": npy(np.frombuffer(raw, dtype=np.uint8))}


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1:]


def damages(good: bytes):
    """(label, damaged bytes, words the message must hold) for many kinds of damage."""
    files = members(good)
    meta = json.loads(np.load(io.BytesIO(files["meta.npy"])).tobytes())
    param = next(name for name in files if name.startswith("param/"))
    data_at = good.index(files[param]) + len(files[param]) - 3          # inside the array's data
    header_at = good.index(files[param]) + 20                           # inside its .npy header
    history_cut = dict(meta, history=meta["history"][:-1])
    yield "empty", b"", "not a readable .npz"
    yield "text", b"graphrnn: 1\n", "not a readable .npz"
    for cut in (10, len(good) // 3, len(good) // 2, len(good) - 30, len(good) - 1):
        yield f"truncated to {cut}", good[:cut], "not a readable .npz"
    yield "bit flip in an array's data", flip(good, data_at), "not a readable .npz"
    yield "bit flip in an array's header", flip(good, header_at), "not a readable .npz"
    yield "zeroed tail", good[:-200] + bytes(200), "not a readable .npz"
    yield "no meta", rezip({k: v for k, v in files.items() if k != "meta.npy"}), "no `meta`"
    yield "meta not JSON", rezip(with_meta(files, "{\"updates\": 1, ")), "not JSON"
    yield "meta not UTF-8", rezip(with_meta(files, b"\xff\xfe{}")), "not JSON"
    yield "meta a list", rezip(with_meta(files, [1, 2])), "not a JSON object"
    yield "meta without updates", rezip(with_meta(files, {k: v for k, v in meta.items() if k != "updates"})), \
        "`updates`"
    yield "negative sequences", rezip(with_meta(files, dict(meta, sequences=-5))), "`sequences`"
    yield "history not rows", rezip(with_meta(files, dict(meta, history="lots"))), "`history`"
    yield "history disagrees", rezip(with_meta(files, history_cut)), "history ends at update"
    yield "a NaN weight", rezip({**files, param: npy(np.full(np.load(io.BytesIO(files[param])).shape, np.nan))}), \
        "NaN or infinite"
    yield "a pickled object array", rezip({**files, param: npy(np.array([{"a": 1}], dtype=object))}), \
        "Python objects"
    lying = io.BytesIO()
    npy_format.write_array_header_1_0(lying, {"descr": "<f8", "fortran_order": False, "shape": (900000000000,)})
    lying = lying.getvalue() + bytes(24)
    yield "a header that lies about its size", rezip({**files, param: lying}), "claims shape"
    yield "a string array", rezip({**files, param: npy(np.array(["a", "b"]))}), "not a number array"


def test_every_kind_of_damage_is_gr303_naming_the_file(good_checkpoint, tmp_path):
    good, exp = good_checkpoint
    net = exp.build().net
    cases = list(damages(good))
    assert len(cases) >= 20      # 22 kinds
    for n, (label, data, words) in enumerate(cases):
        run_dir = tmp_path / f"case{n}"
        run_dir.mkdir()
        (run_dir / CHECKPOINT).write_bytes(data)
        with pytest.raises(TrainError) as info:
            load_checkpoint(run_dir, net)
        err = info.value
        assert err.code == "GR303", (label, str(err))
        assert str(run_dir / CHECKPOINT) in err.message and words in err.message, (label, str(err))


def test_a_damaged_checkpoint_through_the_command_exits_2_naming_it(good_checkpoint, tmp_path, capsys):
    from graphrnn.cli import main
    good, exp = good_checkpoint
    run_dir = tmp_path / "run"
    run_trial(exp, 0, run_dir, sequences=50)
    (run_dir / CHECKPOINT).write_bytes(good[: len(good) // 2])
    assert main(["train", "--resume", str(run_dir), "-q"]) == 2
    err = capsys.readouterr().err
    assert "error GR303 (damaged checkpoint)" in err and str(run_dir / CHECKPOINT) in err
    assert "Traceback" not in err


def test_the_good_checkpoint_reads_back_and_params_files_are_checked_too(good_checkpoint, tmp_path):
    good, exp = good_checkpoint
    (tmp_path / CHECKPOINT).write_bytes(good)
    params, state, updates, seen, history, _ = load_checkpoint(tmp_path, exp.build().net)
    assert updates == 10 and seen == 100 and len(history) == 10 and set(state)
    assert read_npz(tmp_path / CHECKPOINT).keys() == {k[:-4] for k in members(good)}
    (tmp_path / PARAMS).write_bytes(good[:-40])
    with pytest.raises(TrainError) as info:
        load_params(tmp_path / PARAMS)
    assert info.value.code == "GR303" and str(tmp_path / PARAMS) in info.value.message


def test_a_checkpoint_of_another_network_or_optimizer_is_gr302(good_checkpoint, net_folder, tmp_path):
    good, exp = good_checkpoint
    (tmp_path / CHECKPOINT).write_bytes(good)
    with pytest.raises(TrainError) as info:
        load_checkpoint(tmp_path, gr.load("elman"))
    assert info.value.code == "GR302" and "another network" in info.value.message
    files = members(good)
    param = next(name for name in files if name.startswith("param/"))
    for changed in ({k: v for k, v in files.items() if k != param}, {**files, param: npy(np.zeros((7, 7)))}):
        (tmp_path / CHECKPOINT).write_bytes(rezip(changed))
        with pytest.raises(TrainError) as info:
            load_checkpoint(tmp_path, exp.build().net)
        assert info.value.code == "GR302" and "another network" in info.value.message
    (tmp_path / CHECKPOINT).write_bytes(good)
    with pytest.raises(TrainError) as info:
        load_checkpoint(tmp_path, exp.build().net, state_template={"velocity/x->h": np.zeros((1, 3))})
    assert info.value.code == "GR302" and "another optimizer" in info.value.message


# -- weights that overflow ---------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["{name: sgd, lr: 1.0e+308}", "{name: adam, lr: 1.0e+308}",
                                       "{name: sgd, lr: 1.0e+200}"])
def test_overflowing_weights_stop_the_run_and_no_checkpoint_holds_them(net_folder, latch_experiment, tmp_path,
                                                                        optimizer):
    text = latch_experiment(sequences=200, seed=0).replace("{name: adam, lr: 0.02}", optimizer)
    (tmp_path / "big.yaml").write_text(text.replace("checkpoint_every: 50", "checkpoint_every: 10"))
    exp = load_experiment(tmp_path / "big.yaml")
    with pytest.raises(TrainError) as info:
        run_trial(exp, 0, tmp_path / "run")
    assert info.value.code == "GR301" and "weight" in info.value.message
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "diverged"
    if (tmp_path / "run" / CHECKPOINT).is_file():
        params = load_checkpoint(tmp_path / "run", exp.build().net)[0]      # finite, readable
        assert all(np.all(np.abs(v) < WEIGHT_LIMIT) for v in params.values())
    with pytest.raises(TrainError) as again:                                # deterministic: the same stop
        run_trial(exp, 0, tmp_path / "run", resume=True)
    assert again.value.code == "GR301" and again.value.message == info.value.message


def test_save_checkpoint_refuses_non_finite_weights(tmp_path):
    with pytest.raises(TrainError) as info:
        save_checkpoint(tmp_path, {"w": np.array([1.0, np.inf])}, {}, 3, 30, [], None)
    assert info.value.code == "GR301" and not (tmp_path / CHECKPOINT).exists()


def test_sgd_at_a_huge_learning_rate_exits_2_through_the_command(net_folder, latch_experiment, capsys):
    text = latch_experiment(sequences=100, seed=0).replace("{name: adam, lr: 0.02}", "{name: sgd, lr: 1.0e+308}")
    (net_folder / "sgd.yaml").write_text(text)
    from graphrnn.cli import main
    assert main(["train", str(net_folder / "sgd.yaml"), "--runs-dir", str(net_folder / "runs"), "-q"]) == 2
    assert "error GR301 (training diverged)" in capsys.readouterr().err


# -- one writer per run directory --------------------------------------------------------------
HOLD = """\
import sys, time
from graphrnn.train.runlock import RunLock
lock = RunLock(sys.argv[1]); lock.acquire(); print("held", flush=True); time.sleep(120)
"""


def test_a_second_writer_is_refused_naming_the_first_and_a_dead_ones_lock_is_taken_over(exp, tmp_path):
    run_trial(exp, 0, tmp_path / "run", sequences=50)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(TrainError) as info:
            run_trial(exp, 0, tmp_path / "run", resume=True)
        assert info.value.code == "GR304"
        assert f"pid {holder.pid} on host {socket.gethostname()}" in info.value.message
        assert not hasattr(info.value, "run_dir")        # not a run to resume: a run to wait for
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert runlock.lock_holder(tmp_path / "run")["pid"] == holder.pid      # left behind, stale
    assert run_trial(exp, 0, tmp_path / "run", resume=True, sequences=100).sequences == 100
    assert not (tmp_path / "run" / runlock.LOCK_FILE).exists()


def test_without_flock_the_lock_file_alone_decides(tmp_path, monkeypatch):
    monkeypatch.setattr(runlock, "fcntl", None)
    first = runlock.RunLock(tmp_path)
    first.acquire()
    with pytest.raises(TrainError) as info:                  # this process is alive
        runlock.RunLock(tmp_path).acquire()
    assert info.value.code == "GR304" and f"pid {os.getpid()}" in info.value.message
    first.release()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = {"pid": int(dead.stdout), "host": socket.gethostname(), "since": "then"}
    (tmp_path / runlock.LOCK_FILE).write_text(json.dumps(stale))
    with runlock.RunLock(tmp_path):                          # its pid is dead: taken over
        assert runlock.lock_holder(tmp_path)["pid"] == os.getpid()
    (tmp_path / runlock.LOCK_FILE).write_text(json.dumps(dict(stale, host="elsewhere")))
    with pytest.raises(TrainError) as info:                  # another host: cannot tell, refuse
        runlock.RunLock(tmp_path).acquire()
    assert "on host elsewhere" in info.value.message and "delete" in info.value.fix


# -- non-finite inputs -------------------------------------------------------------------------
def test_nan_in_the_input_is_gr202_with_its_index(net_folder):
    net = gr.load(net_folder / "net.yaml")
    params = net.init(0)
    x = np.zeros((6, 2, 1))
    x[3, 1, 0] = np.nan
    x[4, 0, 0] = np.inf
    for call in (lambda: net.run(params, x), lambda: net.loss(params, x, np.zeros((6, 2, 1))),
                 lambda: net.value_and_grad(params, x, np.zeros((6, 2, 1)))):
        with pytest.raises(RunError) as info:
            call()
        assert info.value.code == "GR202"
        assert "x[3, 1, 0] is nan" in info.value.message and "2 of 12" in info.value.message


def test_no_flipped_byte_or_cut_is_accepted_with_other_values(good_checkpoint, tmp_path):
    """Every single-byte change of a checkpoint (every 11th byte) and every cut (every 29th) is
    refused (GR303, or GR302 for a changed parameter name) or leaves the values as written."""
    good, exp = good_checkpoint
    net = exp.build().net
    (tmp_path / CHECKPOINT).write_bytes(good)
    original = load_checkpoint(tmp_path, net)
    damaged = [flip(good, at) for at in range(0, len(good), 11)] + [good[:cut] for cut in range(0, len(good), 29)]
    accepted = 0
    for data in damaged:
        (tmp_path / CHECKPOINT).write_bytes(data)
        try:
            got = load_checkpoint(tmp_path, net)
        except TrainError as err:
            assert err.code in ("GR302", "GR303") and str(tmp_path / CHECKPOINT) in err.message
            continue
        accepted += 1       # a byte the data does not depend on (a zip time stamp, header padding): ~13%
        for a, b in zip(got[:2], original[:2]):
            assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
        assert got[2:] == original[2:]
    assert accepted < len(damaged) // 4


def test_nan_in_a_tree_batch_is_gr202_at_the_tree_node(tmp_path):
    import dataclasses

    from graphrnn.trees import Vocabulary, read_trees
    net = gr.load("tree_lstm_classifier")
    vocab = Vocabulary([f"t{i}" for i in range(net.input_size)])
    (tmp_path / "trees.txt").write_text("(t0 t1)\n(t1 (t0 t0) t1)\n")
    batch = net.batch(read_trees(tmp_path / "trees.txt"), vocab)
    x = batch.x.copy()
    x[-1, 1] = np.nan
    with pytest.raises(RunError) as info:
        net.run(net.init(0), dataclasses.replace(batch, x=x))
    err = info.value
    assert err.code == "GR202" and "unit 1" in err.message and "1 of" in err.message
    assert str(err.loc).startswith(str(tmp_path / "trees.txt") + ":")


@pytest.mark.parametrize("state", [{"correct": [1]}, {"correct": 5, "errors": [], "seen": 0},
                                   {"correct": [], "errors": [{}], "seen": 0},
                                   {"correct": [], "errors": [], "seen": "many"}])
def test_a_monitor_state_that_is_not_the_training_stops_is_gr303(tmp_path, state):
    """The metadata's `monitor` is the task's training-stop state; edited into something else it is
    the same GR303 naming the file as any other damage (found by the checkpoint fuzz loader)."""
    from graphrnn.tasks import make_task
    from graphrnn.train.checkpoint import restore_monitor
    monitor = make_task("adding", T=20).monitor()
    restore_monitor(tmp_path / CHECKPOINT, monitor, monitor.state_dict())      # its own state: fine
    with pytest.raises(TrainError) as info:
        restore_monitor(tmp_path / CHECKPOINT, monitor, state)
    assert info.value.code == "GR303" and str(tmp_path / CHECKPOINT) in info.value.message
    assert "`monitor`" in info.value.message
