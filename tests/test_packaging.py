"""Packaging: pyproject.toml lists every subpackage, and a wheel built from the source -- not an
editable install -- holds every data file and works in a fresh virtual environment."""
import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_SUFFIXES = (".json", ".yaml")
#: what graphrnn imports at run time; the fresh environment borrows them from this one
DEPENDENCIES = ("numpy", "autograd", "networkx", "yaml", "jsonschema", "matplotlib")


def test_every_subpackage_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "graphrnn").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"]["graphrnn.library"] == "specs"


def source_files() -> dict[str, Path]:
    """Wheel path -> source file for every module and data file the wheel must hold."""
    files = {}
    for path in (ROOT / "graphrnn").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py",) + DATA_SUFFIXES:
            files[path.relative_to(ROOT).as_posix()] = path
    for path in (ROOT / "specs").glob("*.yaml"):
        files[f"graphrnn/library/{path.name}"] = path
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the source (so no build/ folder is left in the checkout)."""
    if find_spec("setuptools") is None or find_spec("wheel") is None:
        pytest.skip("building a wheel offline needs setuptools and wheel: pip install -e '.[test]'")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "graphrnn", src / "graphrnn", ignore=ignore)
    shutil.copytree(ROOT / "specs", src / "specs", ignore=ignore)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                             "--no-index", "--quiet", "-w", str(tmp / "dist"), str(src)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = (tmp / "dist").glob("graphrnn-*.whl")
    return built


def test_the_wheel_holds_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(set(source_files()) - names)
    assert not missing, f"not in the wheel (declare them in [tool.setuptools.package-data]): {missing}"
    data = [name for name in source_files() if name.endswith(DATA_SUFFIXES)]
    assert any(n.endswith("hierarchy_schema.json") for n in data) and any(n.startswith("graphrnn/library/")
                                                                          for n in data)


# run in the fresh environment, from a folder outside the checkout
SMOKE = """\
import json, sys
from pathlib import Path
import numpy as np
import graphrnn as gr
root, venv = Path(sys.argv[1]), Path(sys.argv[2])
assert Path(gr.__file__).resolve().is_relative_to(venv.resolve()), gr.__file__
net = gr.load("lstm_2layer")                                  # a library spec that uses library modules
y = net.run(net.init(0), np.zeros((3, 1, net.input_size))).y
from graphrnn.train.experiment import load_experiment
exp = load_experiment(root / "experiments" / "reber_elman.yaml")
from graphrnn.models.hierarchy_spec import load_hierarchy
hierarchy = load_hierarchy(root / "examples" / "history_compressor" / "lag20.yaml")
from graphrnn.trees import read_trees
Path("trees.txt").write_text("(and T (or F T))\\n(xor T F)\\n")
trees = read_trees("trees.txt")
print(json.dumps({"y": list(np.shape(y)), "experiment": exp.name, "hierarchy": hierarchy.name,
                  "trees": len(trees)}))
"""


def test_the_wheel_works_in_a_fresh_environment(wheel, tmp_path):
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                             "--no-index", "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # the dependencies come from this environment, by path (not graphrnn: no editable install leaks in,
    # since a .pth path entry is not a site folder and its .pth files are not run)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    folders = {str(Path(find_spec(name).origin).parent.parent) for name in DEPENDENCIES}
    assert not any((Path(folder) / "graphrnn" / "__init__.py").is_file() for folder in folders)
    (site / "borrowed_dependencies.pth").write_text("\n".join(sorted(folders)) + "\n")
    work = tmp_path / "work"
    work.mkdir()
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRAPHRNN_PATH")}
    smoke = subprocess.run([str(python), "-I", "-c", SMOKE, str(ROOT), str(env_dir)], cwd=work, env=clean,
                           capture_output=True, text=True, timeout=300)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    facts = json.loads(smoke.stdout.strip().splitlines()[-1])
    assert facts == {"y": [3, 1, facts["y"][2]], "experiment": "reber_elman", "hierarchy": "lag20", "trees": 2}
    command = env_dir / ("Scripts/graphrnn.exe" if os.name == "nt" else "bin/graphrnn")
    validate = subprocess.run([str(command), "validate", "elman"], cwd=work, env=clean, capture_output=True,
                              text=True, timeout=300)
    assert validate.returncode == 0 and validate.stdout.startswith("ok: elman"), validate.stdout + validate.stderr
