"""The tutorial and the task guide run as written: every block, in order, in an empty folder.

Blocks by fence:

- ``yaml``/``python`` whose first line is ``# file: NAME``: written to NAME;
- other ``python`` blocks: executed in order in one namespace (asserts included);
- ``console``: each ``$ command`` is run (``graphrnn`` as ``python -m graphrnn``) and what it
  prints (stdout and stderr) must match the lines after it, in order; a line ``...`` stands for
  any lines, a line ending in ``...`` for any line that starts with the rest.  The expected exit
  status is 2 when the output shows an ``error GR`` code, 1 when it shows a failed check, else 0;
- ``toml``: parsed, and an entry point table it shows must be the ``graphrnn.kinds`` group;
- ``bash``: the one-time install (a venv and ``pip install``), which is what CI itself runs
  (.ci/run), so it is not repeated here.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from graphrnn.ops import OPS

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def blocks(markdown: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(markdown)]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` lines fit the ``expected`` pattern lines (see the module docstring)."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    if not actual:
        return False
    line = actual[0].rstrip()
    fits = line.startswith(head[:-3]) if head.endswith("...") else line == head.rstrip()
    return fits and matches(rest, actual[1:])


def run_console(block: str, folder: Path) -> None:
    commands, current = [], None
    for line in block.splitlines():
        if line.startswith("$ "):
            current = (line[2:], [])
            commands.append(current)
        else:
            current[1].append(line)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    for command, expected in commands:
        argv = shlex.split(command)
        assert argv[0] == "graphrnn", command
        done = subprocess.run([sys.executable, "-m", "graphrnn", *argv[1:]], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=300)
        printed = (done.stdout + done.stderr).splitlines()
        text = "\n".join(expected)
        status = 2 if " error GR" in text else 1 if "check failed" in text else 0
        assert done.returncode == status, f"$ {command}\n{done.stdout}{done.stderr}"
        assert matches(expected, printed), (f"$ {command}\nexpected:\n{text}\nprinted:\n"
                                            + "\n".join(printed))


def walk(document: Path, folder: Path) -> dict:
    """Run every block of ``document`` in ``folder``; returns the Python namespace."""
    namespace: dict = {"__name__": f"walkthrough_{document.stem}"}
    for fence, body in blocks(document.read_text(encoding="utf-8")):
        first = body.splitlines()[0] if body.strip() else ""
        if fence in ("yaml", "python") and first.startswith("# file: "):
            (folder / first[len("# file: "):].strip()).write_text(body, encoding="utf-8")
        elif fence == "python":
            exec(compile(body, f"{document.name} block", "exec"), namespace)
        elif fence == "console":
            run_console(body, folder)
        elif fence == "toml":
            table = tomllib.loads(body)
            groups = table.get("project", {}).get("entry-points", {})
            assert set(groups) <= {"graphrnn.kinds"} and groups, body
        elif fence not in ("bash", "text"):
            raise AssertionError(f"{document.name}: a ```{fence} block the walk does not know how to run")
    return namespace


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty working folder; node kinds and modules the walk registers are removed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    kinds, modules = set(OPS), set(sys.modules)
    yield tmp_path
    for name in set(OPS) - kinds:
        del OPS[name]
    for name in set(sys.modules) - modules:
        if name.startswith(("graphrnn_plugin_", "my_kinds", "wrong_kinds")):
            del sys.modules[name]


def test_the_tutorial_runs_as_written(folder):
    namespace = walk(DOCS / "tutorial.md", folder)
    assert {"echo.yaml", "echo.svg", "echo.dot", "my_kinds.py"} <= {p.name for p in folder.iterdir()}
    assert namespace["loss"] < namespace["first"] / 10


def test_the_task_guide_runs_as_written(folder):
    walk(DOCS / "tasks.md", folder)


def test_the_pattern_matcher_itself():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "b..."], ["a", "bcd"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a"], ["a", "b"])
