"""Hostile or broken YAML: nothing is executed, nothing explodes, every refusal is located.

Specs are read with a safe loader only (GR101 for any Python tag), alias
expansion and file size are bounded (GR108), and bad bytes or syntax are
GR100 with the line and column where the parser stopped.
"""
from __future__ import annotations

import os
import subprocess
import textwrap
import time
import tracemalloc

import pytest

import graphrnn as gr

FILE = "evil.yaml"

GOOD = textwrap.dedent("""\
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


def at(text: str, needle: str) -> tuple[int, int]:
    """1-based (line, column) of the first occurrence of ``needle``."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def refused(text: str, code: str, file: str = FILE) -> gr.GraphRNNError:
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, file)
    err = info.value
    assert err.code == code, str(err)
    assert err.fix, str(err)
    return err


def starts_at(err, text, needle, file=FILE):
    line, col = at(text, needle)
    assert str(err).startswith(f"{file}:{line}:{col}: error {err.code} "), str(err)


@pytest.fixture
def no_system(monkeypatch):
    """Record any attempt to run a command; the tests assert there is none."""
    calls = []
    monkeypatch.setattr(os, "system", lambda *a, **k: calls.append(a) or 0)
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: calls.append(a))
    return calls


# -- Python tags -------------------------------------------------------------------------

def test_os_system_tag_is_refused_and_not_run(tmp_path, no_system):
    marker = tmp_path / "hacked"
    text = GOOD.replace("graphrnn: 1\n",
                        f'graphrnn: 1\nname: !!python/object/apply:os.system ["touch {marker}"]\n')
    err = refused(text, "GR101")
    starts_at(err, text, "!!python")
    assert "os.system" in err.message
    assert not marker.exists() and no_system == []


def test_os_system_tag_in_a_file_is_refused_and_not_run(tmp_path, no_system):
    marker = tmp_path / "hacked"
    path = tmp_path / "evil.yaml"
    text = GOOD.replace("  - {from: h, to: y}",
                        f'  - {{from: h, to: y, doc: !!python/object/apply:os.system ["touch {marker}"]}}')
    path.write_text(text)
    with pytest.raises(gr.SpecError) as info:
        gr.load(path)
    assert info.value.code == "GR101"
    starts_at(info.value, text, "!!python", file=str(path))
    assert not marker.exists() and no_system == []


def test_echo_hacked_prints_nothing(capfd):
    text = GOOD.replace("graphrnn: 1\n", 'graphrnn: 1\nname: !!python/object/apply:os.system ["echo hacked"]\n')
    refused(text, "GR101")
    out, err = capfd.readouterr()
    assert "hacked" not in out and "hacked" not in err


@pytest.mark.parametrize("tag", [
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object/new:os.system [echo hacked]",
    "!!python/object:builtins.object {}",
    "!!python/tuple [1, 2]",
    "!custom {a: 1}",
], ids=["name", "module", "object-new", "object", "tuple", "local"])
def test_other_tags_are_refused(tag, no_system):
    text = GOOD.replace("graphrnn: 1\n", f"graphrnn: 1\nname: {tag}\n")
    err = refused(text, "GR101")
    starts_at(err, text, tag.split()[0])
    assert no_system == []


def test_tag_inside_a_module_file_is_located_there(tmp_path, no_system):
    module = textwrap.dedent("""\
        graphrnn: 1
        module: evil
        ports: {in: h, out: h}
        nodes:
          h:
            size: 2
            doc: !!python/name:os.system
        """)
    (tmp_path / "evil_module.yaml").write_text(module)
    net = GOOD.replace("  h: {size: 3, activation: tanh}", "  h: {use: evil_module.yaml}")
    net = net.replace("  - {from: h, to: h, delay: 1}\n", "")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(net, str(tmp_path / "net.yaml"))
    assert info.value.code == "GR101"
    starts_at(info.value, module, "!!python", file=str((tmp_path / "evil_module.yaml").resolve()))
    assert no_system == []


# -- aliases and size --------------------------------------------------------------------

def billion_laughs(levels: int = 9, fan: int = 10) -> str:
    lines = ["graphrnn: 1", "a0: &a0 [" + ", ".join(["lol"] * fan) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly_and_small():
    text = billion_laughs()   # 10**9 leaves once expanded
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(gr.SpecError) as info:
            gr.loads(text, FILE)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "GR108"
    assert str(info.value).startswith(f"{FILE}:1:1: error GR108 ")
    assert "module" in info.value.fix
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_billion_laughs_nested_inside_a_real_spec_key():
    bomb = billion_laughs(levels=8).replace("graphrnn: 1\n", "")
    text = GOOD.replace("graphrnn: 1\n", "graphrnn: 1\nname:\n" + textwrap.indent(bomb, "  "))
    start = time.perf_counter()
    refused(text, "GR108")
    assert time.perf_counter() - start < 2.0


def test_modest_aliases_are_fine():
    text = GOOD.replace("  h: {size: 3, activation: tanh}\n  y: {size: 2}",
                        "  h: &unit {size: 2, activation: tanh}\n  y: *unit")
    net = gr.loads(text, FILE)
    assert net.ir.nodes["y"].size == 2 and net.ir.nodes["y"].activation == "tanh"


def test_file_over_one_megabyte(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(GOOD.replace("graphrnn: 1\n", "graphrnn: 1\ndoc: " + "a" * 1_100_000 + "\n"))
    start = time.perf_counter()
    with pytest.raises(gr.SpecError) as info:
        gr.load(path)
    assert time.perf_counter() - start < 2.0
    assert info.value.code == "GR108" and info.value.fix
    assert str(info.value).startswith(f"{path}: error GR108 ")


def test_text_over_one_megabyte_of_multibyte_characters():
    text = GOOD.replace("graphrnn: 1\n", "graphrnn: 1\ndoc: " + "é" * 600_000 + "\n")  # 1.2 MB in UTF-8
    refused(text, "GR108")


def test_just_under_the_limit_is_read():
    text = GOOD.replace("graphrnn: 1\n", "graphrnn: 1\ndoc: " + "a" * 900_000 + "\n")
    assert gr.loads(text, FILE).ir.doc.startswith("aaa")


# -- bytes and syntax --------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"\xff\xfe\x00g\x00r", GOOD.replace("tanh", "tanh\xe9").encode("latin-1")],
                         ids=["binary", "latin-1"])
def test_non_utf8_bytes(tmp_path, raw):
    path = tmp_path / "latin.yaml"
    path.write_bytes(raw)
    with pytest.raises(gr.SpecError) as info:
        gr.load(path)
    err = info.value
    assert err.code == "GR100" and "UTF-8" in err.message and "UTF-8" in err.fix
    assert str(err).startswith(str(path))


@pytest.mark.parametrize("old, new, needle", [
    ("  y: {size: 2}", "\ty: {size: 2}", "\t"),
    ("  y: {size: 2}", "  y: size: 2", ": 2\n"),
    ("  - {from: h, to: y}", "  - {from: h, to: y", "END"),
    ("  - {from: x, to: h}", "  - [from: x, to: h}", "}\n  - {from: h, to: h"),
    ("  h: {size: 3, activation: tanh}", "  h: {size: 3, activation: 'tanh}", None),
    ("nodes:", "nodes: @here", "@"),
    ("  y: {size: 2}", " y: {size: 2}", "y: {size: 2}"),
], ids=["tab", "colon", "unclosed-end", "bracket-mismatch", "unclosed-quote", "reserved-char", "indent"])
def test_syntax_errors_are_gr100_with_line_and_col(old, new, needle):
    text = GOOD.replace(old, new)
    assert text != GOOD
    err = refused(text, "GR100")
    last = text.rstrip("\n").split("\n")
    if needle == "END":                         # the parser stops at the end of the text's last line
        line, col = len(last), len(last[-1]) + 1
        assert str(err).startswith(f"{FILE}:{line}:{col}: "), str(err)
    elif needle is None:                        # an unclosed quote: where the quote starts or the text ends
        assert str(err).split(":")[1] in {str(at(text, "'tanh")[0]), str(len(last))}, str(err)
    else:
        starts_at(err, text, needle)
    assert "near this spot" in err.fix or err.fix


def test_second_document_is_gr100():
    text = GOOD + "---\ngraphrnn: 1\n"
    err = refused(text, "GR100")
    starts_at(err, text, "---")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"], ids=["empty", "comment", "marker"])
def test_empty_spec(text):
    err = refused(text, "GR104")
    assert "graphrnn: 1" in err.fix


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", "!!set {a, b}", "!!timestamp 2001-12-14"],
                         ids=["binary", "set", "timestamp"])
def test_tags_outside_the_yaml_1_2_core_schema_are_refused_where_written(value):
    text = GOOD.replace("graphrnn: 1\n", f"graphrnn: 1\nname: {value}\n")
    err = refused(text, "GR101")
    starts_at(err, text, value)


def test_a_date_is_a_string_as_in_yaml_1_2():
    text = GOOD.replace("graphrnn: 1\n", "graphrnn: 1\nname: 2001-12-14\n")
    assert gr.loads(text, FILE).spec.name == "2001-12-14"


# -- regressions: bugs found while writing these tests, now fixed --------------------

def test_deep_nesting_is_refused_cleanly():
    text = "graphrnn: 1\nname: " + "[" * 1000 + "]" * 1000 + "\n"
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, FILE)
    assert info.value.code in ("GR100", "GR108")


def test_recursive_alias_is_not_called_a_tag():
    text = GOOD.replace("graphrnn: 1\n", "graphrnn: 1\nname: &x [*x]\n")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, FILE)
    assert info.value.code != "GR101" and "tag" not in info.value.fix


def test_merge_key_override_is_not_a_duplicate():
    text = "graphrnn: 1\nnodes:\n  h: &base {size: 3, activation: tanh}\n  y: {<<: *base, size: 2}\n" \
           "inputs: {x: 2}\noutputs: {y: 2}\nedges:\n  - {from: x, to: h}\n  - {from: h, to: y}\n"
    net = gr.loads(text, FILE)
    assert net.ir.nodes["y"].size == 2 and net.ir.nodes["y"].activation == "tanh"


def test_complex_key_error_has_a_fix():
    text = GOOD.replace("graphrnn: 1\n", "graphrnn: 1\n? [a, b]\n: 1\n")
    err = refused(text, "GR104")
    starts_at(err, text, "[a, b]")
