"""The `graphrnn` command: validate, show, run, draw, and how errors are reported."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import graphrnn as gr
from graphrnn.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def is_module(path: Path) -> bool:
    return "module" in yaml.safe_load(path.read_text(encoding="utf-8"))


NETWORKS = [p for p in SPECS if not is_module(p)]
MODULES = [p for p in SPECS if is_module(p)]

CYCLE = """\
graphrnn: 1
name: loop
inputs: {x: 2}
outputs: {h: 3}
nodes:
  h: {size: 3, activation: tanh}
  g: {size: 3, activation: tanh}
edges:
  - {from: x, to: h}
  - {from: h, to: g}
  - {from: g, to: h}
"""


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_library_has_networks_and_modules():
    assert NETWORKS and MODULES


@pytest.mark.parametrize("spec", NETWORKS, ids=lambda p: p.name)
def test_validate_every_library_network(capsys, spec):
    code, out, err = run_cli(capsys, "validate", spec)
    net = gr.load(spec)
    assert code == 0, err
    first, *notes = out.splitlines()
    assert first == (f"ok: {spec} ({net.name}: {len(net.ir.nodes)} nodes, {len(net.ir.edges)} edges, "
                     f"{net.num_params} parameters)")
    defaulted = [i for i in net.ir.instances if i.defaulted]   # a note for each, none for others
    assert len(notes) == len(defaulted) and all(n.startswith("note: `") for n in notes)
    assert err == ""


def test_a_module_parameter_taken_by_default_is_said(capsys, tmp_path):
    spec = tmp_path / "g2.yaml"
    spec.write_text("graphrnn: 1\nname: g2\ninputs: {x: 3}\noutputs: {y: 2}\nnodes:\n  cell: {use: gru2}\n"
                    "  y: {size: 2}\nedges:\n  - {from: x, to: cell}\n  - {from: cell, to: y}\n")
    code, out, _ = run_cli(capsys, "validate", spec)
    assert code == 0 and "note: `cell` (gru2) took by default: bias=True, size=8" in out
    code, out, _ = run_cli(capsys, "show", spec)
    assert "cell = gru2(bias=True (default), size=8 (default))" in out


def test_validate_elman_line(capsys):
    code, out, _ = run_cli(capsys, "validate", "specs/elman.yaml")
    assert code == 0
    assert out.strip() == "ok: specs/elman.yaml (elman: 3 nodes, 3 edges, 370 parameters)"


def test_validate_library_name(capsys):
    code, out, _ = run_cli(capsys, "validate", "elman")
    assert code == 0 and out.startswith("ok: elman (elman: ")


@pytest.mark.parametrize("spec", MODULES, ids=lambda p: p.name)
def test_validate_a_module_instantiates_it_alone_with_its_defaults(capsys, spec):
    code, out, err = run_cli(capsys, "validate", spec)
    assert code == 0, err
    assert out.startswith("note: `") and "is a module: instantiated alone with its defaults (" in out
    assert f"ok: {spec} (" in out and err == ""


def test_instantaneous_cycle_is_reported_with_locations(capsys, tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text(CYCLE, encoding="utf-8")
    lines = CYCLE.splitlines()
    h_to_g = lines.index("  - {from: h, to: g}") + 1
    g_to_h = lines.index("  - {from: g, to: h}") + 1
    code, out, err = run_cli(capsys, "validate", path)
    assert code == 2
    assert out == ""
    assert "GR102" in err
    assert "h -> g" in err and "g -> h" in err
    assert f"{path}:{h_to_g}:5" in err and f"{path}:{g_to_h}:5" in err
    assert "delay" in err
    assert "Traceback" not in err


def test_missing_spec_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "show", tmp_path / "nope.yaml")
    assert code == 2 and "GR114" in err and "Traceback" not in err


def test_show_prints_graph_parameters_and_plan(capsys):
    net = gr.load("jordan")
    code, out, _ = run_cli(capsys, "show", "jordan")
    assert code == 0
    for node in net.ir.nodes.values():
        assert f"  {node}\n" in out
    for edge in net.ir.edges:
        assert f"  {edge}\n" in out
    assert "delay 1" in out
    for name, spec in net.params.items():
        assert name in out
    assert "trainable" in out
    assert f"total: {net.num_params} parameters" in out
    for line in str(net.plan).splitlines():
        assert line in out


def test_show_marks_frozen_parameters(capsys, tmp_path):
    path = tmp_path / "frozen.yaml"
    path.write_text("graphrnn: 1\nname: frozen\ninputs: {x: 2}\noutputs: {y: 3}\n"
                    "nodes:\n  y: {size: 3}\n"
                    "edges:\n  - {from: x, to: y, trainable: false}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "show", path)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.strip().startswith("x->y"))
    assert "2x3" in row and "frozen" in row
    assert "total: 9 parameters (3 trainable, 6 frozen)" in out


def test_show_plan_only(capsys):
    code, out, _ = run_cli(capsys, "show", "elman", "--plan")
    assert code == 0
    assert out.startswith(str(gr.load("elman").plan) + "\nengine: fused: ")
    assert "  also: autograd\n" in out
    assert "also: fused_tree (cannot: the `fused_tree` engine runs `over: tree` networks" in out


def test_show_plan_says_which_engine_runs_and_why_others_cannot(capsys):
    code, out, _ = run_cli(capsys, "show", "ntm_copy", "--plan", "--engine", "autograd")
    assert code == 0
    assert "\nengine: autograd: autograd's tape" in out
    assert "  also: fused\n" in out
    from graphrnn.runtime import generated
    if generated.available():   # the memory's step compiled by numba (ops/memory_kernels.py)
        assert "  also: compiled\n" in out
    else:
        assert "numba" in out.split("also: compiled (cannot:")[1]


def test_show_unit_level_network(capsys):
    code, out, _ = run_cli(capsys, "show", "fully_recurrent")
    assert code == 0
    assert "edges (272, 256 delayed):" in out
    assert "total: 304 parameters" in out


def test_run_prints_one_row_per_step(capsys):
    code, out, _ = run_cli(capsys, "run", "elman", "--steps", 7, "--seed", 3, "--batch", 2)
    assert code == 0
    lines = out.strip().splitlines()
    assert "batch row 0" in lines[0]
    assert lines[1].split() == ["t", "y[0]", "y[1]"]
    rows = lines[2:]
    assert len(rows) == 7
    net = gr.load("elman")
    x = np.random.default_rng(3).standard_normal((7, 2, net.input_size))
    y = net.run(net.init(seed=3), x).y[:, 0, :]
    for t, row in enumerate(rows):
        cells = row.split()
        assert cells[0] == str(t)
        assert cells[1:] == [f"{v:.4f}" for v in y[t]]


def test_run_default_steps_and_unit_outputs(capsys):
    code, out, _ = run_cli(capsys, "run", "fully_recurrent")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[1].split() == ["t", "u1", "u2"]
    assert len(lines) == 2 + 10


def test_run_rejects_bad_numbers(capsys):
    code, _, err = run_cli(capsys, "run", "elman", "--steps", 0)
    assert code == 2 and "--steps" in err


def test_draw_png_and_svg(capsys, tmp_path):
    png, svg = tmp_path / "elman.png", tmp_path / "elman.svg"
    assert run_cli(capsys, "draw", "elman", "-o", png)[0] == 0
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 1000
    code, out, _ = run_cli(capsys, "draw", "specs/jordan.yaml", "--output", svg)
    assert code == 0 and str(svg) in out
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "z⁻¹" in text


def test_draw_bad_suffix(capsys, tmp_path):
    target = tmp_path / "elman.pdf"
    code, out, err = run_cli(capsys, "draw", "elman", "-o", target)
    assert code == 2
    assert ".pdf" in err and ".png" in err and ".svg" in err
    assert "Traceback" not in err
    assert not target.exists()


def test_draw_unwritable_path(capsys, tmp_path):
    code, _, err = run_cli(capsys, "draw", "elman", "-o", tmp_path / "no" / "such" / "dir.png")
    assert code == 2 and "dir.png" in err and "Traceback" not in err


def test_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("validate", "show", "run", "draw", "check"):
        assert command in out
    for command, flags in (("run", ["--steps", "--seed", "--batch"]), ("draw", ["-o"]),
                           ("show", ["--plan"]), ("validate", ["SPEC"]),
                           ("check", ["--examples", "--seed", "--plugin"])):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert all(flag in out for flag in flags)


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys)
    assert code == 2 and "usage" in err


def _console_script() -> list[str]:
    script = Path(sys.executable).parent / "graphrnn"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "graphrnn"]


def test_console_script_subprocess(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text(CYCLE, encoding="utf-8")
    done = subprocess.run(_console_script() + ["validate", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert "GR102" in done.stderr and f"{path}:" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_python_dash_m_subprocess():
    done = subprocess.run([sys.executable, "-m", "graphrnn", "run", "elman", "--steps", "3"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 2 + 3


# -- graphrnn check -------------------------------------------------------------------------

CHECK_NAMES = ["gradients", "engines", "bptt_rtrl", "batch", "unroll", "order", "roundtrip", "kinds"]
CUSTOM = ROOT / "examples" / "custom_kind"


def test_check_elman_passes(capsys):
    code, out, err = run_cli(capsys, "check", "specs/elman.yaml", "--examples", 3)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == ("checking elman: 3 nodes, 3 edges, 370 parameters [specs/elman.yaml]: "
                        "3 examples per check, seed 0")
    status = [line.split()[:2] for line in lines if line[:4] in ("PASS", "FAIL", "SKIP")]
    assert [name for _, name in status] == CHECK_NAMES
    assert all(word in ("PASS", "SKIP") for word, _ in status)
    assert "relative error" in next(line for line in lines if line.startswith("PASS gradients"))
    assert lines[-1].startswith("all 8 checks hold") and err == ""


TREE_NETWORKS = [p for p in NETWORKS if "\nover: tree" in p.read_text(encoding="utf-8")]


# the NTM specs (62k parameters, autograd engine) take minutes to check; a small memory network is
# checked by test_check_a_memory_network
_SEQUENCE_NETS = {p: gr.load(p) for p in NETWORKS if p not in TREE_NETWORKS}     # each loaded once
MEMORY_NETWORKS = [p for p, net in _SEQUENCE_NETS.items() if net.stateful]
# so do the NTM paper's LSTM baselines (330k parameters); their `lstm` module is checked in lstm_2layer
LARGE_NETWORKS = [p for p, net in _SEQUENCE_NETS.items() if net.num_params > 100_000]


@pytest.mark.parametrize("spec", [p for p in NETWORKS if p not in TREE_NETWORKS + MEMORY_NETWORKS + LARGE_NETWORKS],
                         ids=lambda p: p.name)
def test_check_every_library_network(capsys, spec):
    code, out, err = run_cli(capsys, "check", spec, "--examples", 1, "--seed", 1)
    assert code == 0, out + err
    assert "all 8 checks hold" in out and "FAIL" not in out


@pytest.mark.parametrize("spec", TREE_NETWORKS, ids=lambda p: p.name)
def test_check_every_library_tree_network(capsys, spec):
    code, out, err = run_cli(capsys, "check", spec, "--examples", 2, "--seed", 1)
    assert code == 0, out + err
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["PASS", "gradients:"], ["PASS", "batch:"], ["PASS", "levels:"]]
    assert "all 3 tree checks hold" in out


def test_run_and_show_a_tree_network(capsys):
    code, out, _ = run_cli(capsys, "run", "recursive", "--batch", 3, "--steps", 3)
    assert code == 0 and "outputs at the root of 3 random trees" in out
    assert len(out.strip().splitlines()) == 5
    code, out, _ = run_cli(capsys, "show", "recursive")
    assert code == 0 and "p -> p  dense  child1  [p->p@child1]" in out


def test_check_refuses_a_module_file(capsys):
    code, out, err = run_cli(capsys, "check", ROOT / "specs" / "lstm.yaml")
    assert code == 2 and out == ""
    assert "GR109" in err and "module" in err and "Traceback" not in err


def test_check_with_the_example_plugin_passes(capsys, registry):
    code, out, err = run_cli(capsys, "check", CUSTOM / "spec.yaml", "--plugin", CUSTOM / "kind.py",
                             "--examples", 3)
    assert code == 0, out + err
    assert "kinds checked: highway, sum" in out


def test_check_catches_the_wrong_kind_and_names_it(capsys, registry):
    code, out, err = run_cli(capsys, "check", CUSTOM / "spec.yaml", "--plugin", CUSTOM / "wrong_kind.py",
                             "--examples", 3)
    assert code == 1 and err == ""
    assert "FAIL gradients" in out and "FAIL engines" in out and "FAIL kinds" in out
    assert "PASS unroll" in out and "PASS batch" in out
    assert "node kind `highway` (node h)" in out and "port `gate`" in out
    assert "minimal counterexample" in out and "B = 1 row" in out
    assert out.rstrip().splitlines()[-1].startswith("4 of 8 checks failed: gradients, engines")


def test_a_spec_with_an_unregistered_kind_hints_at_plugin(capsys):
    code, out, err = run_cli(capsys, "validate", CUSTOM / "spec.yaml")
    assert code == 2 and "GR113" in err and "unknown node kind `highway`" in err
    assert "--plugin" in err


def test_plugin_works_for_every_command_by_path_or_module_name(capsys, registry, monkeypatch):
    code, out, _ = run_cli(capsys, "show", CUSTOM / "spec.yaml", "--plugin", CUSTOM / "kind.py")
    assert code == 0 and "h: highway[4]" in out
    from graphrnn.ops import OPS
    OPS.pop("highway")
    monkeypatch.syspath_prepend(str(CUSTOM))
    code, out, err = run_cli(capsys, "validate", CUSTOM / "spec.yaml", "--plugin", "kind")
    sys.modules.pop("kind", None)
    assert code == 0, err


def test_bad_plugins_exit_2(capsys, registry, tmp_path):
    code, _, err = run_cli(capsys, "check", "elman", "--plugin", tmp_path / "nope.py")
    assert code == 2 and "nope.py" in err and "not found" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "check", "elman", "--plugin", "no_such_module_here")
    assert code == 2 and "no_such_module_here" in err
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "check", "elman", "--plugin", broken)
    assert code == 2 and "RuntimeError: boom" in err


def test_check_rejects_bad_examples(capsys):
    code, _, err = run_cli(capsys, "check", "elman", "--examples", 0)
    assert code == 2 and "--examples" in err


def test_check_wrong_kind_subprocess_as_documented():
    done = subprocess.run(_console_script() + ["check", "examples/custom_kind/spec.yaml", "--plugin",
                                               "examples/custom_kind/wrong_kind.py", "--examples", "3"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "`highway`" in done.stdout and "Traceback" not in done.stderr


def test_check_only_some_checks(capsys):
    code, out, _ = run_cli(capsys, "check", "jordan", "--only", "batch", "--only", "unroll", "-n", 2)
    assert code == 0
    assert [line.split()[1] for line in out.splitlines() if line.startswith("PASS")] == ["batch", "unroll"]
    assert out.rstrip().endswith("all 2 checks hold")
    from graphrnn.cli import CHECK_NAMES
    from graphrnn.testing import CHECKS
    assert list(CHECK_NAMES) == list(CHECKS)


def test_check_a_kind_without_backward_rule_falls_back_to_autograd(capsys, registry, tmp_path):
    plugin = tmp_path / "norule.py"
    plugin.write_text(
        "from graphrnn.ops import CombinerKind, register_op\n"
        "register_op(CombinerKind(name='twice_test', doc='2 s', combine=lambda s: 2.0 * s[0],\n"
        "                   factor_per_edge=False, bias_default=True, allows_bias=True,\n"
        "                   needs_inputs=True))\n", encoding="utf-8")
    spec = tmp_path / "twice.yaml"
    spec.write_text("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  y: {size: 2, op: twice_test}\n"
                    "edges:\n  - {from: x, to: y}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "check", spec, "--plugin", plugin, "--examples", 2)
    assert code == 0, out + err
    assert "checking it on the autograd engine" in out
    assert "SKIP engines" in out and "twice_test" in out
    assert "all 8 checks hold (" in out


def test_check_a_memory_network(capsys, tmp_path):
    spec = tmp_path / "ntm.yaml"
    spec.write_text("""graphrnn: 1
inputs: {x: 2}
outputs: {y: 2}
nodes:
  ctrl: {size: 3, activation: tanh}
  mem: {op: memory, size: 2, memory: {slots: 4, width: 2, reads: 1, writes: 1, shifts: 3}}
  y: {size: 2, activation: sigmoid}
edges:
  - {from: x, to: ctrl}
  - {from: mem, to: ctrl, delay: 1}
  - {from: ctrl, to: [mem.read1, mem.write1]}
  - {from: [ctrl, mem], to: y}
""", encoding="utf-8")
    code, out, err = run_cli(capsys, "check", spec, "--examples", 2, "--seed", 1)
    assert code == 0, out + err
    assert "PASS gradients" in out and "PASS unroll" in out and "PASS engines" in out
