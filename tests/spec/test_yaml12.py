"""YAML 1.2 scalars, as editors and JSON-Schema validators read them.

Every shipped YAML file (library specs, experiments, examples, hierarchies)
loads to the same values through graphrnn's reader as through ruamel.yaml
in YAML 1.2 mode, an independent implementation; and the scalars that YAML
1.1 read differently (`1e-3`, `on`, `yes`, `0o17`, `017`) load as YAML 1.2
says.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from graphrnn.errors import SpecError
from graphrnn.spec.yamlmarks import load_yaml, plain

ruamel_yaml = pytest.importorskip("ruamel.yaml")

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for folder in ("specs", "experiments", "examples") for p in (ROOT / folder).rglob("*.yaml"))


def ruamel_load(text: str):
    reader = ruamel_yaml.YAML(typ="safe", pure=True)
    reader.version = (1, 2)
    return reader.load(text)


def test_there_are_shipped_files():
    assert len(SHIPPED) > 30


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_files_read_as_an_independent_yaml_1_2_reader_reads_them(path):
    text = path.read_text(encoding="utf-8")
    assert plain(load_yaml(text, str(path))) == ruamel_load(text)


# ruamel.yaml reads these beyond the 1.2 core schema (underscores, sexagesimal, dates, 0b, `=`)
RUAMEL_EXTENSIONS = {"1_000", "1:30", "2001-12-14", "0b101", "="}


@pytest.mark.parametrize("text, value", [
    ("1e-3", 1e-3), ("1E3", 1000.0), ("-.5", -0.5), ("2.", 2.0), ("+12", 12),
    ("0o17", 15), ("017", 17), ("0x1F", 31),
    ("on", "on"), ("off", "off"), ("yes", "yes"), ("no", "no"), ("y", "y"), ("Y", "Y"),
    ("true", True), ("False", False), ("~", None), ("null", None), ("NULL", None),
    ("1_000", "1_000"), ("1:30", "1:30"), ("2001-12-14", "2001-12-14"), ("0b101", "0b101"),
    ("1e", "1e"), (".", "."), ("=", "="),
])
def test_yaml_1_2_core_schema_scalars(text, value):
    got = load_yaml(f"v: {text}\n")["v"]
    assert got == value and type(got) is type(value)
    if text not in RUAMEL_EXTENSIONS:
        assert ruamel_load(f"v: {text}\n")["v"] == value


@pytest.mark.parametrize("text", [".nan", ".NaN", ".inf", "-.Inf", "+.INF", "1e400"])
def test_non_finite_numbers_are_refused_at_their_place(text):
    with pytest.raises(SpecError) as info:
        load_yaml(f"a: 1\nv: {text}\n", "f.yaml")
    assert info.value.code == "GR104" and str(info.value).startswith("f.yaml:2:4:")
    assert math.isnan(ruamel_load(f"v: {text}\n")["v"]) or text == "1e400" or \
        math.isinf(ruamel_load(f"v: {text}\n")["v"])


@pytest.mark.parametrize("digits", [20, 5000])
def test_integers_past_64_bits_are_refused_without_converting_them(digits):
    with pytest.raises(SpecError) as info:
        load_yaml("v: " + "9" * digits + "\n", "f.yaml")
    assert info.value.code == "GR108" and str(info.value).startswith("f.yaml:1:4:")
    assert len(info.value.message) < 200


def test_yes_no_on_off_are_names_not_booleans_in_a_spec():
    import graphrnn as gr
    text = ("graphrnn: 1\ninputs: {x: 1}\noutputs: {on: 1}\nnodes:\n  on: {size: 1}\n"
            "edges:\n  - {from: x, to: on}\n")
    assert "on" in gr.loads(text).ir.nodes


def test_1e_minus_2_is_a_number_in_an_init():
    import graphrnn as gr
    text = ("graphrnn: 1\ninputs: {x: 1}\noutputs: {y: 1}\nnodes:\n  y: {size: 1}\n"
            "edges:\n  - {from: x, to: y, init: {uniform: 1e-2}}\n")
    params = gr.loads(text).init(0)
    assert all(abs(v) <= 1e-2 for array in params.values() for v in array.ravel())
