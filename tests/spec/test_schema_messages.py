"""Schema failures in the words of the rule that failed (issue 18 item 2), module arguments checked
where the module uses them, and the raw errors of issue 17/18 turned into located GR errors."""
from __future__ import annotations

from pathlib import Path

import pytest

import graphrnn as gr

NET = ("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  h: {size: SIZE, activation: tanh}\n"
       "  y: {size: 2}\nedges:\n  - {from: x, to: h EDGE}\n  - {from: h, to: h, delay: DELAY}\n  - {from: h, to: y}\n")


def net(size="3", edge="", delay="1"):
    return NET.replace("SIZE", size).replace(" EDGE", edge).replace("DELAY", delay)


def error(text, file="m.yaml"):
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, file)
    assert info.value.fix
    return info.value


def at(text, needle):
    index = text.index(needle)
    return f"{text.count(chr(10), 0, index) + 1}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


@pytest.mark.parametrize("size, words", [
    ('"16"', "'16' is not of type 'integer'"), ("0*0", "'0*0' is not of type 'integer'"),
    ("2.5", "2.5 is not of type 'integer'"), ("0", "0 is less than the minimum of 1"),
    ("$size", "unknown module parameter `$size`"), ("$1x", "not a valid `$param` reference"),
])
def test_a_bad_size_says_which_rule_failed(size, words):
    text = net(size=size)
    err = error(text)
    assert err.code in ("GR104", "GR105") and words in str(err), str(err)
    assert str(err).startswith(f"m.yaml:{at(text, size)}:")


@pytest.mark.parametrize("edge, words, needle", [
    (", init: {uniform: -1}", "-1 is less than or equal to the minimum of 0", "-1"),
    (", init: {normal: -1}", "-1 is less than or equal to the minimum of 0", "-1"),
    (", init: {uniform: 1.0e+308}", "greater than the maximum of 1000000", "1.0e+308"),
    (", init: 1e308", "greater than the maximum of 1000000", "1e308"),
    (", weights: 1e7", "greater than the maximum of 1000000", "1e7"),
    (", init: {uniform: 1e-2, extra: 1}", "unknown key `extra`", "extra"),
    (", init: {unifrom: 0.1}", "unknown key `unifrom`", "unifrom"),
])
def test_init_schemes_are_checked_before_any_numbers_are_drawn(edge, words, needle):
    text = net(edge=edge)
    err = error(text)
    assert words in str(err), str(err)
    assert str(err).startswith(f"m.yaml:{at(text, needle)}:")


def test_a_uniform_init_of_1e_minus_2_is_a_number():
    params = gr.loads(net(edge=", init: {uniform: 1e-2}")).init(0)
    assert 0 < abs(params["x->h"]).max() <= 1e-2


def module_net(args: str) -> str:
    return ("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n"
            f"  m: {{use: gru2{args}}}\n  y: {{size: 2}}\n"
            "edges:\n  - {from: x, to: m.in}\n  - {from: m.out, to: y}\n")


@pytest.mark.parametrize("args, words, needle", [
    (', size: "16"', "`size` of module `gru2`: '16' is not of type 'integer'", '"16"'),
    (", size: 2.5", "`size` of module `gru2`: 2.5 is not of type 'integer'", "2.5"),
    (", size: -1", "-1 is less than the minimum of 1", "-1"),
    (", bias: 3", "`bias` of module `gru2`: 3 is not of type 'boolean'", "3}"),
])
def test_a_module_argument_that_does_not_fit_is_blamed_where_it_is_given(args, words, needle):
    text = module_net(args)
    err = error(text)
    assert err.code == "GR104" and words in err.message, str(err)
    assert str(err).startswith(f"m.yaml:{at(text, needle)}:")
    assert any("gru2.yaml:" in note for note in err.notes)     # and where the module uses it


def test_a_module_parameter_without_default_is_demanded(tmp_path):
    (tmp_path / "layer.yaml").write_text(
        "graphrnn: 1\nmodule: layer\nparams: {size: null, activation: tanh}\nports: {in: h, out: h}\n"
        "nodes:\n  h: {size: $size, activation: $activation}\nedges:\n  - {from: h, to: h, delay: 1}\n")
    text = module_net("").replace("use: gru2", "use: ./layer.yaml")
    (tmp_path / "net.yaml").write_text(text)
    with pytest.raises(gr.GraphRNNError) as info:
        gr.load(tmp_path / "net.yaml")
    assert info.value.code == "GR104" and "needs `size`" in info.value.message
    assert str(info.value).startswith(f"{tmp_path / 'net.yaml'}:5:")
    (tmp_path / "net.yaml").write_text(text.replace("./layer.yaml", "./layer.yaml, size: 4"))
    assert gr.load(tmp_path / "net.yaml").ir.nodes["m.h"].size == 4


@pytest.mark.parametrize("seed", ["0", 1.5, True, -1, None])
def test_init_refuses_a_seed_that_is_not_a_whole_number(seed):
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(net()).init(seed)
    assert info.value.code == "GR200" and "seed" in info.value.message


def test_a_duplicate_key_report_names_any_key():
    text = net().replace("  y: {size: 2}\n", "  y: {size: 2}\n  y: {size: 2}\n")
    assert "duplicate key `y`" in error(text).message


@pytest.mark.parametrize("key", ["1", "true", "null", "[a]"])
def test_keys_that_are_not_text_are_located(key):
    text = net().replace("  y: {size: 2}\n", f"  y: {{size: 2}}\n  {key}: {{size: 2}}\n")
    err = error(text)
    assert err.code == "GR104" and str(err).startswith("m.yaml:7:3:"), str(err)


# A file of one kind handed to another kind's loader says which file it is and what reads it.
SHIPPED = {"spec": "specs/elman.yaml", "experiment": "experiments/reber_lstm1997.yaml",
           "sweep": "examples/reproductions/sweeps/reber.yaml",
           "hierarchy": "examples/history_compressor/lag20.yaml"}
KIND_WORDS = {"spec": ("a network spec", "graphrnn validate"), "experiment": ("an experiment file", "graphrnn train"),
              "sweep": ("a sweep file", "graphrnn sweep"), "hierarchy": ("a history-compressor hierarchy",
                                                                        "load_hierarchy")}


def _loaders():
    from graphrnn.models import load_hierarchy
    from graphrnn.sweep import load_sweep
    from graphrnn.train.experiment import load_experiment
    return {"spec": gr.load, "experiment": lambda p: load_experiment(p, build=False),
            "sweep": load_sweep, "hierarchy": load_hierarchy}


@pytest.mark.parametrize("kind, loader", [(k, l) for k in SHIPPED for l in SHIPPED if k != l])
def test_a_file_given_to_another_kinds_loader_says_what_it_is(kind, loader):
    path = str(Path(__file__).parents[2] / SHIPPED[kind])
    with pytest.raises(gr.GraphRNNError) as info:
        _loaders()[loader](path)
    err = info.value
    words, command = KIND_WORDS[kind]
    assert err.code == "GR103" and f"this file is {words}" in err.message, str(err)
    assert command in err.fix and str(err).startswith(f"{path}:"), str(err)
