"""Looking at things before training them: the library and the tasks in one line each, a module
instantiated alone, a network's masks and fixed values.  Used by ``graphrnn list``,
``graphrnn validate|show|draw MODULE`` and ``graphrnn show``.

    from graphrnn.inspection import library_entries, task_entries, load_for_inspection
    net, note = load_for_inspection("gru2")       # a module alone, with its defaults; note says so
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .compiler import ModuleLoader, compile_spec, find_library_spec, library_dirs, library_names, read_file
from .errors import GraphError, GraphRNNError, Location, SpecError
from .graph.expand import Expander
from .graph.ir import INPUT, Node
from .graph.reading import Scope
from .spec import did_you_mean, read_spec

MAX_PRINTED = 12     # masks and fixed matrices up to this many rows and columns are printed in full


@dataclass(frozen=True)
class LibraryEntry:
    """One library spec: ``kind`` is ``network`` or ``module``; ``summary`` its doc's first line."""

    name: str
    kind: str
    summary: str
    path: Path


def library_entries() -> list[LibraryEntry]:
    """Every spec a library name can load (the first of each name on the search path), by name."""
    entries = {}
    for directory in library_dirs():
        for path in sorted(directory.glob("*.yaml")):
            if path.stem in entries:
                continue
            try:
                spec = read_file(path)
            except GraphRNNError as err:      # a broken file on GRAPHRNN_PATH is listed, not fatal
                entries[path.stem] = LibraryEntry(path.stem, "broken", err.message, path)
                continue
            entries[path.stem] = LibraryEntry(path.stem, spec.kind, first_sentence(str(spec.data.get("doc", ""))),
                                              path)
    return [entries[name] for name in sorted(entries)]


@dataclass(frozen=True)
class TaskEntry:
    """One task with its default options: sizes of x and y per position, its loss and criterion."""

    name: str
    over: str           # "sequence" or "tree"
    input_size: int
    output_size: int
    loss: str
    criterion: str
    summary: str


def task_entries() -> list[TaskEntry]:
    """Every task of ``graphrnn.tasks.ALL_TASKS``, built with its defaults, in registry order."""
    from .tasks import ALL_TASKS, TASKS, make_task
    out = []
    for name, cls in ALL_TASKS.items():
        task = make_task(name)
        out.append(TaskEntry(name, "sequence" if name in TASKS else "tree", int(task.input_size),
                             int(task.output_size), str(task.loss), _criterion(task),
                             first_sentence(cls.__doc__ or "")))
    return out


def first_sentence(doc: str, limit: int = 100) -> str:
    """A docstring's first line (where these docs put their heading), at most ``limit`` characters."""
    lines = doc.strip().splitlines()
    line = lines[0].strip().rstrip(":") if lines else ""
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def _criterion(task) -> str:
    """The task's success rule in words: its ``criterion_text``, else what its criterion says
    when judging a small batch (the words do not depend on the outputs), else its ``success``
    docstring's first sentence."""
    text = getattr(task, "criterion_text", "")
    if text:
        return text
    if hasattr(task, "evaluate_outputs"):
        batch = task.sample(np.random.default_rng(0), 2)
        y = np.zeros(np.shape(batch.target)[:2] + (task.output_size,))
        return task.evaluate_outputs(batch, y).criterion
    doc = " ".join((task.success.__doc__ or "").split())
    return doc.split(";")[0].rstrip(".")


# -- a module alone ---------------------------------------------------------------------------------
def load_for_inspection(source: str | os.PathLike, engine: str | None = None):
    """``(net, note)``: the network a spec file or library name holds, with note None, or, for a
    module, the module instantiated alone with its default parameters and a note that says so.

    A module alone becomes a network with one input per port other than ``out`` (each feeding
    its port through a dense edge, as wide as the ``out`` port) and the ``out`` port as its
    output.  Over trees when the module reads children or parents.
    """
    path = Path(source)
    if not path.is_file():
        found = None if path.suffix or os.sep in str(source) else find_library_spec(str(source))
        if found is None:
            raise SpecError("GR114", f"no spec file or library spec `{source}`"
                            f"{did_you_mean(path.stem, library_names())}", loc=Location(str(source)),
                            fix="library specs: " + ", ".join(library_names()))
        path = found
    spec = read_file(path)
    if spec.kind != "module":
        return compile_spec(spec, engine), None
    return instantiate_module(spec, engine)


def instantiate_module(module, engine: str | None = None):
    """``(net, note)`` for a module Spec alone (see :func:`load_for_inspection`)."""
    ports = list(module.data["ports"])
    if "out" not in ports:
        raise GraphError("GR109", f"module `{module.name}` has no `out` port, so it cannot be shown alone",
                         loc=module.data.key_loc("ports"),
                         fix="use it in a network (`{use: " + module.name + "}`) and show that")
    inputs = [p for p in ports if p != "out"]
    declared = module.data.get("params", {})
    defaults = dict(declared)
    missing = [name for name, value in defaults.items() if value is None]
    if missing:        # a parameter declared `null` has no default: the module needs it from its user
        names = ", ".join(f"`{name}`" for name in missing)
        raise GraphError("GR104", f"module `{module.name}` has no default for {names}, so it cannot be "
                         "instantiated alone", loc=declared.value_loc(missing[0]),
                         fix=f"give {names} a default under `params:`, or look at a network that uses "
                             f"the module with {', '.join(f'`{n}: ...`' for n in missing)} beside `use:`")
    target = str(Path(module.file).resolve())
    try:
        return _instantiate(module, target, inputs, defaults, "sequence", engine)
    except GraphError as err:
        if err.code != "GR120":    # a module that reads children or its parent runs over trees
            raise
        return _instantiate(module, target, inputs, defaults, "tree", engine)


def _instance_name(module, inputs: list) -> str:
    """The instance is named after the module (members read ``gru2.h``), unless a port has that name."""
    return module.name if module.name not in inputs else module.name + "_alone"


def _wrapper(module, target: str, inputs: list, width: int, out_sizes: dict, over: str) -> str:
    name = _instance_name(module, inputs)
    data = {"graphrnn": 1, "name": module.name, "over": over,
            "doc": f"module {module.name} alone, with its default parameters",
            "inputs": {port: width for port in inputs},
            "outputs": out_sizes,
            "nodes": {name: {"use": target}},
            "edges": [{"from": port, "to": f"{name}.{port}"} for port in inputs]}
    return json.dumps(data)      # JSON is YAML: no quoting to get wrong


def _instantiate(module, target, inputs, defaults, over, engine):
    file = f"<module {module.name} alone>"
    # first expand with placeholder sizes to learn what the `out` port is made of
    out = _instance_name(module, inputs) + ".out"
    probe = read_spec(_wrapper(module, target, inputs, 1, {out: 1}, over), file)
    expander = Expander(ModuleLoader())
    scope = Scope(prefix="", file=file, params={})
    for port in inputs:
        expander.add_node(Node(port, INPUT, 1))
        scope.inputs.add(port)
        scope.nodes[port] = port
    expander.body(probe.data, scope)
    out_nodes = [name for name, _ in expander.resolve(out, scope, Location(file), as_source=True)]
    members = {name: expander.nodes[name].size for name in out_nodes}
    width = sum(members.values())
    outputs = {out: width} if len(out_nodes) == 1 else dict(members)
    net = compile_spec(read_spec(_wrapper(module, target, inputs, width, outputs, over), file), engine)
    taken = ", ".join(f"{k}={_yaml_value(v)}" for k, v in defaults.items()) or "none"
    note = (f"`{module.name}` is a module: instantiated alone with its defaults ({taken}); "
            + ((f"input `{inputs[0]}` [{width}] feeds its port of that name, " if len(inputs) == 1 else
                f"inputs {', '.join(f'`{p}` [{width}]' for p in inputs)} feed its ports of those names, ")
               if inputs else "it has no input port, ")
            + f"its `out` port is the output [{width}]"
            + (" (over trees)" if over == "tree" else ""))
    return net, note


def _yaml_value(value) -> str:
    return "true" if value is True else "false" if value is False else str(value)


# -- masks and fixed values -------------------------------------------------------------------------
def fixed_values_lines(net) -> list[str]:
    """Lines for ``graphrnn show``: each masked edge's mask and each edge's fixed values.

    Fixed values are weights that do not learn: a ``fixed`` edge's ``weights``, and the values
    of a ``trainable: false`` edge (its ``weights``, or the init scheme it is drawn from).
    """
    lines = []
    shown = set()
    for edge in net.ir.edges:
        key = edge.param or edge.label
        if key in shown:
            continue
        if edge.mask is not None:
            mask = np.asarray(edge.mask, float)
            lines.append(f"  {edge.src} -> {edge.dst}: mask {mask.shape[0]}x{mask.shape[1]}, "
                         f"{np.count_nonzero(mask)} of {mask.size} weights connected"
                         + (f" [{edge.param}]" if edge.param else ""))
            lines += _matrix_lines(mask, "%g")
            shown.add(key)
        if edge.weights is not None and not edge.trainable:
            value = np.asarray(edge.weights, float)
            what = "fixed weights" if edge.param is None else f"frozen weights [{edge.param}]"
            lines.append(f"  {edge.src} -> {edge.dst}: {what}, "
                         + ("scalar" if value.ndim == 0 else "x".join(map(str, value.shape))))
            lines += _matrix_lines(value, "%.6g")
            shown.add(key)
        elif edge.param and not edge.trainable and edge.init is not None:
            lines.append(f"  {edge.src} -> {edge.dst}: frozen [{edge.param}], init {edge.init} "
                         "(drawn by net.init(seed), never trained)")
            shown.add(key)
    return lines


def _matrix_lines(value: np.ndarray, fmt: str) -> list[str]:
    if value.ndim == 0:
        return ["      " + fmt % float(value)]
    matrix = value.reshape(1, -1) if value.ndim == 1 else value
    if max(matrix.shape) > MAX_PRINTED:
        return [f"      ({'x'.join(map(str, value.shape))}: too large to print; "
                f"min {value.min():g}, max {value.max():g})"]
    cells = [[fmt % v for v in row] for row in matrix]
    width = max(len(c) for row in cells for c in row)
    return ["      " + " ".join(c.rjust(width) for c in row) for row in cells]


# -- graphrnn list ----------------------------------------------------------------------------------
LISTINGS = ("networks", "modules", "tasks")


def listing_lines(what: str | None = None) -> list[str]:
    """``graphrnn list [networks|modules|tasks]``: one line each, grouped (all three without ``what``)."""
    lines = []
    entries = library_entries() if what in (None, "networks", "modules") else []
    for kind in ("network", "module"):
        if what not in (None, kind + "s"):
            continue
        picked = [e for e in entries if e.kind == kind]
        lines.append(f"{kind}s ({len(picked)}): " + ("graphrnn show NAME" if kind == "network" else
                                                      "`{use: NAME}` in a spec; graphrnn show NAME shows one alone"))
        width = max((len(e.name) for e in picked), default=0)
        lines += [f"  {e.name.ljust(width)}  {e.summary}".rstrip() for e in picked]
    broken = [e for e in entries if e.kind == "broken"]
    if broken:
        lines.append(f"unreadable library files ({len(broken)}):")
        lines += [f"  {e.path}: {e.summary}" for e in broken]
    if what in (None, "tasks"):
        tasks = task_entries()
        lines.append(f"tasks ({len(tasks)}): x and y sizes per position with the defaults, loss, "
                     "success criterion")
        width = max(len(t.name) for t in tasks)
        for t in tasks:
            sizes = f"x {t.input_size:>3} -> y {t.output_size:<3}"
            lines.append(f"  {t.name.ljust(width)}  {sizes}  {t.loss:<4}  {t.criterion}"
                         + (" (over trees: x per tree node, y at the root)" if t.over == "tree" else ""))
    return lines


def print_listing(what: str | None = None) -> None:
    print("\n".join(listing_lines(what)))
