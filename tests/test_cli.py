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
    assert out == (f"ok: {spec} ({net.name}: {len(net.ir.nodes)} nodes, {len(net.ir.edges)} edges, "
                   f"{net.num_params} parameters)\n")
    assert err == ""


def test_validate_elman_line(capsys):
    code, out, _ = run_cli(capsys, "validate", "specs/elman.yaml")
    assert code == 0
    assert out.strip() == "ok: specs/elman.yaml (elman: 3 nodes, 3 edges, 370 parameters)"


def test_validate_library_name(capsys):
    code, out, _ = run_cli(capsys, "validate", "elman")
    assert code == 0 and out.startswith("ok: elman (elman: ")


@pytest.mark.parametrize("spec", MODULES, ids=lambda p: p.name)
def test_validate_module_is_a_located_error(capsys, spec):
    code, out, err = run_cli(capsys, "validate", spec)
    assert code == 2
    assert out == ""
    assert f"{spec}:1:1: error GR109" in err
    assert "module" in err and "Traceback" not in err


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
    assert out == str(gr.load("elman").plan) + "\n"


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
    for command in ("validate", "show", "run", "draw"):
        assert command in out
    for command, flags in (("run", ["--steps", "--seed", "--batch"]), ("draw", ["-o"]),
                           ("show", ["--plan"]), ("validate", ["SPEC"])):
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
