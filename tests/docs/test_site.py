"""The documentation site, the README's quick start and the task table stay true."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from graphrnn.inspection import task_entries

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
                    reason="mkdocs-material is not installed (pip install -e '.[test]')")
def test_the_site_builds_strictly(tmp_path):
    """`mkdocs build --strict`: a broken link, a missing page or a page left out of the nav fails."""
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "tutorial" / "index.html").is_file()


def test_every_doc_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f": {page.name}" in nav, f"docs/{page.name} is not in mkdocs.yml's nav"


def test_the_task_table_lists_every_task_as_the_registry_has_it():
    text = (ROOT / "docs" / "tasks.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.groups() for m in re.finditer(
        r"^\| `(\w+)` \| (\d+) \| (\d+) \| (\w+) \| (.*) \|$", text, re.M)}
    entries = task_entries()
    assert set(rows) == {t.name for t in entries}
    for t in entries:
        _, x, y, loss, criterion = rows[t.name]
        assert (int(x), int(y), loss) == (t.input_size, t.output_size, t.loss), t.name
        assert criterion.replace("\\|", "|") == t.criterion.replace("``", "`"), t.name


def test_the_quick_start_makes_a_venv_and_keeps_three_ci_commands():
    """.ci/run runs README's first ```sh block: exactly 3 lines (install, main job, tests)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quick start"):]
    venv = quick.index("python3 -m venv .venv")
    first_sh = quick.index("\n```sh\n")
    assert venv < first_sh and "```bash" in quick[:first_sh]
    block = quick[first_sh + len("\n```sh\n"):]
    commands = block[:block.index("\n```")].splitlines()
    assert len(commands) == 3 and commands[0].startswith("python -m pip install -e") and "pytest" in commands[2]


def test_the_license_is_the_one_pyproject_names():
    license_ = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    assert license_ == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
