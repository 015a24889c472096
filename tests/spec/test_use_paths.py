"""`use:` paths stay inside the spec's folder, the library and GRAPHRNN_PATH (issue 17 item 3),
and a GRAPHRNN_PATH file that shadows a library spec is reported (item 7)."""
from __future__ import annotations

import warnings

import pytest

import graphrnn as gr
from graphrnn.cli import main
from graphrnn.compiler import ShadowedSpecWarning

MODULE = ("graphrnn: 1\nmodule: tiny\nparams: {size: 2}\nports: {in: h, out: h}\n"
          "nodes:\n  h: {size: $size, activation: tanh}\nedges:\n  - {from: h, to: h, delay: 1}\n")


def network(use: str) -> str:
    return ("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n"
            f"  m: {{use: {use}, size: 2}}\n  y: {{size: 2}}\n"
            "edges:\n  - {from: x, to: m.in}\n  - {from: m.out, to: y}\n")


def test_a_module_beside_or_below_the_spec_is_used(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "tiny.yaml").write_text(MODULE)
    (tmp_path / "net.yaml").write_text(network("lib/tiny.yaml"))
    net = gr.load(tmp_path / "net.yaml")
    assert net.module_files == {"lib/tiny.yaml": (tmp_path / "lib" / "tiny.yaml").resolve()}


@pytest.mark.parametrize("use", ["../outside/tiny.yaml", "../../../../../../etc/passwd", "/etc/passwd"])
def test_a_use_outside_the_allowed_folders_is_refused_at_its_line(tmp_path, use, monkeypatch):
    monkeypatch.delenv("GRAPHRNN_PATH", raising=False)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "tiny.yaml").write_text(MODULE)
    (tmp_path / "spec").mkdir()
    path = tmp_path / "spec" / "net.yaml"
    path.write_text(network(use))
    with pytest.raises(gr.GraphRNNError) as info:
        gr.load(path)
    err = info.value
    assert err.code == "GR109" and "outside the spec's folder" in err.message and "GRAPHRNN_PATH" in err.fix
    assert str(err).startswith(f"{path}:5:")          # the line of the `use:`, not the target file
    assert "root:" not in str(err)                    # nothing of /etc/passwd was read


def test_a_folder_on_graphrnn_path_opts_in(tmp_path, monkeypatch):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "tiny.yaml").write_text(MODULE)
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "net.yaml").write_text(network("../outside/tiny.yaml"))
    monkeypatch.setenv("GRAPHRNN_PATH", str(tmp_path / "outside"))
    assert gr.load(tmp_path / "spec" / "net.yaml").num_params > 0


@pytest.mark.parametrize("use", ["a" * 5000, "x/" + "b" * 5000 + ".yaml", '"a\\0b"'])
def test_unusable_names_are_located_module_errors(use):
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(network(use), "net.yaml")
    assert info.value.code == "GR109" and str(info.value).startswith("net.yaml:5:")
    assert len(info.value.message) < 400


def test_a_library_spec_shadowed_on_graphrnn_path_is_reported(tmp_path, monkeypatch, capsys):
    shadow = tmp_path / "lstm.yaml"
    shadow.write_text(MODULE.replace("module: tiny", "module: lstm"))
    monkeypatch.setenv("GRAPHRNN_PATH", str(tmp_path))
    monkeypatch.setattr("graphrnn.compiler._warned", set())
    with pytest.warns(ShadowedSpecWarning, match=str(shadow)):
        net = gr.load("lstm_2layer")
    assert net.module_files["lstm"] == shadow.resolve()      # the shadow took effect, and said so
    monkeypatch.setenv("GRAPHRNN_PATH", "")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = gr.load("lstm_2layer")
    assert str(net.module_files["lstm"]).endswith("lstm.yaml") and tmp_path not in net.module_files["lstm"].parents


def test_show_says_where_each_module_came_from(capsys):
    assert main(["show", "lstm_2layer"]) == 0
    out = capsys.readouterr().out
    assert "module files:" in out and "  lstm: " in out and "lstm.yaml" in out


def test_load_of_yaml_text_points_to_loads():
    with pytest.raises(gr.GraphRNNError) as info:
        gr.load(network("gru2"))
    assert info.value.code == "GR114" and "graphrnn.loads" in info.value.fix
    assert "inputs" not in str(info.value.loc)
