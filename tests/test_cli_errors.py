"""Fifty bad command lines and files: each one exits 2 with a message that says where the
problem is (the flag, the file, file:line:col) and no traceback.

Most run in this process through ``graphrnn.cli.main`` (fast); a few run the real command in
a subprocess (the entry point, a plugin that crashes on import, a run directory another
process is writing).  Hierarchy and tree data files have no command-line entry; their
loaders are tested in tests/models and tests/trees.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from graphrnn.cli import main

NET = """\
graphrnn: 1
name: tiny
inputs: {x: 1}
outputs: {y: 1}
nodes:
  h: {size: 3, activation: tanh}
  y: {size: 1, activation: tanh}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1}
  - {from: h, to: y}
"""

EXPERIMENT = """\
graphrnn: 1
experiment: tiny_latch
network: net.yaml
engine: fused
task: {name: latch, min_length: 5, max_length: 8, train_size: 20, test_size: 20}
optimizer: {name: adam, lr: 0.02}
train: {sequences: 40, batch: 10, seed: 0, evaluate_every: 20, checkpoint_every: 20, stop_when_solved: false}
"""

CYCLE = NET.replace("  - {from: h, to: h, delay: 1}\n", "  - {from: y, to: h}\n")


def files(d: Path) -> None:
    """The good and bad files the cases name, in ``d``."""
    (d / "net.yaml").write_text(NET)
    (d / "exp.yaml").write_text(EXPERIMENT)
    (d / "empty.yaml").write_text("")
    (d / "folder.yaml").mkdir()
    (d / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (d / "latin1.yaml").write_bytes(NET.replace("tiny", "t\xefny").encode("latin-1"))
    (d / "control.yaml").write_text(NET.replace("name: tiny", "name: ti\x08ny"))
    (d / "syntax.yaml").write_text(NET.replace("{size: 3, activation: tanh}", "{size: 3, activation: tanh"))
    (d / "unknown_key.yaml").write_text(NET.replace("activation: tanh}", "activaton: tanh}", 1))
    (d / "cycle.yaml").write_text(CYCLE)
    (d / "a_list.yaml").write_text("- graphrnn: 1\n- name: x\n")
    (d / "long_use.yaml").write_text(NET.replace("  y: {size: 1, activation: tanh}",
                                                 "  y: {size: 1, activation: tanh}\n  m: {use: " + "a" * 5000 + "}"))
    (d / "huge_int.yaml").write_text(NET.replace("size: 3", "size: " + "9" * 5000))
    (d / "bad_size.yaml").write_text(NET.replace("size: 3", "size: -3"))
    (d / "exp_syntax.yaml").write_text(EXPERIMENT.replace("task: {", "task: {{"))
    (d / "exp_task.yaml").write_text(EXPERIMENT.replace("name: latch", "name: latchh"))
    (d / "exp_network.yaml").write_text(EXPERIMENT.replace("net.yaml", "nowhere.yaml"))
    (d / "exp_lr.yaml").write_text(EXPERIMENT.replace("lr: 0.02", "lr: -1"))
    (d / "exp_sequences.yaml").write_text(EXPERIMENT.replace("sequences: 40", "sequences: 0"))
    (d / "exp_key.yaml").write_text(EXPERIMENT.replace("evaluate_every", "evalute_every"))
    (d / "exp_control.yaml").write_text(EXPERIMENT.replace("tiny_latch", "tiny\x07latch"))
    (d / "exp_nan_lr.yaml").write_text(EXPERIMENT.replace("lr: 0.02", "lr: .nan"))
    (d / "sweep_bad.yaml").write_text("graphrnn: 1\nsweep: s\nexperiment: exp.yaml\nseeds: [0]\n"
                                      "grid: {train.seed: [1]}\n")
    (d / "sweep_syntax.yaml").write_text("graphrnn: 1\nsweep: [s\n")
    (d / "a_file").write_text("not a folder\n")
    (d / "not_a_run").mkdir()
    (d / "not_a_run" / "notes.txt").write_text("hello\n")
    (d / "broken_plugin.py").write_text("def oops(:\n")
    (d / "raising_plugin.py").write_text("raise RuntimeError('a plugin that fails')\n")


def run_dir(d: Path, name: str = "done") -> Path:
    """A finished run of exp.yaml in ``d/runs/name``, made once per test folder."""
    target = d / "runs" / name
    if not target.is_dir():
        from graphrnn.train.experiment import load_experiment
        from graphrnn.train.runs import run_trial
        run_trial(load_experiment(d / "exp.yaml"), 0, target)
    return target


def damaged_run(d: Path, what: str) -> Path:
    import shutil
    target = d / "runs" / what
    shutil.copytree(run_dir(d), target)
    if what == "bad_meta":
        (target / "run.json").write_text("{not json")
    elif what == "bad_checkpoint":
        data = (target / "checkpoint.npz").read_bytes()
        (target / "checkpoint.npz").write_bytes(data[: len(data) // 2])
    elif what == "bad_copy":
        (target / "experiment.yaml").write_text("graphrnn: 1\nexperiment: [\n")
        (target / "checkpoint.npz").unlink()
    elif what == "meta_list":
        (target / "run.json").write_text("[1, 2]\n")
    return target


# (id, argv with {d} for the folder, words stderr must hold)
CASES = [
    # -- flags and usage --------------------------------------------------------------------------
    ("no-command", [], "the following arguments are required: COMMAND"),
    ("unknown-command", ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("validate-without-spec", ["validate"], "the following arguments are required: SPEC"),
    ("unknown-flag", ["run", "{d}/net.yaml", "--bogus"], "unrecognized arguments: --bogus"),
    ("steps-negative", ["run", "{d}/net.yaml", "--steps", "-1"], "argument --steps/-T: must be at least 1"),
    ("steps-not-a-number", ["run", "{d}/net.yaml", "--steps", "abc"], "argument --steps/-T: expected a whole number"),
    ("steps-float", ["run", "{d}/net.yaml", "--steps", "2.5"], "argument --steps/-T: expected a whole number"),
    ("batch-zero", ["run", "{d}/net.yaml", "--batch", "0"], "argument --batch/-B: must be at least 1"),
    ("seed-negative", ["run", "{d}/net.yaml", "--seed", "-3"], "argument --seed: must be 0 or more"),
    ("steps-huge", ["run", "{d}/net.yaml", "--steps", "9" * 30], "error GR108 (limit exceeded): a run of 999"),
    ("check-unknown-check", ["check", "{d}/net.yaml", "--only", "nonsense"], "argument --only: invalid choice"),
    ("check-zero-examples", ["check", "{d}/net.yaml", "--examples", "0"], "argument --examples/-n: must be at least 1"),
    ("show-unknown-engine", ["show", "{d}/net.yaml", "--engine", "warp"], "argument --engine: invalid choice"),
    ("draw-without-output", ["draw", "{d}/net.yaml"], "the following arguments are required: -o/--output"),
    ("draw-bad-suffix", ["draw", "{d}/net.yaml", "-o", "{d}/out.jpg"], "out.jpg: cannot draw to a `.jpg` file"),
    ("draw-into-missing-folder", ["draw", "{d}/net.yaml", "-o", "{d}/no/such/dir/out.png"], "no/such/dir/out.png"),
    ("draw-onto-a-folder", ["draw", "{d}/net.yaml", "-o", "{d}/folder.yaml/../folder.yaml"], "folder.yaml"),
    ("train-sequences-negative", ["train", "{d}/exp.yaml", "--sequences", "-1"], "argument --sequences: must be"),
    ("train-seed-not-a-number", ["train", "{d}/exp.yaml", "--seed", "abc"], "argument --seed: expected a whole"),
    ("train-nothing", ["train"], "name an experiment file, or --resume RUN_DIR"),
    ("plugin-missing", ["validate", "{d}/net.yaml", "--plugin", "no_such_module_xyz"], "no_such_module_xyz"),
    ("plugin-syntax-error", ["validate", "{d}/net.yaml", "--plugin", "{d}/broken_plugin.py"], "broken_plugin.py"),
    ("plugin-raises", ["validate", "{d}/net.yaml", "--plugin", "{d}/raising_plugin.py"], "raising_plugin.py"),
    # -- spec files ------------------------------------------------------------------------------
    ("spec-missing", ["validate", "{d}/missing.yaml"], "missing.yaml"),
    ("spec-is-a-folder", ["validate", "{d}/folder.yaml"], "folder.yaml"),
    ("spec-empty", ["show", "{d}/empty.yaml"], "empty.yaml"),
    ("spec-binary", ["validate", "{d}/binary.yaml"], "binary.yaml"),
    ("spec-not-utf8", ["validate", "{d}/latin1.yaml"], "latin1.yaml"),
    ("spec-control-character", ["validate", "{d}/control.yaml"], "control.yaml:2:9"),
    ("spec-yaml-syntax", ["run", "{d}/syntax.yaml"], "syntax.yaml:"),
    ("spec-unknown-key", ["draw", "{d}/unknown_key.yaml", "-o", "{d}/x.png"], "unknown_key.yaml:6:"),
    ("spec-cycle", ["check", "{d}/cycle.yaml"], "cycle.yaml:"),
    ("spec-a-list", ["validate", "{d}/a_list.yaml"], "a_list.yaml:1:1"),
    ("spec-long-use", ["validate", "{d}/long_use.yaml"], "long_use.yaml:"),
    ("spec-huge-integer", ["validate", "{d}/huge_int.yaml"], "huge_int.yaml:6:"),
    ("spec-negative-size", ["validate", "{d}/bad_size.yaml"], "bad_size.yaml:6:"),
    ("spec-unknown-library-name", ["show", "elmn"], "elmn"),
    ("spec-is-an-experiment", ["validate", "{d}/exp.yaml"], "exp.yaml:"),
    # -- experiment files ------------------------------------------------------------------------
    ("experiment-missing", ["train", "{d}/missing.yaml"], "missing.yaml"),
    ("experiment-is-a-folder", ["train", "{d}/folder.yaml"], "folder.yaml"),
    ("experiment-is-a-spec", ["train", "{d}/net.yaml"], "net.yaml:"),
    ("experiment-syntax", ["train", "{d}/exp_syntax.yaml"], "exp_syntax.yaml:"),
    ("experiment-unknown-task", ["train", "{d}/exp_task.yaml"], "exp_task.yaml:5:"),
    ("experiment-network-missing", ["train", "{d}/exp_network.yaml"], "exp_network.yaml:3:"),
    ("experiment-negative-lr", ["train", "{d}/exp_lr.yaml"], "exp_lr.yaml:6:"),
    ("experiment-nan-lr", ["train", "{d}/exp_nan_lr.yaml"], "exp_nan_lr.yaml:6:"),
    ("experiment-zero-sequences", ["train", "{d}/exp_sequences.yaml"], "exp_sequences.yaml:7:"),
    ("experiment-unknown-key", ["train", "{d}/exp_key.yaml"], "exp_key.yaml:7:"),
    ("experiment-control-character", ["train", "{d}/exp_control.yaml"], "exp_control.yaml:2:"),
    ("runs-dir-is-a-file", ["train", "{d}/exp.yaml", "--runs-dir", "{d}/a_file", "-q"], "a_file"),
    # -- run directories -------------------------------------------------------------------------
    ("resume-missing", ["train", "--resume", "{d}/no_such_run"], "no_such_run"),
    ("resume-a-file", ["train", "--resume", "{d}/a_file"], "a_file"),
    ("resume-not-a-run", ["train", "--resume", "{d}/not_a_run"], "not_a_run"),
    ("resume-damaged-run-json", ["train", "--resume", "{run:bad_meta}"], "bad_meta/run.json"),
    ("resume-run-json-a-list", ["train", "--resume", "{run:meta_list}"], "meta_list/run.json"),
    ("resume-damaged-checkpoint", ["train", "--resume", "{run:bad_checkpoint}", "-q"],
     "bad_checkpoint/checkpoint.npz"),
    ("resume-damaged-experiment-copy", ["train", "--resume", "{run:bad_copy}"], "bad_copy/experiment.yaml:"),
    ("resume-other-seed", ["train", "--resume", "{run:done}", "--seed", "7"], "not 7"),
    ("resume-shorter-budget", ["train", "--resume", "{run:done}", "--sequences", "10", "-q"], "cannot shorten"),
    # -- sweep files -----------------------------------------------------------------------------
    ("sweep-missing", ["sweep", "{d}/missing.yaml"], "missing.yaml"),
    ("sweep-syntax", ["sweep", "{d}/sweep_syntax.yaml"], "sweep_syntax.yaml:"),
    ("sweep-sets-the-seed", ["sweep", "{d}/sweep_bad.yaml"], "sweep_bad.yaml:5:"),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    files(d)
    return d


def argv_of(case_argv, d: Path) -> list[str]:
    out = []
    for arg in case_argv:
        if arg.startswith("{run:"):
            name = arg[5:-1]
            out.append(str(run_dir(d) if name == "done" else damaged_run(d, name)))
        else:
            out.append(arg.replace("{d}", str(d)))
    return out


def test_there_are_at_least_fifty_cases():
    assert len(CASES) >= 50 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("argv, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_command_line_exits_2_with_a_located_message(folder, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(folder)
    code = main(argv_of(argv, folder))
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    assert words.replace("{d}", str(folder)) in err, err
    assert err.strip(), "no message"


# -- through the real command ----------------------------------------------------------------------
def graphrnn(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "graphrnn", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("argv, words", [
    (["run", "net.yaml", "--steps", "abc"], "expected a whole number"),
    (["validate", "control.yaml"], "control.yaml:2:9"),
    (["validate", "net.yaml", "--plugin", "raising_plugin.py"], "a plugin that fails"),
    (["train", "--resume", "not_a_run"], "not_a_run"),
], ids=["flag", "spec", "plugin", "resume"])
def test_the_command_itself_exits_2_without_a_traceback(folder, argv, words):
    result = graphrnn(*argv, cwd=folder)
    assert result.returncode == 2 and "Traceback" not in result.stderr and words in result.stderr, result.stderr


def test_a_run_directory_another_process_writes_is_refused_naming_it(folder):
    target = run_dir(folder, "busy")
    hold = ("import sys, time\nfrom graphrnn.train.runlock import RunLock\n"
            "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = graphrnn("train", "--resume", target, "--sequences", "60", cwd=folder)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error GR304 (run directory in use): {target} is being written by pid {holder.pid}" in result.stderr
