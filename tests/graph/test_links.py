"""Tree links are typed records on the graph's edges, parsed once when the spec is expanded."""
from __future__ import annotations

import pytest

import graphrnn as gr
from graphrnn.graph import Link

TREE = """graphrnn: 1
over: tree
inputs: {x: 2}
outputs: {y: 2}
nodes:
  h: {size: 2, activation: tanh}
  y: {size: 2}
edges:
  - {from: x, to: h}
  - {from: h, to: h, LINK}
  - {from: h, to: y}
"""


@pytest.mark.parametrize("written, link, label", [
    ("child: 3", Link("child", index=3), "child3"),
    ("children: sum", Link("children", pool="sum"), "children.sum"),
    ("children: mean", Link("children", pool="mean"), "children.mean"),
])
def test_links_are_typed_and_print_as_the_spec_wrote_them(written, link, label):
    net = gr.loads(TREE.replace("LINK", written))
    (edge,) = [e for e in net.ir.edges if e.src == e.dst == "h"]
    assert edge.link == link and str(edge.link) == label
    assert edge.param == f"h->h@{label}" and f"@{label}" in str(net.plan)
    assert all(e.link is None for e in net.ir.edges if e is not edge)


def test_a_parent_link_reads_the_parent():
    text = TREE.replace("  - {from: h, to: h, LINK}\n", "  - {from: h, to: h, child: 1}\n"
                        "  - {from: x, to: h, parent: true}\n")
    links = {str(e.link) for e in gr.loads(text).ir.edges if e.link is not None}
    assert links == {"child1", "parent"}


@pytest.mark.parametrize("links, arity", [
    (["child: 3", "child: 1"], 3),
    (["child: 2", "children: sum"], None),
    ([], 0),
])
def test_the_graph_bounds_a_tree_node_s_children(links, arity):
    edges = "".join(f"  - {{from: h, to: h, {link}}}\n" for link in links) or "  - {from: x, to: y}\n"
    graph = gr.loads(TREE.replace("  - {from: h, to: h, LINK}\n", edges)).ir
    assert graph.max_arity == arity
    if arity:
        assert graph.arity_edge.link == Link("child", index=arity)


def test_sequences_read_no_links():
    text = TREE.replace("over: tree\n", "").replace("LINK", "delay: 1")
    assert all(e.link is None and (e.instant or e.delay) for e in gr.loads(text).ir.edges)
