"""`graphrnn list`, a module alone in validate/show/draw (graphrnn/inspection.py)."""
from __future__ import annotations

import numpy as np

import graphrnn as gr
from graphrnn.cli import main
from graphrnn.compiler import find_library_spec, library_names
from graphrnn.inspection import library_entries, load_for_inspection, task_entries
from graphrnn.tasks import ALL_TASKS, make_task


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_names_every_library_spec_once_under_its_kind(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    entries = library_entries()
    assert sorted(e.name for e in entries) == library_names()
    lines = out.splitlines()
    networks = lines.index(next(line for line in lines if line.startswith("networks (")))
    modules = lines.index(next(line for line in lines if line.startswith("modules (")))
    tasks = lines.index(next(line for line in lines if line.startswith("tasks (")))
    listed_networks = {line.split()[0] for line in lines[networks + 1:modules]}
    listed_modules = {line.split()[0] for line in lines[modules + 1:tasks]}
    assert listed_networks == {e.name for e in entries if e.kind == "network"}
    assert listed_modules == {e.name for e in entries if e.kind == "module"}
    assert {"elman", "lstm1997_reber"} <= listed_networks and {"gru2", "lstm", "srn_layer"} <= listed_modules
    assert {line.split()[0] for line in lines[tasks + 1:]} == set(ALL_TASKS)


def test_list_tasks_gives_the_sizes_loss_and_criterion_of_each_task(capsys):
    code, out, _ = run(capsys, "list", "tasks")
    assert code == 0 and not out.startswith("networks")
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(rows) == set(ALL_TASKS)
    for name, line in rows.items():
        task = make_task(name)
        assert f"x {task.input_size:>3} -> y {task.output_size:<3}" in line, line
        assert f"  {task.loss}" in line
    assert "|error| < 0.04 at the end" in rows["adding"]
    assert "most active outputs" in rows["embedded_reber"]
    entry = {t.name: t for t in task_entries()}
    assert (entry["copy"].input_size, entry["copy"].output_size, entry["copy"].loss) == (9, 8, "bce")
    assert entry["boolean_expressions"].over == "tree" and entry["boolean_expressions"].criterion


def test_list_modules_only(capsys):
    code, out, _ = run(capsys, "list", "modules")
    assert code == 0 and out.startswith("modules (") and "networks (" not in out and "tasks (" not in out
    assert "gru2" in out


def test_a_module_alone_is_instantiated_with_its_defaults(capsys):
    code, out, err = run(capsys, "validate", "gru2")
    assert code == 0, err
    assert "note: `gru2` is a module: instantiated alone with its defaults (size=8, bias=true)" in out
    assert "ok: gru2 (gru2: " in out
    net, note = load_for_inspection("gru2")
    assert net.inputs == {"in": 8} and net.output_size == 8
    # the same as a network that uses the module with those values written out
    assert net.outputs == {"gru2.out": "gru2.h"} and "gru2.z" in net.ir.nodes
    same = gr.loads("graphrnn: 1\nname: g\ninputs: {in: 8}\noutputs: {gru2.out: 8}\nnodes:\n"
                    "  gru2: {use: gru2, size: 8, bias: true}\nedges:\n  - {from: in, to: gru2.in}\n")
    assert net.num_params == same.num_params and set(net.params) == set(same.params)
    p = net.init(0)
    x = np.random.default_rng(0).normal(size=(3, 2, 8))
    np.testing.assert_allclose(net.run(p, x).y, same.run(p, x).y, rtol=1e-12, atol=1e-12)


def test_show_and_draw_take_a_module(tmp_path, capsys):
    code, out, err = run(capsys, "show", "lstm1997_block")
    assert code == 0, err
    assert "instantiated alone with its defaults (cells=1, in_gate_bias=0.0, out_gate_bias=0.0, cell_in_bias=true, cell_in_bias_init=0.0)" in out
    assert "module instances (1):" in out
    code, out, err = run(capsys, "draw", "srn_layer", "-o", str(tmp_path / "m.svg"))
    assert code == 0, err
    assert "note: `srn_layer` is a module" in out and (tmp_path / "m.svg").is_file()


def test_a_tree_module_alone_runs_over_trees():
    net, note = load_for_inspection("tree_lstm")
    assert net.ir.over == "tree" and "(over trees)" in note
    assert set(net.inputs) == {"in", "forget"}


def test_a_module_path_works_like_a_library_name(capsys):
    code, out, _ = run(capsys, "validate", str(find_library_spec("rnn_tanh")))
    assert code == 0 and "instantiated alone" in out


def test_a_module_without_an_out_port_is_refused_with_a_location(tmp_path, capsys):
    spec = tmp_path / "noout.yaml"
    spec.write_text("graphrnn: 1\nmodule: noout\nports: {in: h, result: h}\nnodes:\n  h: {size: 2}\n")
    code, _, err = run(capsys, "show", str(spec))
    assert code == 2
    assert err.startswith(f"{spec}:3:1: error GR109") and "no `out` port" in err


def test_a_module_with_a_parameter_without_default_says_so_where_it_is_declared(tmp_path, capsys):
    spec = tmp_path / "nodef.yaml"
    spec.write_text("graphrnn: 1\nmodule: nodef\nparams: {size: null, act: tanh}\nports: {in: h, out: h}\n"
                    "nodes:\n  h: {size: $size, activation: $act}\n")
    code, _, err = run(capsys, "validate", str(spec))
    assert code == 2
    assert err.startswith(f"{spec}:3:16: error GR104") and "no default for `size`" in err
