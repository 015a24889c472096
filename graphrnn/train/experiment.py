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
reported as located ``TrainError("GR300")``: the checkers raise
:class:`~graphrnn.errors.ConfigError` carrying the offending key, and the
error points at that key (or its value) in the file.

:func:`load_experiment` does all of that and compiles the network once;
:meth:`Experiment.build` hands out the (network, task, optimizer) triple
the training loop needs and :meth:`Experiment.plan` the TrainingPlan of one
seed.  Running it, with a run directory, metrics and a learning curve, is
:mod:`graphrnn.train.runs`; several seeds, :mod:`graphrnn.train.trials`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path


from ..compiler import load, resolve_spec
from ..errors import ConfigError, GraphRNNError, Location, TrainError
from ..spec.validate import did_you_mean, read_document, read_text, schema_error, strict_validator
from ..spec.yamlmarks import MarkedDict, plain
from .loop import TrainingPlan

__all__ = ["Experiment", "Setup", "load_experiment", "loads_experiment", "experiment_schema"]

FORMAT_VERSION = 1
SCHEMA_FILE = "experiment_schema.json"
#: the ``train:`` keys a TrainingPlan takes (``seed`` is the trial's)
PLAN_KEYS = ("sequences", "batch", "method", "k1", "k2", "evaluate_every", "checkpoint_every",
             "stop_when_solved", "loss")


@lru_cache(maxsize=1)
def experiment_schema() -> dict:
    """The experiment file's JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text())


@lru_cache(maxsize=1)
def _validator():
    return strict_validator(experiment_schema())


# -- the structure: JSON Schema, reported like a spec ----------------------------------------
FIELD_HINTS = {
    "graphrnn": "1",
    "experiment": "a name of letters, digits, _, - and . (it names the run directories)",
    "network": "a spec file relative to the experiment file, or a library spec name (`graphrnn show NAME`)",
    "engine": "fused | compiled | autograd | fused_tree | autograd_tree (default: compiled where it can run the network, else fused, autograd or, for trees, fused_tree)",
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

    ``task``/``optimizer`` are the plain mappings of the file; ``plan_options`` the
    ``train:`` keys the TrainingPlan takes; ``seeds`` one seed per trial; ``network_path`` the
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
    plan_options: dict
    seed: int
    engine: str | None      # None: compiled where it can run the network, else the default engine
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

    def config_error(self, err: Exception, section: str, message: str, fix: str) -> TrainError:
        """GR300 for an error from checking the mapping ``section`` (``"task"``): at the key a
        ConfigError names (at the key itself when it is unknown), as far down as the file
        holds it; at the mapping for other errors."""
        path, node = (), self.data[section]
        for step in err.path if isinstance(err, ConfigError) else ():
            if not isinstance(node, MarkedDict) or step not in node:
                break
            path, node = path + (step,), node[step]
        unknown = isinstance(err, ConfigError) and err.unknown and path == err.path
        return self.error(message, section, *path, key=unknown, fix=fix)

    @property
    def loss(self) -> str:
        """``train.loss``: ``task`` or ``sse`` (see TrainingPlan)."""
        return self.plan_options.get("loss", "task")

    # -- what it builds ------------------------------------------------------------------------
    def plan(self, seed: int | None = None, sequences: int | None = None) -> TrainingPlan:
        """The TrainingPlan of one trial (``seed`` default: ``train.seed``; ``sequences`` overrides the budget)."""
        options = dict(self.plan_options)
        if sequences is not None:
            options["sequences"] = sequences
        try:
            return TrainingPlan(seed=self.seed if seed is None else int(seed), **options)
        except GraphRNNError as err:
            raise TrainError("GR300", err.message, loc=self.loc("train"), fix=err.fix) from None

    def with_seeds(self, seeds) -> "Experiment":
        """The same experiment with other trial seeds."""
        return replace(self, seeds=tuple(int(s) for s in seeds))

    def build(self, shared: dict | None = None) -> Setup:
        """(net, task, optimizer), built once; raises the located errors of the module docstring.

        ``shared``: a dict the caller keeps across experiments that differ in a few values (a
        sweep's grid points), so each distinct task, optimizer and network is built once and
        only checked against the others after that (a built task generates its data sets, a
        network compiles: most of a check's time)."""
        if self._setup is None:
            task = _once(shared, ("task", repr(self.task), self.loss), self.make_task)
            optimizer = _once(shared, ("optimizer", repr(self.optimizer)), self.make_optimizer)
            net = _once(shared, ("network", self.network_path, self.engine, self.dtype), self.load_network)
            if (net.input_size, net.output_size) != (task.input_size, task.output_size):
                raise self.error(
                    f"network `{net.name}` has {net.input_size} inputs and {net.output_size} outputs; "
                    f"task `{self.task['name']}` needs {task.input_size} inputs and {task.output_size} "
                    f"outputs", "network",
                    fix=f"use a network whose `inputs:` add up to {task.input_size} and whose "
                        f"`outputs:` add up to {task.output_size} (now {self.network_path}), or another task")
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
            key = err.key if isinstance(err, ConfigError) and err.key in options else None
            raise self.config_error(err, "task", f"task `{name}`: {err}",
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
            raise self.config_error(err, "optimizer", f"optimizer: {err}",
                                    fix="see the optimizers and their keys in docs/training.md") from None

    def load_network(self):
        """The experiment's network on its ``engine:``.  Without one, on the compiled engine where
        it can run the network (training calls it thousands of times, so compiling it pays: see
        runtime/engine.py), else on the default engine."""
        net = load(self.network_path, engine=self.engine, dtype=self.dtype)
        if self.engine is None:
            try:
                return net.with_engine("compiled")
            except GraphRNNError as err:
                if err.code not in ENGINE_REFUSALS:
                    raise
        return net


def _once(shared: dict | None, key: tuple, make):
    """``make()``, or what it returned for ``key`` before (only what built without an error is kept)."""
    if shared is None:
        return make()
    if key not in shared:
        shared[key] = make()
    return shared[key]


#: the errors of an engine that cannot run a network: no kernel or rule (GR115), numba missing (GR116),
#: a tree network (GR124)
ENGINE_REFUSALS = ("GR115", "GR116", "GR124")


# -- loading -----------------------------------------------------------------------------------
def loads_experiment(text: str, file: str = "<string>", base_dir=None, build: bool = True,
                     shared: dict | None = None) -> Experiment:
    """An Experiment from YAML text; ``file`` names it in errors, ``base_dir`` anchors ``network:``
    (default: the file's folder, or the current one).  ``build``: also compile the network and
    check task, optimizer and sizes (all errors surface now, not mid-training); ``shared``: see
    :meth:`Experiment.build`."""
    data = read_document(text, file, "an experiment", "experiment", FORMAT_VERSION)
    _check_structure(data, file)
    if base_dir is None:
        base_dir = Path(file).parent if not file.startswith("<") else Path.cwd()
    train = data["train"]
    network_path = resolve_spec(data["network"], Path(base_dir), data.value_loc("network"))
    seed = int(train.get("seed", 0))
    runs = data.get("runs")
    seeds = data.get("seeds")
    exp = Experiment(
        name=str(data["experiment"]), file=file, text=text, doc=str(data.get("doc", "")).strip(),
        network=str(data["network"]), network_path=network_path, task=plain(data["task"]),
        optimizer=plain(data["optimizer"]), plan_options={k: train[k] for k in PLAN_KEYS if k in train},
        seed=seed, engine=data.get("engine"),
        dtype=str(data.get("dtype", "float64")), seeds=(), data=data)
    if seeds is not None and runs is not None and runs != len(seeds):
        raise exp.error(f"`runs: {runs}` but {len(seeds)} seeds are listed", "runs",
                        fix="drop `runs:` (the seeds say how many) or list exactly that many seeds")
    if seeds is None:
        seeds = [seed + i for i in range(runs or 1)]
    exp.seeds = tuple(int(s) for s in seeds)
    method = exp.plan_options.get("method", "bptt")
    k1, k2 = exp.plan_options.get("k1"), exp.plan_options.get("k2")
    if method == "tbptt" and k1 is None:
        raise exp.error("`method: tbptt` needs `k1` (steps between truncation points)", "train", "method",
                        fix="add e.g. `k1: 20` (and `k2: 40` to let the error flow further back)")
    if k1 is not None and k2 is not None and k2 < k1:
        raise exp.error(f"`k2` ({k2}) must be >= `k1` ({k1})", "train", "k2", fix=f"e.g. `k2: {k1}`")
    if method != "tbptt" and (k1 is not None or k2 is not None):
        raise exp.error(f"`k1`/`k2` only apply to `method: tbptt` (method is {method})", "train",
                        "k1" if k1 is not None else "k2", key=True, fix="remove them, or write `method: tbptt`")
    exp.plan()                             # GR300 for anything the TrainingPlan refuses
    if build:
        exp.build(shared)
    return exp


def load_experiment(path, build: bool = True) -> Experiment:
    """An Experiment from a file (see :func:`loads_experiment`); GR114 when it cannot be read."""
    path = Path(path)
    text = read_text(path, "experiment file", hint="check the path (experiments live in experiments/*.yaml)")
    return loads_experiment(text, str(path), build=build)
