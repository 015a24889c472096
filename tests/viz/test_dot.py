"""The Graphviz export: DOT text beside PNG and SVG, the same nodes, edges and looks."""
from __future__ import annotations

import re
import shutil
import subprocess
import textwrap

import pytest

import graphrnn as gr
from graphrnn.cli import main
from graphrnn.viz import dot_text, draw_graph
from graphrnn.viz.dot import quote
from graphrnn.viz.looks import DELAY_COLOR, LINK_COLOR, MASK_COLOR

EDGE = re.compile(r'^  "((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)" \[(.*)\];$')
NODE = re.compile(r'^  "((?:[^"\\]|\\.)*)" \[(.*)\];$')


def parse(text: str):
    """(nodes, edges) of our DOT text: node name -> attribute text, [(src, dst, attribute text)]."""
    assert text.startswith("digraph ") and text.rstrip().endswith("}")
    nodes, edges = {}, []
    for line in text.splitlines():
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3)))
        elif m := NODE.match(line):
            nodes[m.group(1)] = m.group(2)
    return nodes, edges


def test_dot_has_every_node_and_edge_with_its_look():
    net = gr.load("elman")
    nodes, edges = parse(dot_text(net.ir, "elman"))
    assert set(nodes) - {"(legend)"} == set(net.ir.nodes)
    assert sorted((s, d) for s, d, _ in edges) == sorted((e.src, e.dst) for e in net.ir.edges)
    assert 'shape="box"' in nodes["x"] and 'shape="ellipse"' in nodes["h"] and 'penwidth="2.6"' in nodes["y"]
    loop = next(a for s, d, a in edges if s == d == "h")
    assert f'color="{DELAY_COLOR}"' in loop and 'style="dashed"' in loop and 'label="z⁻¹"' in loop
    assert 'constraint="false"' in loop
    assert "delayed edge" in nodes["(legend)"]


def test_dot_draws_tree_links_and_masks_as_what_they_are():
    _, edges = parse(dot_text(gr.load("recursive").ir))
    links = [a for s, d, a in edges if s == d == "p"]
    assert len(links) == 2 and all(f'color="{LINK_COLOR}"' in a and 'style="dotted"' in a for a in links)
    assert {re.search(r'label="([^"]*)"', a).group(1) for a in links} == {"child 1", "child 2"}
    masked = gr.loads(textwrap.dedent("""\
        graphrnn: 1
        inputs: {x: 2}
        outputs: {y: 2}
        nodes:
          y: {size: 2}
        edges:
          - {from: x, to: y, mask: [[1, 0], [1, 1]]}
        """))
    _, edges = parse(dot_text(masked.ir))
    assert f'color="{MASK_COLOR}"' in edges[0][2] and 'label="mask 3/4"' in edges[0][2]


def test_quote_escapes_what_dot_needs():
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_draw_writes_dot_by_suffix_or_format(tmp_path, capsys):
    assert main(["draw", "jordan", "-o", str(tmp_path / "j.dot")]) == 0
    by_suffix = (tmp_path / "j.dot").read_text("utf-8")
    assert main(["draw", "jordan", "--format", "dot", "-o", str(tmp_path / "j.gv")]) == 0
    assert (tmp_path / "j.gv").read_text("utf-8") == by_suffix
    assert draw_graph(gr.load("jordan"), tmp_path / "k.dot").read_text("utf-8") == by_suffix
    assert main(["draw", "jordan", "-o", str(tmp_path / "j.gif")]) == 2
    assert "--format" in capsys.readouterr().err and not (tmp_path / "j.gif").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graphviz_reads_the_export(tmp_path):
    for name in ("elman", "recursive", "fully_recurrent"):
        path = draw_graph(gr.load(name), tmp_path / f"{name}.dot")
        done = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
