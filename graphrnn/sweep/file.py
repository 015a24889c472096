"""Sweep files: an experiment file, the trials' seeds, and a grid over any experiment field.

    graphrnn: 1
    sweep: reber_lr
    experiment: ../experiments/reber_lstm1997.yaml   # relative to this file
    seeds: {start: 0, count: 8}                     # or a list: [0, 1, 2]
    overrides: {train.sequences: 20000}             # every trial (dotted paths)
    grid:                                           # every combination is one grid point
      optimizer.lr: [0.01, 0.003]
      train.batch: [1, 16]

The structure is checked against ``sweep_schema.json`` with the located
errors of every other file (GR103, GR104, GR111).  Every override and every
grid value is then applied to the experiment and the result checked as an
experiment file is (task, optimizer, sizes): an experiment that a value makes
invalid is GR311 at that value.  A dotted path may name a key the
experiment does not have yet (``train.batch``, ``optimizer.clip.norm``), not
the seeds (``seeds``, ``runs``, ``train.seed``: the sweep's ``seeds:`` say
them; GR310).  A ``network`` value is a spec file relative to the sweep file
(or a library name).

:func:`load_sweep` returns a :class:`Sweep`: its grid points (a
:class:`GridPoint` each: a label naming its folder, its values and its
experiment, a variant of the file's whose text is what the trial's run
directory keeps) and its seeds.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from ..compiler import resolve_spec
from ..errors import GraphRNNError, Location, TrainError
from ..spec.validate import read_document, read_text, schema_error, strict_validator
from ..spec.yamlmarks import MarkedDict, plain
from ..train.experiment import Experiment, load_experiment, loads_experiment

__all__ = ["Sweep", "GridPoint", "load_sweep", "loads_sweep", "sweep_schema", "MAX_POINTS", "MAX_TRIALS"]

FORMAT_VERSION = 1
SCHEMA_FILE = "sweep_schema.json"
MAX_POINTS = 10_000
MAX_TRIALS = 100_000
#: experiment fields a sweep does not set: the trials' seeds are the sweep's own
SEED_PATHS = ("seeds", "runs", "train.seed", "graphrnn", "experiment")
BASE_LABEL = "base"
#: libyaml's emitter where PyYAML has it: a grid point's text is written per point (the pure-Python one costs ~30 ms)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

FIELD_HINTS = {
    "graphrnn": "1",
    "sweep": "a name of letters, digits, _, - and . (it names the sweep directory)",
    "experiment": "an experiment file, relative to the sweep file",
    "seeds": "a list of different whole numbers >= 0, e.g. [0, 1, 2], or {start: 0, count: 30}",
    "start": "a whole number >= 0 (the first seed)",
    "count": "a whole number from 1 to 10000 (how many seeds)",
    "grid": "a mapping of dotted paths to lists of values, e.g. `optimizer.lr: [0.1, 0.5]`",
    "overrides": "a mapping of dotted paths to values, e.g. `train.sequences: 20000`",
}


@lru_cache(maxsize=1)
def sweep_schema() -> dict:
    """The sweep file's JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text())


@lru_cache(maxsize=1)
def _validator():
    return strict_validator(sweep_schema())   # `count: 3.0` is not an integer (spec/validate.py)


@dataclass(frozen=True)
class GridPoint:
    """One combination of grid values: ``label`` (its folder in the sweep directory: ``base``
    without a grid, else ``path=value,...``), ``values`` (dotted path -> value) and the
    ``experiment`` every trial of the point runs (not built: a worker builds it)."""

    label: str
    values: dict
    experiment: Experiment = field(repr=False)


@dataclass
class Sweep:
    """A checked sweep file; see the module docstring."""

    name: str
    file: str
    folder: str         # what `experiment:` and `network` values are relative to
    text: str
    doc: str
    experiment_file: str
    seeds: tuple
    overrides: dict
    grid: dict
    points: list

    @property
    def trials(self) -> list[tuple[GridPoint, int]]:
        """(grid point, seed) of every trial, point by point."""
        return [(point, seed) for point in self.points for seed in self.seeds]


class _Reader:
    """Applies dotted paths to the experiment's document and checks what comes out."""

    def __init__(self, data: MarkedDict, file: str, folder: Path, base: Experiment):
        self.data, self.file, self.folder, self.base = data, file, folder, base
        self.doc = plain(base.data)
        for key in ("seeds", "runs"):
            self.doc.pop(key, None)
        self.doc["network"] = base.network_path      # absolute: the variant is read from elsewhere
        self.built = {}     # each distinct task, optimizer and network, built once (Experiment.build)

    def path_error(self, path: str, loc: Location) -> None:
        if path in SEED_PATHS or path.split(".")[0] in ("seeds", "runs", "graphrnn", "experiment"):
            raise TrainError("GR310", f"a sweep does not set `{path}`", loc=loc,
                             fix="the sweep's `seeds:` say each trial's seed; `experiment:` names the file")

    def value(self, path: str, value, loc: Location):
        """``value`` as the experiment holds it: a ``network`` resolved against the sweep file."""
        if path == "network":
            if not isinstance(value, str):
                raise TrainError("GR310", f"`network` values must be spec files, got {value!r}", loc=loc,
                                 fix="give spec files relative to the sweep file, or library names")
            return resolve_spec(value, self.folder, loc)
        return plain(value)

    def variant(self, assignments: dict, loc: Location, what: str, build: bool) -> Experiment:
        doc = json.loads(json.dumps(self.doc))
        for path, value in assignments.items():
            node, keys = doc, path.split(".")
            for depth, key in enumerate(keys[:-1]):
                node = node.setdefault(key, {})
                if not isinstance(node, dict):
                    raise TrainError("GR310", f"`{'.'.join(keys[:depth + 1])}` is {node!r} in the experiment, "
                                              f"so `{path}` names nothing", loc=loc,
                                     fix="name a field of a mapping (docs/training.md lists the keys)")
            node[keys[-1]] = value
        header = f"# {self.base.file}" + (f" with {label_text(assignments)}" if assignments else "") + "\n"
        text = header + yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
        try:
            exp = loads_experiment(text, f"<{what}>", base_dir=Path(self.base.file).parent, build=build,
                                   shared=self.built)
        except GraphRNNError as err:
            raise TrainError("GR311", f"{what} makes an invalid experiment: {err.message}", loc=loc,
                             fix=err.fix, notes=(f"in the experiment {self.base.file} with {label_text(assignments)}",)
                             if assignments else ()) from None
        return replace(exp, _setup=None)


def label_text(values: dict) -> str:
    """``path=value, ...`` for messages."""
    return ", ".join(f"{path}={_short(path, value)}" for path, value in values.items())


def _short(path: str, value) -> str:
    if path == "network" and isinstance(value, str):
        return Path(value).stem
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def point_label(values: dict) -> str:
    """The folder name of a grid point: ``path=value,...`` in safe characters (a hash when long)."""
    if not values:
        return BASE_LABEL
    text = ",".join(f"{path}={_short(path, value)}" for path, value in values.items())
    safe = re.sub(r"[^A-Za-z0-9_.=,+-]", "_", text)
    if len(safe) > 100:
        safe = safe[:80] + "-" + hashlib.sha1(text.encode()).hexdigest()[:10]
    return safe


def loads_sweep(text: str, file: str = "<string>", base_dir=None) -> Sweep:
    """A Sweep from YAML text; ``file`` names it in errors; ``base_dir`` anchors ``experiment:``
    and ``network`` values (default: the file's folder, or the current one).

    Loads the experiment file and checks every grid point's experiment (SpecError GR103,
    GR104, GR111 for the structure; TrainError GR310 for a path a sweep does not set or a
    sweep too large, GR311 for a value that makes an invalid experiment)."""
    data = read_document(text, file, "a sweep", "sweep", FORMAT_VERSION)
    error = schema_error(_validator(), data, file, what="the sweep", hints=FIELD_HINTS, docs="docs/training.md")
    if error is not None:
        raise error
    folder = Path(base_dir) if base_dir is not None else Path(file).parent if not file.startswith("<") else Path.cwd()
    base = load_experiment(os.path.normpath(folder / data["experiment"]), build=False)
    seeds = data["seeds"]
    seeds = tuple(range(seeds["start"], seeds["start"] + seeds["count"])) if isinstance(seeds, dict) \
        else tuple(int(s) for s in seeds)
    reader = _Reader(data, file, folder, base)
    overrides_doc = data.get("overrides", MarkedDict())
    grid_doc = data.get("grid", MarkedDict())
    overrides = {}
    for path, value in overrides_doc.items():
        reader.path_error(path, overrides_doc.key_loc(path))
        overrides[path] = reader.value(path, value, overrides_doc.value_loc(path))
        reader.variant({path: overrides[path]}, overrides_doc.value_loc(path), f"`{path}: {value}`", build=True)
    combinations = 1
    for values in grid_doc.values():
        combinations *= len(values)
    if combinations > MAX_POINTS or combinations * len(seeds) > MAX_TRIALS:
        raise TrainError("GR310", f"the grid has {combinations:,} points and {combinations * len(seeds):,} "
                                  f"trials (at most {MAX_POINTS:,} points and {MAX_TRIALS:,} trials)",
                         loc=data.value_loc("grid") if grid_doc else data.value_loc("seeds"),
                         fix="split the sweep into several files")
    grid = {}
    for path, values in grid_doc.items():
        reader.path_error(path, grid_doc.key_loc(path))
        grid[path] = [reader.value(path, v, values.item_loc(i)) for i, v in enumerate(values)]
        for i, value in enumerate(grid[path]):
            reader.variant({**overrides, path: value}, values.item_loc(i), f"`{path}: {values[i]}`", build=True)
    points, labels = [], set()
    for combination in itertools.product(*grid.values()):
        values = dict(zip(grid, combination))
        label = point_label(values)
        if label in labels:
            label = f"{label}-{len(points)}"
        labels.add(label)
        where = data.value_loc("grid") if grid else data.value_loc("experiment")
        what = f"the grid point {label_text(values)}" if values else "the experiment"
        points.append(GridPoint(label, values, reader.variant({**overrides, **values}, where, what, build=True)))
    return Sweep(name=str(data["sweep"]), file=file, folder=str(folder.resolve()), text=text, doc=str(data.get("doc", "")).strip(),
                 experiment_file=base.file, seeds=seeds, overrides=overrides, grid=grid, points=points)


def load_sweep(path) -> Sweep:
    """A Sweep from a file (see :func:`loads_sweep`); GR114 when it cannot be read."""
    path = Path(path)
    text = read_text(path, "sweep file", hint="check the path (shipped sweeps: examples/reproductions/*.yaml)")
    return loads_sweep(text, str(path))
