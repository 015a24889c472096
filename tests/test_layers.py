"""The package's import structure: no import cycles, and no import from a lower floor to a higher one.

Every ``import`` of a graphrnn module is counted, including those inside
functions (a deferred import still ties the layers together).  A module may
import from its own subpackage and from any subpackage on a lower floor;
two subpackages on the same floor do not import each other.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import graphrnn

PACKAGE = Path(graphrnn.__file__).parent

#: The floors, lowest first.  docs/architecture.md draws the same picture.
FLOORS = [
    {"errors", "atomic"},                      # located errors; the atomic file writer
    {"spec"},                                  # YAML with marks, schema validation
    {"ops", "trees"},                          # kinds (nodes, edges, activations, losses); tree data
    {"graph", "tasks"},                        # the primitive graph; task data generators
    {"plan"},                                  # the vectorised schedule
    {"runtime"},                               # engines and the networks over them
    {"compiler"},                              # text -> Network
    {"interop", "viz", "inspection"},          # PyTorch twins; pictures; the library, tasks, modules alone
    {"train"},                                 # gradient methods, optimizers, the training core
    {"models", "testing", "sweep"},            # history compressor; property checks; sweeps on Dask
    {"cli"},                                   # the `graphrnn` command
    {"__init__", "__main__"},                  # the package's face; `python -m graphrnn`
]
FLOOR = {part: level for level, parts in enumerate(FLOORS) for part in parts}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """The graphrnn modules (or packages) ``path`` imports, absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "graphrnn":
                # `from pkg import name`: the module `pkg.name` when there is one, else `pkg` itself
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "graphrnn")
    return found


def module_graph() -> nx.DiGraph:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for f in files:
        source = module_name(f)
        for target in imports(f):
            while target not in modules:   # `pkg.name` is a module or an attribute of `pkg`
                target = target.rpartition(".")[0]
            if target != source:
                graph.add_edge(source, target)
    return graph


def floor_of(module: str) -> tuple[str, int]:
    parts = module.split(".")
    part = parts[1] if len(parts) > 1 else "__init__"
    assert part in FLOOR, f"{module}: subpackage `{part}` has no floor in tests/test_layers.py FLOORS"
    return part, FLOOR[part]


def test_every_subpackage_has_a_floor():
    for module in module_graph():
        floor_of(module)


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(module_graph()))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + c[:1]) for c in cycles)


def test_no_import_from_a_lower_floor_to_a_higher_one():
    wrong = []
    for source, target in module_graph().edges:
        (a, floor_a), (b, floor_b) = floor_of(source), floor_of(target)
        if a != b and floor_b >= floor_a:
            wrong.append(f"{source} (floor {floor_a}, {a}) imports {target} (floor {floor_b}, {b})")
    assert not wrong, "imports that go up or sideways:\n" + "\n".join(sorted(wrong))
