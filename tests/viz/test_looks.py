"""Edges drawn as what they are: tree links and masks have their own style, label and legend entry."""
from __future__ import annotations

import html
import textwrap

import graphrnn as gr
from graphrnn.graph.ir import Edge, Link
from graphrnn.viz import draw_graph
from graphrnn.viz.draw import figure
from graphrnn.viz.looks import (DELAY_COLOR, INSTANT_COLOR, LINK_COLOR, MASK_COLOR, edge_look,
                                legend_entries)

MASKED = textwrap.dedent("""\
    graphrnn: 1
    name: masked
    inputs: {x: 2}
    outputs: {y: 2}
    nodes:
      h: {size: 3, activation: tanh}
      y: {size: 2}
    edges:
      - {from: x, to: h, mask: [[1, 0, 1], [0, 1, 1]]}
      - {from: h, to: h, delay: 1, mask: [[1, 1, 0], [0, 1, 1], [0, 0, 1]]}
      - {from: h, to: y}
    """)


def legend_texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]


def arrows(fig):
    from matplotlib.patches import FancyArrowPatch
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, FancyArrowPatch)]


def test_each_edge_gets_the_look_of_what_it_is():
    assert edge_look(Edge("a", "b")).label == "" and edge_look(Edge("a", "b")).color == INSTANT_COLOR
    delayed = edge_look(Edge("a", "a", delay=2))
    assert (delayed.timing, delayed.label, delayed.color) == ("delayed", "z⁻²", DELAY_COLOR)
    child = edge_look(Edge("p", "p", link=Link("child", index=1)))
    assert (child.timing, child.label, child.color) == ("link", "child 1", LINK_COLOR)
    assert edge_look(Edge("c", "h", link=Link("children", pool="mean"))).label == "children mean"
    assert edge_look(Edge("x", "f", link=Link("parent"))).label == "parent"
    masked = edge_look(Edge("x", "h", mask=((1, 0), (0, 0))))
    assert (masked.timing, masked.masked, masked.label, masked.color) == ("instant", True, "mask 1/4", MASK_COLOR)
    assert edge_look(Edge("h", "h", delay=1, mask=((1, 1), (0, 1)))).label == "z⁻¹, mask 3/4"


def test_tree_links_are_dotted_labelled_and_not_called_instantaneous():
    net = gr.load("recursive")                 # p -> p through child: 1 and child: 2
    fig = figure(net)
    labels = legend_texts(fig)
    assert "tree link (child k, children pool, parent)" in labels
    assert not any(label.startswith("delayed") for label in labels)      # none in this graph
    loops = [a for a in arrows(fig) if a.get_edgecolor()[:3] == (0x15 / 255, 0x65 / 255, 0xc0 / 255)]
    assert len(loops) == 2 and all(a.get_linestyle() != "-" for a in loops)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"child 1", "child 2"} <= texts


def test_tree_lstm_draws_its_pooled_children_and_parent_links(tmp_path):
    text = html.unescape(draw_graph(gr.load("tree_lstm_classifier"), tmp_path / "t.svg").read_text("utf-8"))
    for label in ("children sum", "parent", "tree link"):
        assert label in text


def test_masked_edges_have_their_own_colour_label_and_legend_entry(tmp_path):
    net = gr.loads(MASKED, "masked.yaml")
    fig = figure(net)
    assert "masked edge (mask k/n: k of n weights connected)" in legend_texts(fig)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"mask 4/6", "z⁻¹, mask 5/9"} <= texts
    colours = sorted(a.get_edgecolor()[:3] for a in arrows(fig))
    purple = tuple(int(MASK_COLOR[i:i + 2], 16) / 255 for i in (1, 3, 5))
    assert sum(1 for c in colours if all(abs(a - b) < 1e-6 for a, b in zip(c, purple))) == 2
    svg = html.unescape(draw_graph(net, tmp_path / "m.svg").read_text("utf-8"))
    assert "mask 4/6" in svg and MASK_COLOR in svg


def test_the_legend_lists_only_the_edge_kinds_present():
    looks = [edge_look(Edge("a", "b")), edge_look(Edge("b", "b", delay=1))]
    assert [label for label, _ in legend_entries(looks)] == ["instantaneous edge",
                                                             "delayed edge (z⁻ᵈ: d steps back)"]
