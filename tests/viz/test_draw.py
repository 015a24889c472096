"""Drawing the expanded graph: layout, file formats, delay labels."""
from __future__ import annotations

import html

import pytest

import graphrnn as gr
from graphrnn.viz import delay_label, draw_graph, layered_layout
from graphrnn.viz.draw import figure, layer_of, layout

ODD = """\
graphrnn: 1
name: odd
inputs: {x: 3, c: 1}
outputs: {y: 2, top: 4}
nodes:
  a: {size: 4, activation: tanh}
  g: {size: 4, activation: sigmoid}
  y: {size: 2, activation: sigmoid}
  top: {use: srn_layer, size: 4}
edges:
  - {from: x, to: a}
  - {from: c, to: g, kind: broadcast}
  - {from: a, to: a, delay: 1}
  - {from: a, to: a, delay: 2, share: tie}
  - {from: g, to: g, delay: 3, share: tie}
  - {from: [a, g], to: y}
  - {from: y, to: a, delay: 1}
  - {from: x, to: y}
  - {from: y, to: top}
"""


def svg_text(path) -> str:
    return html.unescape(path.read_text(encoding="utf-8"))


def test_delay_label():
    assert delay_label(1) == "z⁻¹"
    assert delay_label(12) == "z⁻¹²"


def test_layers_inputs_left_outputs_right():
    net = gr.load("jordan")
    layer = layer_of(net.ir)
    assert layer["x"] == 0 and layer["s"] == 0          # s reads nothing instantaneously
    assert layer["h"] == 1 and layer["y"] == 2
    pos = layered_layout(net.ir)
    assert pos["x"][0] < pos["h"][0] < pos["y"][0]


def test_unit_level_outputs_move_right_and_units_form_a_ring():
    net = gr.load("fully_recurrent")
    lay = layout(net.ir)
    assert lay.layer["x"] == 0 and lay.layer["u3"] == 1
    assert lay.layer["u1"] == lay.layer["u2"] == 2
    assert 1 in lay.ring and 2 not in lay.ring
    assert len({lay.pos[n] for n in net.ir.nodes}) == len(net.ir.nodes)


def test_draw_png(tmp_path):
    path = draw_graph(gr.load("elman"), tmp_path / "elman.png")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def test_draw_svg_has_labels_and_styles(tmp_path):
    net = gr.load("elman")
    text = svg_text(draw_graph(net, tmp_path / "elman.svg"))
    assert "z⁻¹" in text
    for name in ("x", "h", "y", "[16]", "370 parameters"):
        assert name in text
    assert "stroke-dasharray" in text                  # the delayed edge is dashed


def test_draw_accepts_graph_and_uppercase_suffix(tmp_path):
    net = gr.loads(ODD, str(tmp_path / "odd.yaml"))
    text = svg_text(draw_graph(net.ir, tmp_path / "odd.SVG"))
    for label in ("z⁻¹", "z⁻²", "z⁻³", "top.h", "→ top"):
        assert label in text


def test_draw_fully_recurrent(tmp_path):
    path = draw_graph(gr.load("fully_recurrent"), tmp_path / "fr.svg")
    text = svg_text(path)
    assert text.count("z⁻¹") >= 16                      # every self-loop labelled
    assert "u16" in text


def test_bad_suffix_and_bad_object(tmp_path):
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.dot"):
        draw_graph(gr.load("elman"), tmp_path / "elman.jpg")
    assert not (tmp_path / "elman.jpg").exists()
    with pytest.raises(TypeError):
        figure(object())
