"""The pipeline: load -> expand -> check -> plan -> emit, and spec lookup.

    text --read_spec--> Spec --expand--> Graph --check_graph--> Graph --build_plan--> Plan --> Network
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import GraphError, Location, SpecError
from .graph import check_graph, expand
from .plan import build_plan
from .runtime import Network, TreeNetwork, engine_for
from .spec import Spec, did_you_mean, read_spec
from .spec.validate import read_text

SPEC_SUFFIXES = (".yaml", ".yml")


def library_dirs() -> list[Path]:
    """Where library names are looked up: $GRAPHRNN_PATH entries, then the shipped library.

    The library is the repository's specs/ folder; an installed wheel carries
    it as graphrnn/library/ (see pyproject.toml).
    """
    dirs = [Path(p) for p in os.environ.get("GRAPHRNN_PATH", "").split(os.pathsep) if p]
    package = Path(__file__).resolve().parent
    dirs += [package / "library", package.parent / "specs"]
    return [d for d in dirs if d.is_dir()]


def library_names() -> list[str]:
    return sorted({p.stem for d in library_dirs() for p in d.glob("*.yaml")})


def find_library_spec(name: str) -> Path | None:
    for directory in library_dirs():
        for suffix in SPEC_SUFFIXES:
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def read_file(path: Path, loc: Location | None = None) -> Spec:
    return read_spec(read_text(path, "spec", loc), str(path))


class ModuleLoader:
    """Finds ``use:`` targets: a relative path (has a / or a .yaml suffix) or a library name."""

    def __init__(self):
        self.cache: dict[Path, Spec] = {}

    def __call__(self, use: str, from_file: str, loc: Location) -> Spec:
        if "/" in use or use.endswith(SPEC_SUFFIXES):
            base = Path(from_file).parent if not from_file.startswith("<") else Path.cwd()
            path = (base / use).resolve()
            if not path.is_file():
                raise GraphError("GR109", f"module file `{use}` not found (looked at {path})", loc=loc,
                                 fix="give a path relative to the file that uses it")
        else:
            path = find_library_spec(use)
            if path is None:
                raise GraphError("GR109", f"no library module `{use}`{did_you_mean(use, library_names())}",
                                 loc=loc, fix="library modules: " + ", ".join(library_names()))
            path = path.resolve()
        if path not in self.cache:
            self.cache[path] = read_file(path, loc)
        return self.cache[path]


def compile_spec(spec: Spec, engine: str | None = None, dtype="float64") -> Network | TreeNetwork:
    """Expand, check, plan and emit one network spec: a Network, or a TreeNetwork for ``over: tree``.

    ``engine`` (see graphrnn/runtime/engine.py; None: the default):
    ``"fused"`` (the default for sequences) runs forward and BPTT over the
    plan in numpy as one autograd primitive; ``"autograd"`` unrolls with
    autograd.numpy (the simple reference the fused engine is tested
    against, and the default for networks with a node kind or activation
    the fused engine has no backward rule for).  Over trees (``over: tree``),
    ``"fused_tree"`` (the default where it has the same rules) runs level by
    level over a TreeBatch in numpy, one autograd primitive, and
    ``"autograd_tree"`` does it with autograd.numpy (the reference).
    ``dtype``: ``"float64"`` (default) or ``"float32"`` for the computation;
    parameters and gradients stay float64.
    """
    graph = check_graph(expand(spec, ModuleLoader()))
    chosen = engine_for(graph, engine, loc=spec.data.value_loc("over"))
    net = (TreeNetwork if graph.over == "tree" else Network)(graph, build_plan(graph), chosen, dtype)
    net.spec = spec
    return net


def load(source: str | os.PathLike, engine: str | None = None, dtype="float64") -> Network | TreeNetwork:
    """A Network from a spec file path or a library name (``"elman"``); see compile_spec for ``engine``."""
    path = Path(source)
    if not path.is_file():
        found = None if path.suffix or os.sep in str(source) else find_library_spec(str(source))
        if found is None:
            raise SpecError("GR114", f"no spec file or library spec `{source}`"
                            f"{did_you_mean(path.stem, library_names())}", loc=Location(str(source)),
                            fix="library specs: " + ", ".join(library_names()))
        path = found
    return compile_spec(read_file(path), engine, dtype)


def loads(text: str, file: str = "<string>", engine: str | None = None, dtype="float64") -> Network | TreeNetwork:
    """A Network from YAML text; ``file`` names it in errors and anchors relative modules."""
    return compile_spec(read_spec(text, file), engine, dtype)


def resolve_spec(value: str, base: Path, loc: Location) -> str:
    """The spec file another file names at ``loc``: a path relative to ``base`` (that file's
    folder), or else a library name; SpecError GR114, with a did-you-mean, when neither exists."""
    looks_like_path = "/" in value or value.endswith(SPEC_SUFFIXES)
    candidate = base / value
    if candidate.is_file():
        return str(candidate.resolve())
    if not looks_like_path:
        found = find_library_spec(value)
        if found is not None:
            return str(found)
    hint = did_you_mean(Path(value).stem, library_names())
    raise SpecError("GR114", f"no spec file or library spec `{value}`{hint} (looked at {candidate.resolve()})",
                    loc=loc, fix="give the spec's path relative to the file that names it, or a library "
                                 "name: " + ", ".join(library_names()))
