"""Every error code in ``graphrnn.errors.CODES``: a small bad spec that triggers it.

Each case checks the code, that ``str(err)`` starts with ``file:line:col``
at the right spot (computed from the text by :func:`at`, never typed in by
hand), and that the error carries a fix.  ``test_every_code_has_a_case``
keeps this file in step with CODES, and ``test_docs_table_lists_every_code``
keeps docs/errors.md in step with CODES.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.compiler import find_library_spec
from graphrnn.errors import CODES
from graphrnn.runtime import network_base

DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
FILE = "bad.yaml"


def spec(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the ``nth`` occurrence of ``needle`` in ``text``."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def located(err: gr.GraphRNNError, code: str, file: str, line: int, col: int) -> None:
    """err has ``code``, starts with ``file:line:col``, and carries a fix."""
    assert err.code == code, str(err)
    assert str(err).startswith(f"{file}:{line}:{col}: error {code} ({CODES[code]}): "), str(err)
    assert err.fix and err.fix.strip(), str(err)


def fails(text: str, code: str, needle: str, nth: int = 0, file: str = FILE) -> gr.GraphRNNError:
    """Load ``text``; it must fail with ``code`` located at ``needle``."""
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, file)
    located(info.value, code, file, *at(text, needle, nth))
    return info.value


# A valid baseline that the cases below break one thing at a time.
GOOD = spec("""
    graphrnn: 1
    inputs: {x: 2}
    outputs: {y: 2}
    nodes:
      h: {size: 3, activation: tanh}
      y: {size: 2}
    edges:
      - {from: x, to: h}
      - {from: h, to: h, delay: 1}
      - {from: h, to: y}
    """)


def test_baseline_is_valid():
    net = gr.loads(GOOD, FILE)
    assert set(net.init(0)) == {"x->h", "h->h@1", "h->y", "h.bias", "y.bias"}


# -- GR100 YAML syntax ---------------------------------------------------------------

def test_gr100_tab_indentation():
    text = GOOD.replace("  y: {size: 2}", "\ty: {size: 2}")
    fails(text, "GR100", "\t")


def test_gr100_mapping_value_in_plain_scalar():
    text = GOOD.replace("  y: {size: 2}", "  y: size: 2")
    fails(text, "GR100", ": 2\n")   # the second colon on the line is the problem


def test_gr100_unclosed_flow_mapping():
    text = GOOD.replace("  y: {size: 2}\n", "  y: {size: 2\n")
    err = fails(text, "GR100", ":\n  - {from: x")   # PyYAML notices at the colon of `edges:`
    assert "flow mapping" in err.message or "expected" in err.message


# -- GR101 unsafe or unknown tag -------------------------------------------------------

def test_gr101_python_tag():
    text = GOOD.replace("graphrnn: 1\n", 'graphrnn: 1\nname: !!python/object/apply:os.system ["echo hacked"]\n')
    err = fails(text, "GR101", "!!python")
    assert "python/object/apply:os.system" in err.message


def test_gr101_unknown_local_tag():
    text = GOOD.replace("{size: 3, activation: tanh}", "!custom {size: 3, activation: tanh}")
    fails(text, "GR101", "!custom")


# -- GR102 instantaneous cycle -----------------------------------------------------------

def test_gr102_instantaneous_cycle_names_both_edges():
    text = spec("""
        graphrnn: 1
        inputs: {x: 1}
        outputs: {h: 1}
        nodes:
          h: {size: 1}
          g: {size: 1}
        edges:
          - {from: x, to: h}
          - {from: h, to: g}
          - {from: g, to: h}
        """)
    hg, gh = at(text, "{from: h, to: g}"), at(text, "{from: g, to: h}")
    with pytest.raises(gr.GraphError) as info:
        gr.loads(text, FILE)
    err = info.value
    where = str(err).split(": error")[0]
    assert where in (f"{FILE}:{hg[0]}:{hg[1]}", f"{FILE}:{gh[0]}:{gh[1]}"), str(err)   # at one of its edges
    located(err, "GR102", FILE, *map(int, where.split(":")[1:]))
    assert re.search(r"\b(h -> g -> h|g -> h -> g)\b", err.message), err.message
    notes = "\n".join(err.notes)
    assert f"{FILE}:{hg[0]}:{hg[1]}" in notes and f"{FILE}:{gh[0]}:{gh[1]}" in notes
    assert "delay" in err.fix


def test_gr102_self_loop_without_delay():
    text = GOOD.replace("{from: h, to: h, delay: 1}", "{from: h, to: h}")
    err = fails(text, "GR102", "{from: h, to: h}")
    assert "h -> h" in err.message and "delay: 1" in err.fix


def test_delayed_cycle_is_fine():
    gr.loads(GOOD, FILE)


# -- GR103 unknown key -------------------------------------------------------------------

def test_gr103_node_key_typo_did_you_mean():
    text = GOOD.replace("activation: tanh", "activaton: tanh")
    err = fails(text, "GR103", "activaton")
    assert "did you mean `activation`?" in err.message


def test_gr103_edge_key_typo_did_you_mean():
    text = GOOD.replace("{from: h, to: h, delay: 1}", "{from: h, to: h, dely: 1}")
    err = fails(text, "GR103", "dely")
    assert "did you mean `delay`?" in err.message
    assert "delay" in err.fix


def test_gr103_top_level_key_typo():
    text = GOOD.replace("edges:", "edgse:")
    err = fails(text, "GR103", "edgse")
    assert "did you mean `edges`?" in err.message


def test_gr103_typo_in_a_required_key():
    text = GOOD.replace("outputs:", "outptus:")
    err = fails(text, "GR103", "outptus")
    assert "did you mean `outputs`?" in err.message


def test_gr103_unknown_module_parameter():
    text = spec("""
        graphrnn: 1
        inputs: {x: 2}
        outputs: {y: 3}
        nodes:
          layer: {use: srn_layer, size: 3, sise: 4}
          y: {size: 3}
        edges:
          - {from: x, to: layer}
          - {from: layer, to: y}
        """)
    err = fails(text, "GR103", "sise")
    assert "did you mean `size`?" in err.message
    assert "size" in err.fix and "activation" in err.fix


# -- GR104 invalid value or type -------------------------------------------------------------

@pytest.mark.parametrize("old, new, needle", [
    ("{size: 3, activation: tanh}", "{size: 0, activation: tanh}", "0, act"),
    ("{size: 3, activation: tanh}", "{size: three, activation: tanh}", "three"),
    ("{from: h, to: h, delay: 1}", "{from: h, to: h, delay: -1}", "-1"),
    ("{from: h, to: h, delay: 1}", "{from: h, to: h, delay: 1, kind: sparse}", "sparse"),
    ("{size: 3, activation: tanh}", "{size: 3, activation: tanh, initial: maybe}", "maybe"),
], ids=["size-0", "size-str", "delay-negative", "kind-unknown", "initial-bad"])
def test_gr104_bad_values(old, new, needle):
    fails(GOOD.replace(old, new), "GR104", needle)


def test_gr104_missing_required_key():
    text = GOOD.replace("  y: {size: 2}", "  y: {activation: tanh}")
    err = fails(text, "GR104", "{activation: tanh}")
    assert "size" in err.message and "size" in err.fix


def test_gr104_fixed_edge_without_weights():
    text = GOOD.replace("{from: h, to: h, delay: 1}", "{from: h, to: h, delay: 1, kind: fixed}")
    err = fails(text, "GR104", "{from: h, to: h, delay: 1, kind: fixed}")
    assert "weights" in err.fix


def test_gr104_weights_and_init_together():
    text = GOOD.replace("{from: h, to: y}", "{from: h, to: y, weights: 0.5, init: zeros}")
    fails(text, "GR104", "init: zeros")


def test_gr104_spec_is_not_a_mapping():
    fails("- graphrnn\n- 1\n", "GR104", "- graphrnn")


# -- GR105 unknown reference ---------------------------------------------------------------

def test_gr105_unknown_node_did_you_mean():
    text = GOOD.replace("{from: h, to: y}", "{from: hh, to: y}")
    err = fails(text, "GR105", "hh")
    assert "did you mean `h`?" in err.message


def test_gr105_unknown_node_in_a_list():
    text = GOOD.replace("{from: h, to: y}", "{from: [x, h], to: [y, yy]}")
    err = fails(text, "GR105", "yy")
    assert "did you mean `y`?" in err.message


def test_gr105_edge_into_an_input():
    text = GOOD.replace("{from: h, to: y}", "{from: h, to: y}\n  - {from: h, to: x}")
    fails(text, "GR105", "x}")


def test_gr105_output_names_an_unknown_node():
    text = GOOD.replace("outputs: {y: 2}", "outputs: {z: 2}")
    fails(text, "GR105", "z: 2")


def test_gr105_undeclared_param_in_a_network():
    text = GOOD.replace("activation: tanh", "activation: $act")
    err = fails(text, "GR105", "$act")
    assert "$act" in err.message


def test_gr105_undeclared_module_param_is_located_in_the_module(tmp_path):
    module = spec("""
        graphrnn: 1
        module: layer
        params: {size: 2}
        ports: {in: h, out: h}
        nodes:
          h: {size: $sise}
        """)
    (tmp_path / "layer.yaml").write_text(module)
    net_text = spec("""
        graphrnn: 1
        inputs: {x: 2}
        outputs: {y: 2}
        nodes:
          l: {use: layer.yaml}
          y: {size: 2}
        edges:
          - {from: x, to: l}
          - {from: l, to: y}
        """)
    with pytest.raises(gr.GraphError) as info:
        gr.loads(net_text, str(tmp_path / "net.yaml"))
    located(info.value, "GR105", str((tmp_path / "layer.yaml").resolve()), *at(module, "$sise"))
    assert "did you mean `size`?" in info.value.message


# -- GR106 size mismatch ------------------------------------------------------------------

SIZES = spec("""
    graphrnn: 1
    inputs: {x: 2}
    outputs: {y: 2}
    nodes:
      h: {size: 3}
      y: {size: 2}
      one: {size: 1}
    edges:
      - {from: x, to: [h, one]}
      - {from: h, to: y}
      - {from: one, to: y}
      - EDGE
    """)


@pytest.mark.parametrize("edge, word", [
    ("{from: h, to: y, kind: identity, delay: 1}", "identity"),
    ("{from: h, to: y, kind: diagonal, delay: 1}", "diagonal"),
    ("{from: h, to: y, kind: broadcast, delay: 1}", "broadcast"),
    ("{from: h, to: y, kind: fixed, weights: [1, 2], delay: 1}", "fixed"),
    ("{from: h, to: y, kind: fixed, weights: 0.5, delay: 1}", "fixed"),
    ("{from: h, to: y, weights: [[1, 2, 3], [4, 5, 6]], delay: 1}", "weights"),
], ids=["identity", "diagonal", "broadcast", "fixed-vector", "fixed-scalar", "dense-weights"])
def test_gr106_edge_sizes(edge, word):
    text = SIZES.replace("EDGE", edge)
    err = fails(text, "GR106", edge)
    assert word in err.message and "h -> y" in err.message


def test_gr106_broadcast_from_size_one_is_fine():
    gr.loads(SIZES.replace("EDGE", "{from: one, to: h, kind: broadcast, delay: 1}"), FILE)


def test_gr106_output_size():
    text = GOOD.replace("outputs: {y: 2}", "outputs: {y: 5}")
    err = fails(text, "GR106", "5}")
    assert "size 5" in err.message and "size 2" in err.message


def test_gr106_shared_weights_of_different_shapes():
    text = spec("""
        graphrnn: 1
        inputs: {x: 2}
        outputs: {y: 2}
        nodes:
          h: {size: 3}
          y: {size: 2}
        edges:
          - {from: x, to: h, share: w}
          - {from: x, to: y, share: w}
        """)
    with pytest.raises(gr.GraphError) as info:
        gr.loads(text, FILE)
    err = info.value
    assert err.code == "GR106" and "`w`" in err.message
    line = int(str(err).split(":")[1])
    assert line in (at(text, "share: w")[0], at(text, "share: w", 1)[0])


# -- GR107 output not reachable -------------------------------------------------------------

def test_gr107_output_unreachable():
    text = spec("""
        graphrnn: 1
        inputs: {x: 2}
        outputs: {y: 2}
        nodes:
          h: {size: 3}
          z: {size: 2}
          y: {size: 2}
        edges:
          - {from: x, to: h}
          - {from: z, to: y}
          - {from: y, to: z, delay: 1}
        """)
    err = fails(text, "GR107", "y: {size")
    assert "`y`" in err.message


# -- GR108 limits ----------------------------------------------------------------------------

def test_gr108_node_too_large():
    text = GOOD.replace("{size: 3, activation: tanh}", "{size: 2000000, activation: tanh}")
    fails(text, "GR108", "2000000")


def test_gr108_alias_bomb():
    lines = ["graphrnn: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = "\n".join(lines) + "\n"
    with pytest.raises(gr.SpecError) as info:
        gr.loads(text, FILE)
    located(info.value, "GR108", FILE, 1, 1)


def test_gr108_too_many_parameters(monkeypatch):
    monkeypatch.setattr(network_base, "MAX_PARAMS", 20)   # GOOD has 6 + 9 + 6 + 3 + 2 = 26
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(GOOD, FILE)
    assert info.value.code == "GR108" and "26 parameters" in info.value.message
    assert info.value.fix


def test_gr108_parameter_limit_is_checked_before_the_expensive_work(monkeypatch):
    monkeypatch.setattr(network_base, "MAX_PARAMS", 20)
    built = []
    real = network_base.Assembler
    monkeypatch.setattr(network_base, "Assembler", lambda *a, **k: built.append(1) or real(*a, **k))
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(GOOD, FILE)
    assert info.value.code == "GR108"
    assert built == [], "the fused-array assembler was built for a network over the parameter limit"


# -- GR109 module errors --------------------------------------------------------------------

def test_gr109_unknown_library_module_did_you_mean():
    text = spec("""
        graphrnn: 1
        inputs: {x: 2}
        outputs: {y: 2}
        nodes:
          layer: {use: srn_layr, size: 3}
          y: {size: 2}
        edges:
          - {from: x, to: layer}
          - {from: layer, to: y}
        """)
    err = fails(text, "GR109", "srn_layr")
    assert "did you mean `srn_layer`?" in err.message
    assert "srn_layer" in err.fix


NET_USING = spec("""
    graphrnn: 1
    inputs: {x: 2}
    outputs: {y: 2}
    nodes:
      m: {use: USE}
      y: {size: 2}
    edges:
      - {from: x, to: m}
      - {from: m, to: y}
    """)


def test_gr109_module_file_not_found(tmp_path):
    text = NET_USING.replace("USE", "./nowhere.yaml")
    err = fails(text, "GR109", "./nowhere.yaml", file=str(tmp_path / "net.yaml"))
    assert "nowhere.yaml" in err.message


def test_gr109_module_uses_itself(tmp_path):
    module = spec("""
        graphrnn: 1
        module: loop
        ports: {in: h, out: h}
        nodes:
          h: {size: 2}
          again: {use: ./loop.yaml}
        """)
    (tmp_path / "loop.yaml").write_text(module)
    with pytest.raises(gr.GraphError) as info:
        gr.loads(NET_USING.replace("USE", "./loop.yaml"), str(tmp_path / "net.yaml"))
    err = info.value
    located(err, "GR109", str((tmp_path / "loop.yaml").resolve()), *at(module, "./loop.yaml"))
    assert "itself" in err.message


def test_gr109_modules_using_each_other(tmp_path):
    a = spec("""
        graphrnn: 1
        module: a
        ports: {in: h, out: h}
        nodes:
          h: {size: 2}
          other: {use: b.yaml}
        """)
    b = a.replace("module: a", "module: b").replace("b.yaml", "a.yaml")
    (tmp_path / "a.yaml").write_text(a)
    (tmp_path / "b.yaml").write_text(b)
    with pytest.raises(gr.GraphError) as info:
        gr.loads(NET_USING.replace("USE", "a.yaml"), str(tmp_path / "net.yaml"))
    located(info.value, "GR109", str((tmp_path / "b.yaml").resolve()), *at(b, "a.yaml"))


def test_gr109_use_of_a_network_file(tmp_path):
    (tmp_path / "other.yaml").write_text(GOOD)
    text = NET_USING.replace("USE", "other.yaml")
    err = fails(text, "GR109", "other.yaml", file=str(tmp_path / "net.yaml"))
    assert "network" in err.message and "module" in err.fix


def test_gr109_load_a_module_as_a_network():
    with pytest.raises(gr.GraphError) as info:
        gr.load("srn_layer")
    assert info.value.code == "GR109" and "module" in info.value.message
    assert str(info.value).startswith(f"{find_library_spec('srn_layer')}:1:1: ")
    assert info.value.fix


# -- GR110 duplicate name ------------------------------------------------------------------

def test_gr110_duplicate_yaml_key():
    text = GOOD.replace("  y: {size: 2}\n", "  y: {size: 2}\n  h: {size: 4}\n")
    err = fails(text, "GR110", "h: {size: 4}")
    first = at(text, "h: {size: 3")
    assert f"{FILE}:{first[0]}:{first[1]}" in err.fix


def test_gr110_duplicate_key_inside_a_flow_mapping():
    text = GOOD.replace("{size: 3, activation: tanh}", "{size: 3, activation: tanh, size: 4}")
    fails(text, "GR110", "size: 4")


def test_gr110_two_edges_define_the_same_parameter():
    text = GOOD.replace("{from: h, to: y}", "{from: h, to: y}\n  - {from: h, to: y, init: zeros}")
    err = fails(text, "GR110", "{from: h, to: y, init: zeros}")
    assert "`h->y`" in err.message and "share" in err.fix
    first = at(text, "{from: h, to: y}")
    assert f"{FILE}:{first[0]}:{first[1]}" in "\n".join(err.notes)


def test_gr110_a_list_edge_overlaps_another_edge():
    text = GOOD.replace("{from: h, to: y}", "{from: h, to: y}\n  - {from: [x, h], to: y}")
    fails(text, "GR110", "{from: [x, h], to: y}")


def test_gr110_points_at_the_later_edge_whatever_its_kind():
    text = GOOD.replace("{from: h, to: h, delay: 1}",
                        "{from: h, to: h, delay: 1, kind: diagonal}\n  - {from: h, to: h, delay: 1}")
    err = fails(text, "GR110", "{from: h, to: h, delay: 1}\n")
    first = at(text, "{from: h, to: h, delay: 1, kind: diagonal}")
    assert f"first at {FILE}:{first[0]}:{first[1]}" in err.notes


def test_gr110_node_named_like_an_input():
    text = GOOD.replace("  y: {size: 2}\n", "  y: {size: 2}\n  x: {size: 2}\n")
    fails(text, "GR110", "x: {size: 2}")


# -- GR111 version -----------------------------------------------------------------------------

def test_gr111_version_2():
    err = fails(GOOD.replace("graphrnn: 1", "graphrnn: 2"), "GR111", "2")
    assert "graphrnn: 1" in err.fix


def test_gr111_missing_version():
    fails(GOOD.replace("graphrnn: 1\n", ""), "GR111", "inputs")


def test_gr111_boolean_version():
    fails(GOOD.replace("graphrnn: 1", "graphrnn: true"), "GR111", "true")


# -- GR112 weights, mask or init -------------------------------------------------------------

def test_gr112_mask_shape():
    edge = "{from: h, to: y, mask: [[1, 0], [0, 1]]}"   # h is 3 units, so 3 rows are needed
    err = fails(GOOD.replace("{from: h, to: y}", edge), "GR112", edge)
    assert "(2, 2)" in err.message and "(3, 2)" in err.message
    assert "3 rows" in err.fix


@pytest.mark.parametrize("option", ["mask: [[1, 0], [0, 1], [1]]", "weights: [[1, 2], [3, 4], [5]]",
                                    "kind: fixed, weights: [[1, 2], [3, 4], [5]]"],
                         ids=["mask", "dense-weights", "fixed-weights"])
def test_gr112_ragged_lists(option):
    edge = "{from: h, to: y, " + option + "}"
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(GOOD.replace("{from: h, to: y}", edge), FILE)
    assert info.value.code in ("GR106", "GR112")
    assert str(info.value).startswith(f"{FILE}:{at(GOOD, '{from: h, to: y}')[0]}:")


@pytest.mark.parametrize("option", ["weights: [[1, 2], [3, 4], [5, .nan]]", "init: .inf", "init: {normal: .NaN}"],
                         ids=["nan-weights", "inf-init", "nan-std"])
def test_non_finite_numbers_are_refused_where_they_are_written(option):
    text = GOOD.replace("{from: h, to: y}", "{from: h, to: y, " + option + "}")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, FILE)
    assert info.value.code == "GR104" and info.value.fix and "finite" in info.value.message
    needle = ".nan" if ".nan" in option else (".NaN" if ".NaN" in option else ".inf")
    assert str(info.value).startswith(f"{FILE}:{at(text, needle)[0]}:{at(text, needle)[1]}:")


def test_a_nan_bias_init_is_refused():
    text = GOOD.replace("h: {size: 3, activation: tanh}", "h: {size: 3, activation: tanh, bias_init: .nan}")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, FILE)
    assert info.value.code == "GR104"
    assert str(info.value).startswith(f"{FILE}:{at(text, '.nan')[0]}:{at(text, '.nan')[1]}:")


def test_gr112_orthogonal_on_a_vector_parameter_is_refused_at_load():
    edge = "{from: h, to: h, delay: 1, kind: diagonal, init: orthogonal}"
    fails(GOOD.replace("{from: h, to: h, delay: 1}", edge), "GR112", "orthogonal")


# -- GR113 op or activation -------------------------------------------------------------------

def test_gr113_unknown_op_did_you_mean():
    text = GOOD.replace("{size: 3, activation: tanh}", "{size: 3, op: prodcut}")
    err = fails(text, "GR113", "prodcut")
    assert "did you mean `product`?" in err.message and "sum" in err.fix


def test_gr113_unknown_activation_did_you_mean():
    text = GOOD.replace("activation: tanh", "activation: tanhh")
    err = fails(text, "GR113", "tanhh")
    assert "did you mean `tanh`?" in err.message and "sigmoid" in err.fix


# -- GR114 file not found ---------------------------------------------------------------------

def test_gr114_missing_file(tmp_path):
    path = tmp_path / "missing.yaml"
    with pytest.raises(gr.SpecError) as info:
        gr.load(path)
    err = info.value
    assert err.code == "GR114"
    # no line to point at: the location is the file itself
    assert str(err).startswith(f"{path}: error GR114 ({CODES['GR114']}): "), str(err)
    assert err.fix


def test_gr114_library_name_typo_did_you_mean():
    with pytest.raises(gr.SpecError) as info:
        gr.load("elmann")
    assert info.value.code == "GR114"
    assert "did you mean `elman`?" in info.value.message
    assert "elman" in info.value.fix


def test_gr115_kind_without_a_backward_rule():
    from graphrnn.ops import OPS, CombinerKind, register_op
    register_op(CombinerKind(name="square_test_kind", doc="y = act(s^2)", combine=lambda slots: slots[0] * slots[0],
                       factor_per_edge=False, bias_default=False, allows_bias=False, needs_inputs=True))
    try:
        text = GOOD.replace("y: {size: 2}", "y: {size: 2, op: square_test_kind}")
        with pytest.raises(gr.GraphRNNError) as info:
            gr.loads(text, FILE, engine="fused")
        located(info.value, "GR115", FILE, *at(text, "y: {size: 2"))
        net = gr.loads(text, FILE)   # by default such a network runs on autograd, which differentiates `combine`
        assert net.engine.name == "autograd"
        assert net.run(net.init(0), np.ones((2, 1, 2))).y.shape == (2, 1, 2)
    finally:
        OPS.pop("square_test_kind")


def test_gr116_compiled_engine_without_numba(monkeypatch):
    from graphrnn.runtime import generated
    monkeypatch.setattr(generated, "available", lambda: False)
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(GOOD, FILE, engine="compiled")
    assert info.value.code == "GR116"
    assert "numba" in str(info.value) and "engine='fused'" in info.value.fix


def test_gr117_rewritten_plan_that_breaks_an_invariant():
    """No spec yields a broken plan (build_plan checks its own); a plan rewritten wrongly is caught.
    tests/plan/test_check.py breaks each invariant in turn."""
    from dataclasses import replace

    from graphrnn.plan import check_plan
    plan = gr.loads(GOOD, FILE).plan
    with pytest.raises(gr.PlanError) as info:
        check_plan(replace(plan, lookback={}))
    assert str(info.value).startswith(f"error GR117 ({CODES['GR117']}): projection `")
    assert "plan.lookback" in info.value.message and info.value.fix


# -- GR120-GR124: trees ------------------------------------------------------------------------

def test_gr120_child_edge_in_a_sequence_network():
    text = GOOD.replace("{from: h, to: h, delay: 1}", "{from: h, to: h, child: 1}")
    err = fails(text, "GR120", "{from: h, to: h, child: 1}")
    assert "over: tree" in err.fix


def test_gr120_delay_in_a_tree_network():
    text = "over: tree\n" + GOOD
    err = fails(text, "GR120", "{from: h, to: h, delay: 1}")
    assert "child: 1" in err.fix


def test_gr120_delay_and_child_on_one_edge():
    text = GOOD.replace("{from: h, to: h, delay: 1}", "{from: h, to: h, delay: 1, child: 1}")
    fails(text, "GR120", "child: 1")


def test_gr121_unbalanced_parentheses_in_tree_data():
    from graphrnn.trees import parse_sexprs
    text = "(and T F)\n(or T\n  (xor F F)\n"
    with pytest.raises(gr.SpecError) as info:
        parse_sexprs(text, "trees.txt")
    located(info.value, "GR121", "trees.txt", *at(text, "(or"))


def test_gr122_unknown_token_in_tree_data():
    from graphrnn.trees import TreeBatch, Vocabulary, parse_sexprs
    text = "(and T F)\n(or T\n  (xro F F))\n"
    with pytest.raises(gr.SpecError) as info:
        TreeBatch.of(parse_sexprs(text, "trees.txt"), Vocabulary(["and", "or", "xor", "T", "F"]))
    located(info.value, "GR122", "trees.txt", *at(text, "xro"))
    assert "did you mean `xor`?" in info.value.message


TREE = spec("""
    graphrnn: 1
    over: tree
    inputs: {x: 2}
    outputs: {h: 3}
    nodes:
      h: {size: 3, activation: tanh}
    edges:
      - {from: x, to: h}
      - {from: h, to: h, child: 1}
      - {from: h, to: h, child: 2}
    """)


def test_gr123_a_node_with_more_children_than_the_spec_reads():
    from graphrnn.trees import Vocabulary, parse_sexprs
    net = gr.loads(TREE, FILE)
    data = "(a b)\n(a b\n  (a b b b))\n"
    with pytest.raises(gr.SpecError) as info:
        net.batch(parse_sexprs(data, "trees.txt"), Vocabulary(["a", "b"]))
    located(info.value, "GR123", "trees.txt", *at(data, "a b b b"))
    assert "`child: 2`" in info.value.message and f"{FILE}:{at(TREE, '{from: h, to: h, child: 2}')[0]}" \
        in info.value.message


def test_gr125_a_parent_edge_from_a_node_computed_after_it():
    text = TREE.replace("  - {from: h, to: h, child: 2}\n", "  - {from: h, to: h, child: 2}\n  - {from: h, to: h, parent: true}\n")
    fails(text, "GR125", "{from: h, to: h, parent: true}")


def test_gr124_the_fused_engine_refuses_a_tree_network():
    with pytest.raises(gr.PlanError) as info:
        gr.loads(TREE, FILE, engine="fused")
    located(info.value, "GR124", FILE, *at(TREE, "tree"))
    assert "engine='fused_tree'" in info.value.fix


# -- GR300-GR302: training -----------------------------------------------------------------

def test_gr300_invalid_training_plan():
    from graphrnn.train.loop import TrainingPlan
    with pytest.raises(gr.TrainError) as info:
        TrainingPlan(sequences=10, batch=0)
    assert info.value.code == "GR300" and info.value.fix


def test_gr301_nan_loss_stops_training():
    from types import SimpleNamespace

    from graphrnn.train import SGD
    from graphrnn.train.loop import TrainingPlan, train

    class NaNTask:
        loss = "mse"

        def sample(self, rng, batch):
            x = np.zeros((2, batch, 2))            # a NaN target: a NaN input is refused first (GR202)
            return SimpleNamespace(x=x, target=np.full((2, batch, 2), np.nan), mask=np.ones((2, batch)), size=batch)

        def monitor(self):
            return None

    with pytest.raises(gr.TrainError) as info:
        train(gr.loads(GOOD, FILE), NaNTask(), SGD(lr=0.1), TrainingPlan(sequences=4, evaluate_every=0))
    assert info.value.code == "GR301" and "update 1" in info.value.message and info.value.fix


def test_gr302_resume_without_checkpoint(tmp_path):
    from graphrnn.train.loop import load_checkpoint
    with pytest.raises(gr.TrainError) as info:
        load_checkpoint(tmp_path, gr.loads(GOOD, FILE))
    assert info.value.code == "GR302" and info.value.fix


def test_gr303_damaged_checkpoint_names_the_file(tmp_path):
    from graphrnn.train.loop import CHECKPOINT, load_checkpoint
    (tmp_path / CHECKPOINT).write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(gr.TrainError) as info:
        load_checkpoint(tmp_path, gr.loads(GOOD, FILE))
    assert info.value.code == "GR303" and str(tmp_path / CHECKPOINT) in info.value.message and info.value.fix


def test_gr304_run_directory_in_use(tmp_path):
    import os

    from graphrnn.train.runlock import RunLock
    with RunLock(tmp_path):
        with pytest.raises(gr.TrainError) as info:
            RunLock(tmp_path).acquire()
    assert info.value.code == "GR304" and f"pid {os.getpid()}" in info.value.message and info.value.fix


# -- GR310-GR313: sweeps (tests/sweep/ has more) ---------------------------------------------------

def _sweep_folder(tmp_path):
    (tmp_path / "net.yaml").write_text("graphrnn: 1\nname: n\ninputs: {x: 1}\noutputs: {y: 1}\n"
                                       "nodes: {y: {size: 1, activation: tanh}}\nedges: [{from: x, to: y}]\n")
    (tmp_path / "exp.yaml").write_text("graphrnn: 1\nexperiment: e\nnetwork: net.yaml\ntask: {name: latch}\n"
                                       "optimizer: {name: sgd, lr: 0.1}\ntrain: {sequences: 10}\n")
    return tmp_path


def test_gr310_a_sweep_does_not_set_the_seeds(tmp_path):
    from graphrnn.sweep import loads_sweep
    text = "graphrnn: 1\nsweep: s\nexperiment: exp.yaml\nseeds: [0]\ngrid: {train.seed: [1]}\n"
    with pytest.raises(gr.TrainError) as info:
        loads_sweep(text, str(_sweep_folder(tmp_path) / "s.yaml"))
    located(info.value, "GR310", str(tmp_path / "s.yaml"), 5, 8)


def test_gr311_a_grid_value_that_makes_an_invalid_experiment(tmp_path):
    from graphrnn.sweep import loads_sweep
    text = "graphrnn: 1\nsweep: s\nexperiment: exp.yaml\nseeds: [0]\ngrid: {optimizer.lr: [0.1, -1]}\n"
    with pytest.raises(gr.TrainError) as info:
        loads_sweep(text, str(_sweep_folder(tmp_path) / "s.yaml"))
    located(info.value, "GR311", str(tmp_path / "s.yaml"), 5, 28)


def test_gr312_a_sweep_directory_of_another_experiment(tmp_path):
    from graphrnn.sweep import loads_sweep, run_sweep
    folder = _sweep_folder(tmp_path)
    sweep = loads_sweep("graphrnn: 1\nsweep: s\nexperiment: exp.yaml\nseeds: [0]\n", str(folder / "s.yaml"))
    (tmp_path / "out" / "base").mkdir(parents=True)
    (tmp_path / "out" / "base" / "experiment.yaml").write_text("graphrnn: 1\n")
    with pytest.raises(gr.TrainError) as info:
        run_sweep(sweep, tmp_path / "out", progress=False)
    assert info.value.code == "GR312" and info.value.fix


def test_gr313_no_scheduler_at_the_address():
    from graphrnn.sweep import open_cluster
    with pytest.raises(gr.TrainError) as info:
        with open_cluster(scheduler="tcp://127.0.0.1:9", timeout=1):
            pass
    assert info.value.code == "GR313" and info.value.fix


# -- GR200 / GR201: bad calls ------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_net():
    return gr.loads(GOOD, FILE)


def test_gr200_parameter_of_the_wrong_shape(good_net):
    params = good_net.init(0)
    params["x->h"] = np.zeros((3, 2))
    with pytest.raises(gr.RunError) as info:
        good_net.run(params, np.zeros((2, 1, 2)))
    err = info.value
    located(err, "GR200", FILE, *at(GOOD, "{from: x, to: h}"))
    assert "(3, 2)" in err.message and "(2, 3)" in err.message


@pytest.mark.parametrize("x", [np.zeros((2, 1, 3)), np.zeros((2, 2)), np.zeros((0, 1, 2))],
                         ids=["width", "rank", "empty"])
def test_gr200_input_of_the_wrong_shape(good_net, x):
    with pytest.raises(gr.RunError) as info:
        good_net.run(good_net.init(0), x)
    err = info.value
    assert err.code == "GR200" and "(T, B, 2)" in err.message and err.fix


def test_gr200_input_dict_with_a_wrong_port(good_net):
    with pytest.raises(gr.RunError) as info:
        good_net.run(good_net.init(0), {"z": np.zeros((2, 1, 2))})
    assert info.value.code == "GR200" and info.value.fix


def test_gr200_target_of_the_wrong_shape(good_net):
    with pytest.raises(gr.RunError) as info:
        good_net.loss(good_net.init(0), np.zeros((3, 1, 2)), np.zeros((3, 1, 5)))
    assert info.value.code == "GR200" and "(3, 1, 2)" in info.value.message and info.value.fix


def test_gr200_unknown_loss_did_you_mean(good_net):
    with pytest.raises(gr.RunError) as info:
        good_net.loss(good_net.init(0), np.zeros((3, 1, 2)), np.zeros((3, 1, 2)), kind="mes")
    assert info.value.code == "GR200" and "did you mean `mse`?" in info.value.message


def test_gr201_missing_parameter(good_net):
    params = good_net.init(0)
    del params["h.bias"]
    with pytest.raises(gr.RunError) as info:
        good_net.run(params, np.zeros((2, 1, 2)))
    err = info.value
    assert err.code == "GR201" and "missing h.bias" in err.message and err.fix


def test_gr201_unknown_parameter_did_you_mean(good_net):
    params = good_net.init(0)
    params["h->h@2"] = params.pop("h->h@1")
    with pytest.raises(gr.RunError) as info:
        good_net.loss(params, np.zeros((2, 1, 2)), np.zeros((2, 1, 2)))
    err = info.value
    assert err.code == "GR201" and "unknown h->h@2" in err.message
    assert "did you mean `h->h@1`?" in err.message


def test_gr202_nan_input_located_by_index(good_net):
    x = np.zeros((2, 1, 2))
    x[1, 0, 1] = np.nan
    with pytest.raises(gr.RunError) as info:
        good_net.run(good_net.init(0), x)
    assert info.value.code == "GR202" and "x[1, 0, 1] is nan" in info.value.message and info.value.fix


def test_gr201_missing_parameter_points_at_its_spec_element(good_net):
    params = good_net.init(0)
    del params["x->h"]
    with pytest.raises(gr.RunError) as info:
        good_net.run(params, np.zeros((2, 1, 2)))
    located(info.value, "GR201", FILE, *at(GOOD, "{from: x, to: h}"))


# -- the table ---------------------------------------------------------------------------------

def test_every_code_has_a_case():
    """Every code has a ``test_grNNN_...`` case in this file, and no case names a stale code."""
    named = {m.group(1).upper() for name in globals() if (m := re.match(r"test_(gr\d{3})_", name))}
    assert named == set(CODES), f"no case for: {sorted(set(CODES) - named)}; stale: {sorted(named - set(CODES))}"


def docs_table_codes() -> list[str]:
    rows = [line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    return [m.group(1) for line in rows if (m := re.match(r"\|\s*`?(GR\d{3})`?\s*\|", line))]


def test_docs_table_lists_every_code():
    codes = docs_table_codes()
    assert len(codes) == len(set(codes)), "a code appears twice in docs/errors.md"
    assert set(codes) == set(CODES)
    assert codes == sorted(codes)


def test_docs_table_titles_match():
    text = DOCS.read_text(encoding="utf-8")
    for code, title in CODES.items():
        row = next(line for line in text.splitlines() if re.match(rf"\|\s*`?{code}`?\s*\|", line))
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 5, row
        assert cells[1] == title, row
        assert all(cells), f"empty cell in {row}"


# -- GR130-GR133: the history compressor (graphrnn.models; more cases in tests/models/) ----------

def _hierarchy_folder(tmp_path, level1_inputs: int = 6):
    net = "graphrnn: 1\nname: {n}\ninputs: {{x: {i}}}\noutputs: {{y: 2}}\nnodes:\n  h: {{size: 3, activation: tanh}}\n" \
          "  y: {{size: 2, activation: sigmoid}}\nedges:\n  - {{from: x, to: h}}\n  - {{from: h, to: h, delay: 1}}\n" \
          "  - {{from: h, to: y}}\n"
    (tmp_path / "p0.yaml").write_text(net.format(n="p0", i=2))
    (tmp_path / "p1.yaml").write_text(net.format(n="p1", i=level1_inputs))
    text = spec("""
        graphrnn: 1
        hierarchy: h
        time_codes: 4
        levels:
          - {predictor: p0.yaml, surprise: argmax}
          - {predictor: p1.yaml, surprise: argmax}
        collapse: {automatizer: p0.yaml, chunker_state: h}
        """)
    return text


def _hierarchy_fails(tmp_path, text, code, needle):
    from graphrnn.models import load_hierarchy
    path = tmp_path / "h.yaml"
    path.write_text(text)
    with pytest.raises(gr.GraphRNNError) as info:
        load_hierarchy(path)
    located(info.value, code, str(path), *at(text, needle))
    return info.value


def test_gr130_hierarchy_level_reads_the_wrong_size(tmp_path):
    text = _hierarchy_folder(tmp_path, level1_inputs=2)
    err = _hierarchy_fails(tmp_path, text, "GR130", "p1.yaml")
    assert "6 units" in err.message


def test_gr131_compress_of_a_sequence_that_is_not_one_hot(tmp_path):
    from graphrnn.models import load_hierarchy
    (tmp_path / "h.yaml").write_text(_hierarchy_folder(tmp_path).split("collapse")[0])
    hc = load_hierarchy(tmp_path / "h.yaml").build(0)
    with pytest.raises(gr.RunError) as info:
        hc.compress([np.array([[0.5, 0.5]])])
    assert info.value.code == "GR131" and info.value.fix


def test_gr132_reconstruct_of_tampered_events(tmp_path):
    from graphrnn.models import Compressed, LevelEvents, load_hierarchy
    (tmp_path / "h.yaml").write_text(_hierarchy_folder(tmp_path).split("collapse")[0])
    hc = load_hierarchy(tmp_path / "h.yaml").build(0)
    bad = Compressed(3, (LevelEvents(np.array([1]), np.array([1]), np.eye(2)[:1]),) * 2)
    with pytest.raises(gr.RunError) as info:
        hc.reconstruct(bad)
    assert info.value.code == "GR132" and info.value.fix


def test_gr133_automatizer_without_the_chunker_head(tmp_path):
    text = _hierarchy_folder(tmp_path)
    _hierarchy_fails(tmp_path, text, "GR133", "p0.yaml, chunker_state")
