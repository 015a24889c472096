"""The shipped JSON Schemas, for editors (issue 18 item 7): `graphrnn schema KIND` prints them,
every property has a description and examples that the schema accepts, and an independent
validator (check-jsonschema, reading YAML 1.2) accepts every shipped file."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from graphrnn.cli import main
from graphrnn.spec.schemas import SCHEMAS, schema_path

ROOT = Path(__file__).resolve().parents[2]
DESCRIBED = ["spec", "experiment", "hierarchy", "sweep"]


def properties(node, where=""):
    """(path, property schema) of every property anywhere in a schema."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}.{name}", sub
        for key, sub in node.items():
            if key != "if":   # an if-clause only tests a value; the property itself is described elsewhere
                yield from properties(sub, f"{where}/{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from properties(sub, f"{where}[{i}]")


@pytest.mark.parametrize("kind", DESCRIBED)
def test_every_property_has_a_description_and_examples_the_schema_accepts(kind):
    schema = json.loads(schema_path(kind).read_text())
    found = list(properties(schema))
    assert len(found) > (8 if kind == "sweep" else 15)   # a sweep file has few keys
    for where, sub in found:
        assert len(sub.get("description", "")) > 10, f"{kind}{where} has no description"
        assert sub.get("examples"), f"{kind}{where} has no examples"
        checker = jsonschema.Draft202012Validator({"$defs": schema.get("$defs", {}), **sub})
        for example in sub["examples"]:
            assert not list(checker.iter_errors(example)), f"{kind}{where}: example {example!r} is invalid"


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_the_schema_command_prints_the_shipped_schema(kind, capsys):
    assert main(["schema", kind]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(schema_path(kind).read_text())
    assert main(["schema", kind, "--modeline"]) == 0
    assert capsys.readouterr().out.startswith("# yaml-language-server: $schema=file://")


def shipped(kind: str) -> list[Path]:
    if kind == "spec":
        return sorted(p for p in list((ROOT / "specs").glob("*.yaml")) + list((ROOT / "examples").rglob("*.yaml"))
                      if "\nhierarchy:" not in p.read_text() and "\nsweep:" not in p.read_text()
                      and not p.read_text().startswith("sweep:"))
    if kind == "experiment":
        return sorted((ROOT / "experiments").glob("*.yaml"))
    if kind == "hierarchy":
        return sorted(p for p in (ROOT / "examples").rglob("*.yaml") if "\nhierarchy:" in p.read_text())
    return sorted(p for p in (ROOT / "examples").rglob("*.yaml") if "\nsweep:" in p.read_text())


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_an_independent_validator_accepts_every_shipped_file(kind):
    pytest.importorskip("check_jsonschema")
    files = shipped(kind)
    if not files:
        pytest.skip(f"no shipped {kind} files")
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema_path(kind)),
                             *map(str, files)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_independent_validator_reports_a_bad_file(tmp_path):
    pytest.importorskip("check_jsonschema")
    bad = tmp_path / "bad.yaml"
    bad.write_text("graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  y: {size: \"16\"}\n")
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema_path("spec")),
                             str(bad)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "16" in result.stdout


def language_server() -> str | None:
    import os
    import shutil
    return os.environ.get("YAML_LANGUAGE_SERVER") or shutil.which("yaml-language-server")


@pytest.mark.skipif(language_server() is None, reason="yaml-language-server (node) is not installed; "
                                                      "set YAML_LANGUAGE_SERVER to its path to run this")
def test_yaml_language_server_validates_a_spec_through_the_modeline(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("lsp_client", Path(__file__).with_name("lsp_client.py"))
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    modeline = f"# yaml-language-server: $schema={schema_path('spec').as_uri()}\n"
    bad = modeline + "graphrnn: 1\ninputs: {x: 2}\noutputs: {y: 2}\nnodes:\n  y: {size: \"16\"}\n"
    found = client.yaml_diagnostics(language_server(), str(tmp_path / "bad.yaml"), bad)
    assert any("integer" in d["message"] and d["range"]["start"]["line"] == 5 for d in found), found
    good = modeline + (ROOT / "specs" / "elman.yaml").read_text()
    assert client.yaml_diagnostics(language_server(), str(tmp_path / "elman.yaml"), good) == []
