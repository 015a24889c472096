"""The escapes issue 17's fuzzing found, each now a located GR error (or a result)."""
from __future__ import annotations

import pytest

import graphrnn as gr
from graphrnn.errors import SpecError
from graphrnn.models.hierarchy_spec import loads_hierarchy
from graphrnn.spec.validate import read_text
from graphrnn.spec.yamlmarks import load_yaml
from graphrnn.train.experiment import loads_experiment
from graphrnn.trees import parse_json, parse_sexprs

SPEC = "graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  y: {size: 2}\nedges:\n  - {from: x, to: y}\n"


@pytest.mark.parametrize("char", ["\x08", "\x00", "\x1b", "\x7f", "\ufffe"])
@pytest.mark.parametrize("reader", ["spec", "experiment", "hierarchy", "json"])
def test_a_control_character_is_gr100_at_its_place(char, reader):
    text = SPEC.replace("size: 2}", f"size: 2{char}}}")
    read = {"spec": lambda t: gr.loads(t, "f.yaml"), "experiment": lambda t: loads_experiment(t, "f.yaml"),
            "hierarchy": lambda t: loads_hierarchy(t, "f.yaml"), "json": lambda t: parse_json(t, "f.yaml")}[reader]
    with pytest.raises(gr.GraphRNNError) as info:
        read(text)
    assert info.value.code in ("GR100", "GR121") and str(info.value).startswith("f.yaml:5:14:"), str(info.value)
    assert "#x" in info.value.message


@pytest.mark.parametrize("opener", ["[", "{", "- "])
def test_deep_nesting_is_refused_at_a_line_and_column(opener):
    text = "graphrnn: 1\nname: " + opener * 5000 + "\n"
    with pytest.raises(SpecError) as info:
        load_yaml(text, "deep.yaml")
    err = info.value
    assert err.code in ("GR108", "GR100") and err.loc.line >= 2 and err.loc.col > 1, str(err)
    assert "alias" not in err.message


def test_a_megabyte_of_brackets_is_refused_without_blaming_aliases():
    text = "graphrnn: 1\nname: " + "[" * 960_000 + "\n"
    with pytest.raises(SpecError) as info:
        load_yaml(text, "brackets.yaml")
    assert info.value.code == "GR108" and "alias" not in info.value.message
    assert str(info.value).startswith("brackets.yaml:2:")


def test_many_values_without_aliases_are_not_called_aliases():
    text = "graphrnn: 1\nitems: [" + ", ".join("1" for _ in range(120_000)) + "]\n"
    with pytest.raises(SpecError) as info:
        load_yaml(text, "many.yaml")
    assert info.value.code == "GR108" and "alias" not in info.value.message


def test_an_alias_bomb_is_still_called_one():
    text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    with pytest.raises(SpecError) as info:
        load_yaml(text, "bomb.yaml")
    assert info.value.code == "GR108" and "aliases expand" in info.value.message


def test_a_large_file_is_refused_by_its_size(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"graphrnn: 1\n" + b"#" * 3_000_000)
    with pytest.raises(SpecError) as info:
        read_text(path, "spec")
    assert info.value.code == "GR108" and str(path) in str(info.value)
    with pytest.raises(SpecError):
        gr.load(path)


@pytest.mark.parametrize("text", ["(" * 20_000 + "a" + ")" * 20_000, "(a " * 20_000])
def test_deep_s_expressions_are_refused_at_the_paren(text):
    with pytest.raises(SpecError) as info:
        parse_sexprs(text, "t.txt")
    assert info.value.code == "GR108" and str(info.value).startswith("t.txt:1:")


def test_a_deep_json_tree_is_located():
    with pytest.raises(SpecError) as info:
        parse_json("[" * 5000 + "]" * 5000, "t.json")
    assert info.value.code in ("GR108", "GR121") and str(info.value).startswith("t.json:1:")


def test_a_long_s_expression_parses():
    trees = parse_sexprs("(+ 1 2)\n" * 50_000, "long.txt")
    assert len(trees) == 50_000 and trees[-1].loc.line == 50_000


def test_huge_module_names_and_paths_in_experiments_are_located(tmp_path):
    text = open(gr.__file__.replace("__init__.py", "../experiments/reber_elman.yaml")).read()
    bad = text.replace("network: ", "network: " + "x" * 5000 + "_", 1)
    with pytest.raises(gr.GraphRNNError) as info:
        loads_experiment(bad, str(tmp_path / "e.yaml"))
    assert info.value.code == "GR114" and len(str(info.value)) < 2000
