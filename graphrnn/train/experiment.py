"""Experiment files: a network spec, a task, an optimizer and a schedule in one YAML document.

    graphrnn: 1
    experiment: reber_lstm1997
    doc: ...
    network: ../specs/lstm1997_reber.yaml     # relative to this file, or a library name
    task: {name: embedded_reber, data_seed: 0}
    optimizer: {name: sgd, lr: 0.5}
    train: {sequences: 60000, batch: 1, seed: 0, evaluate_every: 200, loss: sse}
    runs: 3                                   # optional: several trials ...
    seeds: [0, 1, 2]                          # ... with these seeds

The structure is checked against the shipped JSON Schema
(``experiment_schema.json``) with the same located errors as a network spec
(``FILE:LINE:COL``, a did-you-mean for a misspelt key: GR103, GR104,
GR111); the task and its options (:func:`graphrnn.tasks.make_task`), the
optimizer (:func:`graphrnn.train.optimizers.from_config`), the schedule and
the network's input/output sizes against the task's are checked next and
reported as located ``TrainError("GR300")``.

:func:`load_experiment` does all of that and compiles the network once;
:meth:`Experiment.build` hands out the (network, task, optimizer) triple
the training loop needs and :meth:`Experiment.schedule` the Schedule of one
seed.  Running it, with a run directory, metrics and a learning curve, is
:mod:`graphrnn.train.runs`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np

from ..errors import GraphRNNError, Location, SpecError, TrainError
from ..spec.validate import did_you_mean, read_document, read_text, schema_error
from ..spec.yamlmarks import MarkedDict, plain
from .loop import Schedule

__all__ = ["Experiment", "Setup", "load_experiment", "loads_experiment", "experiment_schema",
           "LOSS_MODES", "SSETask"]

FORMAT_VERSION = 1
SCHEMA_FILE = "experiment_schema.json"
SCHEDULE_KEYS = ("sequences", "batch", "method", "k1", "k2", "evaluate_every", "checkpoint_every",
                 "stop_when_solved")
#: ``train.loss``: the task's own loss (a mean over steps and units), or the 1997 paper's E
LOSS_MODES = ("task", "sse")


@lru_cache(maxsize=1)
def experiment_schema() -> dict:
    """The experiment file's JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text())


@lru_cache(maxsize=1)
def _validator():
    return jsonschema.Draft202012Validator(experiment_schema())


# -- the structure: JSON Schema, reported like a spec ----------------------------------------
FIELD_HINTS = {
    "graphrnn": "1",
    "experiment": "a name of letters, digits, _, - and . (it names the run directories)",
    "network": "a spec file relative to the experiment file, or a library spec name (`graphrnn show NAME`)",
    "engine": "fused | autograd (default: fused where it has rules for every node kind)",
    "dtype": "float64 | float32",
    "sequences": "a whole number >= 1 (the budget of training sequences)",
    "batch": "a whole number >= 1 (1 = online learning: one sequence per update)",
    "seed": "a whole number >= 0",
    "method": "bptt | tbptt | rtrl",
    "k1": "a whole number >= 1 (tbptt: steps between truncation points)",
    "k2": "a whole number >= k1 (tbptt: steps the error flows back)",
    "evaluate_every": "a whole number >= 0 (sequences between tests; 0: only at the end)",
    "checkpoint_every": "a whole number >= 0 (sequences between checkpoints; 0: only at the end)",
    "stop_when_solved": "true | false",
    "loss": "task (the task's own loss) | sse (the 1997 paper's summed squared error)",
    "runs": "a whole number >= 1",
    "seeds": "a list of different whole numbers >= 0, e.g. [0, 1, 2]",
    "lr": "a number (the learning rate)",
    "name": "a name (see the fix of the error about it)",
}


def _check_structure(doc, file: str) -> None:
    """Raise SpecError (GR103 unknown key, GR104 invalid value) for the most relevant violation."""
    error = schema_error(_validator(), doc, file, what="the experiment", hints=FIELD_HINTS,
                         docs="docs/training.md")
    if error is not None:
        raise error


def _mentioned_key(message: str, mapping) -> str | None:
    """The key of ``mapping`` an error message is about: a `backticked` key, or the word it starts with."""
    for word in re.findall(r"`([^`]+)`", message):
        if word in mapping:
            return word
    for key in mapping:
        if re.match(rf"\W*{re.escape(str(key))}\b", message):
            return key
    for key in mapping:
        if re.search(rf"\b{re.escape(str(key))}\b", message) and key != "name":
            return key
    return None


# -- the experiment ----------------------------------------------------------------------------
@dataclass
class Setup:
    """What the training loop needs: ``net``, ``task`` and ``optimizer``."""

    net: object
    task: object
    optimizer: object


@dataclass
class Experiment:
    """A checked experiment file; see the module docstring.

    ``task``/``optimizer`` are the plain mappings of the file; ``schedule_options`` the
    ``train:`` keys the Schedule takes; ``seeds`` one seed per trial; ``network_path`` the
    resolved spec file.  :meth:`build` compiles the network, builds the task and the
    optimizer (once) and checks their sizes.
    """

    name: str
    file: str
    text: str
    doc: str
    network: str
    network_path: str
    task: dict
    optimizer: dict
    schedule_options: dict
    seed: int
    loss: str
    engine: str | None      # None: the fused engine where it has rules for every node kind, else autograd
    dtype: str
    seeds: tuple
    data: MarkedDict = field(repr=False)
    _setup: Setup | None = field(default=None, repr=False)

    # -- locations -----------------------------------------------------------------------------
    def loc(self, *path, key: bool = False) -> Location:
        """The file:line:col of the value (or key) at ``path`` (``"task"``, ``"name"``)."""
        node, where = self.data, getattr(self.data, "loc", Location(self.file, 1, 1))
        for step in path:
            if isinstance(node, MarkedDict) and step in node:
                where = node.key_loc(step) if key else node.value_loc(step)
                node = node[step]
            else:
                break
        return where

    def error(self, message: str, *path, fix: str | None = None, key: bool = False) -> TrainError:
        return TrainError("GR300", message, loc=self.loc(*path, key=key), fix=fix)

    # -- what it builds ------------------------------------------------------------------------
    def schedule(self, seed: int | None = None, sequences: int | None = None) -> Schedule:
        """The Schedule of one trial (``seed`` default: ``train.seed``; ``sequences`` overrides the budget)."""
        options = dict(self.schedule_options)
        if sequences is not None:
            options["sequences"] = sequences
        try:
            return Schedule(seed=self.seed if seed is None else int(seed), **options)
        except GraphRNNError as err:
            raise TrainError("GR300", err.message, loc=self.loc("train"), fix=err.fix) from None

    def with_seeds(self, seeds) -> "Experiment":
        """The same experiment with other trial seeds."""
        return replace(self, seeds=tuple(int(s) for s in seeds))

    def build(self) -> Setup:
        """(net, task, optimizer), built once; raises the located errors of the module docstring."""
        if self._setup is None:
            task = self.make_task()
            optimizer = self.make_optimizer()
            net = self.load_network()
            if (net.input_size, net.output_size) != (task.input_size, task.output_size):
                raise self.error(
                    f"network `{net.name}` has {net.input_size} inputs and {net.output_size} outputs; "
                    f"task `{self.task['name']}` needs {task.input_size} inputs and {task.output_size} "
                    f"outputs", "network",
                    fix=f"use a network whose `inputs:` add up to {task.input_size} and whose "
                        f"`outputs:` add up to {task.output_size} (now {self.network_path}), or another task")
            if self.loss == "sse":
                task = SSETask(task)
                optimizer = _ScaledOptimizer(optimizer, task)
            self._setup = Setup(net, task, optimizer)
        return self._setup

    def make_task(self):
        from ..tasks import ALL_TASKS as TASKS, make_task, task_options
        name = self.task["name"]
        if not isinstance(name, str) or name not in TASKS:
            raise self.error(f"unknown task `{name}`{did_you_mean(str(name), TASKS)}", "task", "name",
                             fix=f"tasks: {', '.join(TASKS)}")
        options = {k: v for k, v in self.task.items() if k != "name"}
        allowed = task_options(name)
        for key in options:
            if key not in allowed:
                raise self.error(f"task `{name}` has no option `{key}`{did_you_mean(str(key), allowed)}",
                                 "task", key, key=True,
                                 fix="options: " + (", ".join(f"{k} (default {v!r})" for k, v in allowed.items())
                                                    or "(none)"))
        try:
            task = make_task(name, **options)
        except (ValueError, TypeError) as err:
            key = _mentioned_key(str(err), options)
            path = ("task", key) if key else ("task",)
            raise self.error(f"task `{name}`: {err}", *path,
                             fix=f"give `{key}` a value the message allows" if key else
                             "see the task's options in docs/training.md") from None
        if self.loss == "sse" and task.loss != "mse":
            raise self.error(f"`loss: sse` needs a task with a squared-error loss; task `{name}` uses "
                             f"`{task.loss}`", "train", "loss", fix="remove `loss: sse` (or write `loss: task`)")
        return task

    def make_optimizer(self):
        from .optimizers import from_config
        try:
            return from_config(self.optimizer)
        except (ValueError, TypeError) as err:
            key = _mentioned_key(str(err), self.optimizer)
            if str(err).startswith("unknown optimizer"):
                key = "name"
            path = ("optimizer", key) if key else ("optimizer",)
            unknown_key = str(err).startswith("unknown key")
            raise self.error(f"optimizer: {err}", *path, key=unknown_key,
                             fix="see the optimizers and their keys in docs/training.md") from None

    def load_network(self):
        from .. import load
        return load(self.network_path, engine=self.engine, dtype=self.dtype)


# -- the 1997 paper's error --------------------------------------------------------------------
class SSETask:
    """A task whose loss is E = 1/2 sum over output units and steps of (y - target)^2, averaged
    over the batch: the error the 1997 LSTM paper's learning rates refer to.

    The training loop computes the task's ``mse`` (a mean over the judged steps and the
    output units); for one batch, E = mse * O * (judged steps) / (2 B), a constant, so
    the gradient of E is that of mse times it.  The wrapper records the factor when the
    loop samples a batch, and the optimizer :meth:`Experiment.build` pairs with it scales
    the gradients by it before the update (clipping then applies to the gradient of E).  The loss the loop logs stays
    the task's mse.  Everything else is the wrapped task's.
    """

    def __init__(self, task):
        self.task = task
        self.factor = 1.0

    def __getattr__(self, name):
        return getattr(self.task, name)

    def sample(self, rng, batch: int):
        out = self.task.sample(rng, batch)
        self.factor = out.target.shape[-1] * float(np.sum(out.mask)) / (2.0 * out.size)
        return out


class _ScaledOptimizer:
    """Scales the gradients by the SSETask task's factor of the batch just drawn."""

    def __init__(self, optimizer, task: "SSETask"):
        self.optimizer, self.task = optimizer, task

    def __getattr__(self, name):
        return getattr(self.optimizer, name)

    def init(self, *args, **kwargs):
        return self.optimizer.init(*args, **kwargs)

    def update(self, params, grads, state, step):
        factor = self.task.factor
        return self.optimizer.update(params, {k: g * factor for k, g in grads.items()}, state, step)

    def __repr__(self) -> str:
        return f"{self.optimizer!r} on the summed squared error"


# -- loading -----------------------------------------------------------------------------------
def _resolve_network(value: str, base: Path, loc: Location) -> str:
    from ..compiler import SPEC_SUFFIXES, find_library_spec, library_names
    looks_like_path = "/" in value or value.endswith(SPEC_SUFFIXES)
    candidate = (base / value)
    if candidate.is_file():
        return str(candidate.resolve())
    if not looks_like_path:
        found = find_library_spec(value)
        if found is not None:
            return str(found)
    hint = did_you_mean(Path(value).stem, library_names())
    raise SpecError("GR114", f"no spec file or library spec `{value}`{hint} (looked at {candidate.resolve()})",
                    loc=loc, fix="give the spec's path relative to the experiment file, or a library "
                                 "name: " + ", ".join(library_names()))


def loads_experiment(text: str, file: str = "<string>", base_dir=None, build: bool = True) -> Experiment:
    """An Experiment from YAML text; ``file`` names it in errors, ``base_dir`` anchors ``network:``
    (default: the file's folder, or the current one).  ``build``: also compile the network and
    check task, optimizer and sizes (all errors surface now, not mid-training)."""
    data = read_document(text, file, "an experiment", "experiment", FORMAT_VERSION)
    _check_structure(data, file)
    if base_dir is None:
        base_dir = Path(file).parent if not file.startswith("<") else Path.cwd()
    train = data["train"]
    network_path = _resolve_network(data["network"], Path(base_dir), data.value_loc("network"))
    seed = int(train.get("seed", 0))
    runs = data.get("runs")
    seeds = data.get("seeds")
    exp = Experiment(
        name=str(data["experiment"]), file=file, text=text, doc=str(data.get("doc", "")).strip(),
        network=str(data["network"]), network_path=network_path, task=plain(data["task"]),
        optimizer=plain(data["optimizer"]),
        schedule_options={k: train[k] for k in SCHEDULE_KEYS if k in train},
        seed=seed, loss=str(train.get("loss", "task")), engine=data.get("engine"),
        dtype=str(data.get("dtype", "float64")), seeds=(), data=data)
    if seeds is not None and runs is not None and runs != len(seeds):
        raise exp.error(f"`runs: {runs}` but {len(seeds)} seeds are listed", "runs",
                        fix="drop `runs:` (the seeds say how many) or list exactly that many seeds")
    if seeds is None:
        seeds = [seed + i for i in range(runs or 1)]
    exp.seeds = tuple(int(s) for s in seeds)
    method = exp.schedule_options.get("method", "bptt")
    k1, k2 = exp.schedule_options.get("k1"), exp.schedule_options.get("k2")
    if method == "tbptt" and k1 is None:
        raise exp.error("`method: tbptt` needs `k1` (steps between truncation points)", "train", "method",
                        fix="add e.g. `k1: 20` (and `k2: 40` to let the error flow further back)")
    if k1 is not None and k2 is not None and k2 < k1:
        raise exp.error(f"`k2` ({k2}) must be >= `k1` ({k1})", "train", "k2", fix=f"e.g. `k2: {k1}`")
    if method != "tbptt" and (k1 is not None or k2 is not None):
        raise exp.error(f"`k1`/`k2` only apply to `method: tbptt` (method is {method})", "train",
                        "k1" if k1 is not None else "k2", key=True, fix="remove them, or write `method: tbptt`")
    exp.schedule()                         # GR300 for anything the Schedule refuses
    if build:
        exp.build()
    return exp


def load_experiment(path, build: bool = True) -> Experiment:
    """An Experiment from a file (see :func:`loads_experiment`); GR114 when it cannot be read."""
    path = Path(path)
    text = read_text(path, "experiment file", hint="check the path (experiments live in experiments/*.yaml)")
    return loads_experiment(text, str(path), build=build)
