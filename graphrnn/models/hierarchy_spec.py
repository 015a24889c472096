"""Hierarchy files: a history compressor as a stack of ordinary predictor specs.

    graphrnn: 1
    hierarchy: lag20
    time_codes: 22                       # levels >= 1 also read the one-hot code of the time step
    levels:
      - {predictor: level0.yaml, surprise: {threshold: 0.3}, loss: mse}
      - {predictor: level1.yaml, surprise: argmax}
    training: {optimizer: {name: adam, lr: 0.01}, batch: 16, max_sequences: 20000,
               evaluate_every: 320, patience: 5, min_improvement: 0.01}
    collapse: {automatizer: automatizer.yaml, chunker_state: h, next: 1.0, distill: 1.0}

The structure is checked against ``hierarchy_schema.json`` with the located
errors of spec and experiment files (GR103 unknown key with a did-you-mean,
GR104 bad value, GR111 version); then every predictor is compiled (its own
errors point into its own file; GR114 when it does not exist), and GR130
reports, at the level's ``predictor:`` value, a predictor whose sizes do
not fit the stack; GR133 an automatizer that does not fit the chunker; GR300
an optimizer ``from_config`` refuses.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path


from ..compiler import load, resolve_spec
from ..errors import Location, SpecError, TrainError
from ..spec.validate import did_you_mean, read_document, read_text, schema_error, strict_validator
from ..spec.yamlmarks import MarkedDict, plain
from .compressor import HistoryCompressor, Level
from .surprise import criterion_from_config

__all__ = ["HierarchySpec", "LevelSpec", "CollapseSpec", "load_hierarchy", "loads_hierarchy",
           "hierarchy_schema"]

FORMAT_VERSION = 1
TRAINING_DEFAULTS = {"optimizer": {"name": "adam", "lr": 0.01}, "batch": 16, "max_sequences": 20000,
                     "evaluate_every": 320, "patience": 5, "min_improvement": 0.01}


@lru_cache(maxsize=1)
def hierarchy_schema() -> dict:
    """The hierarchy file's JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(resources.files(__package__).joinpath("hierarchy_schema.json").read_text())


@lru_cache(maxsize=1)
def _validator():
    return strict_validator(hierarchy_schema())


def _surprise_and_threshold(leaf, path, where, loc):
    if path and path[-1] == "surprise" or leaf.validator in ("anyOf", "const") and "surprise" in path:
        return SpecError("GR104", f"{where}: {leaf.instance!r} is not a surprise criterion", loc=loc,
                         fix="write `surprise: argmax` (one-hot symbols) or `surprise: {threshold: 0.3}` "
                             "(binary vectors; 0 < threshold < 0.5)")
    if path and path[-1] == "threshold":
        # at or above 0.5 an expected unit could round to the wrong bit: compression would lose information
        return SpecError("GR104", f"{where}: {leaf.message}", loc=loc,
                         fix="give a number between 0 and 0.5 (exclusive), e.g. `threshold: 0.3`")
    return None


def _check_structure(doc, file: str) -> None:
    """SpecError GR103 (unknown key) or GR104 (bad value, missing key) for the most relevant violation."""
    error = schema_error(_validator(), doc, file, what="the hierarchy", docs="docs/compressor.md",
                         special=_surprise_and_threshold)
    if error is not None:
        raise error


@dataclass
class LevelSpec:
    """One level of the file: its compiled predictor, criterion, loss and where it was written."""

    net: object
    criterion: object
    loss: str
    path: str
    loc: Location
    optimizer_config: dict | None = None


@dataclass
class CollapseSpec:
    """``collapse:``: the automatizer network, the chunker node it learns to predict, the loss weights."""

    net: object
    chunker_state: str
    next: float
    distill: float
    target: float
    optimizer_config: dict | None = None

    def optimizer(self, default: dict):
        """A fresh optimizer: ``collapse.optimizer`` if given, else ``default`` (training.optimizer)."""
        from ..train.optimizers import from_config
        return from_config(dict(self.optimizer_config if self.optimizer_config is not None else default))


@dataclass
class HierarchySpec:
    """A checked hierarchy file; :meth:`build` gives a :class:`HistoryCompressor` with fresh weights."""

    name: str
    file: str
    doc: str
    levels: list
    time_codes: int
    training: dict
    collapse: CollapseSpec | None = None
    data: MarkedDict = field(default=None, repr=False)

    def build(self, seed: int = 0) -> HistoryCompressor:
        """Level k's parameters are ``net.init(seed + k)``."""
        return HistoryCompressor([Level(ls.net, ls.net.init(seed + k), ls.criterion)
                                  for k, ls in enumerate(self.levels)], self.time_codes)

    def optimizer(self, level: int | None = None):
        """A fresh optimizer: level ``level``'s own ``optimizer:`` if it has one, else ``training.optimizer``."""
        from ..train.optimizers import from_config
        own = None if level is None else self.levels[level].optimizer_config
        return from_config(dict(own if own is not None else self.training["optimizer"]))


def _network(value: str, base: Path, loc: Location, engine: str):
    """Compile a spec named relative to the hierarchy file, or a library spec; GR114 when neither exists."""
    return load(resolve_spec(value, base, loc), engine=engine)


def loads_hierarchy(text: str, file: str = "<string>", base_dir=None, engine: str = "fused") -> HierarchySpec:
    """A HierarchySpec from YAML text; ``base_dir`` anchors the predictor paths (default: the file's folder)."""
    data = read_document(text, file, "a hierarchy", "hierarchy", FORMAT_VERSION)
    _check_structure(data, file)
    base = Path(base_dir) if base_dir is not None else (
        Path(file).parent if not file.startswith("<") else Path.cwd())
    time_codes = int(data.get("time_codes", 0))
    levels = []
    for k, item in enumerate(data["levels"]):
        loc = item.value_loc("predictor")
        net = _network(item["predictor"], base, loc, engine)
        levels.append(LevelSpec(net, criterion_from_config(plain(item["surprise"])),
                                str(item.get("loss", "mse")), str(item["predictor"]), loc,
                                plain(item["optimizer"]) if "optimizer" in item else None))
    size = levels[0].net.output_size
    for k, ls in enumerate(levels):
        want = size + (time_codes if k else 0)
        if ls.net.input_size != want or ls.net.output_size != size:
            reads = "the input" if k == 0 else f"the input ({size}) plus the time code ({time_codes})"
            raise SpecError("GR130", f"level {k}'s predictor `{ls.net.name}` reads {ls.net.input_size} and "
                            f"outputs {ls.net.output_size} units; level {k} reads {reads} = {want} units "
                            f"and predicts the input, {size} units", loc=ls.loc,
                            fix=f"give `{ls.path}` inputs of {want} units and outputs of {size} units"
                            + ("" if k == 0 or time_codes else ", or set `time_codes:`"))
    training = dict(TRAINING_DEFAULTS, **plain(data.get("training", {})))
    spec = HierarchySpec(str(data["hierarchy"]), file, str(data.get("doc", "")).strip(), levels,
                         time_codes, training, None, data)
    for k in [None] + list(range(len(levels))):
        try:
            spec.optimizer(k)
        except ValueError as err:
            if k is None:
                where, what = (data["training"].value_loc("optimizer") if "training" in data else data.loc), \
                    "training.optimizer"
            else:
                where, what = data["levels"][k].value_loc("optimizer"), f"levels[{k}].optimizer"
            raise TrainError("GR300", f"{what}: {err}", loc=where,
                             fix="see graphrnn.train.optimizers.from_config for names and keys") from None
    if "collapse" in data:
        spec.collapse = _collapse(data["collapse"], spec, base, engine)
    return spec


def _collapse(section, spec: HierarchySpec, base: Path, engine: str) -> CollapseSpec:
    """Check ``collapse:`` (GR133): two levels or more; the automatizer reads I and outputs
    ``next`` (I) and ``chunker`` (the chunker state's size), optionally ``target``."""
    loc = section.value_loc("automatizer")
    if len(spec.levels) < 2:
        raise SpecError("GR133", "collapse needs a chunker: the hierarchy has only one level",
                        loc=section.loc, fix="add a second level (the chunker) or remove `collapse:`")
    chunker = spec.levels[1].net
    state = str(section.get("chunker_state", "h"))
    nodes = [n for n in chunker.ir.nodes if n not in chunker.inputs]
    if state not in nodes:
        raise SpecError("GR133", f"chunker_state `{state}` is not a node of the chunker `{chunker.name}`"
                        f"{did_you_mean(state, nodes)}",
                        loc=section.value_loc("chunker_state") if "chunker_state" in section else section.loc,
                        fix="name one of its nodes: " + ", ".join(nodes))
    net = _network(section["automatizer"], base, loc, engine)
    size = spec.levels[0].net.output_size
    want = {"next": size, "chunker": chunker.ir.nodes[state].size}
    have = {name: net.ir.nodes[node].size for name, node in net.outputs.items()}
    extra = set(have) - set(want) - {"target"}
    if net.input_size != size or any(have.get(k) != v for k, v in want.items()) or extra:
        raise SpecError("GR133", f"automatizer `{net.name}` reads {net.input_size} units and outputs "
                        f"{have}; it must read {size} and output next: {size}, chunker: {want['chunker']} "
                        f"(and optionally target)", loc=loc,
                        fix=f"give it `inputs: {{x: {size}}}` and `outputs: {{next: ..., chunker: ...}}` "
                            "of those sizes")
    collapse = CollapseSpec(net, state, float(section.get("next", 1.0)), float(section.get("distill", 1.0)),
                            float(section.get("target", 1.0)),
                            plain(section["optimizer"]) if "optimizer" in section else None)
    try:
        collapse.optimizer(spec.training["optimizer"])
    except ValueError as err:
        raise TrainError("GR300", f"collapse.optimizer: {err}", loc=section.value_loc("optimizer"),
                         fix="see graphrnn.train.optimizers.from_config for names and keys") from None
    return collapse


def load_hierarchy(path, engine: str = "fused") -> HierarchySpec:
    """A HierarchySpec from a file; GR114 when it cannot be read."""
    path = Path(path)
    return loads_hierarchy(read_text(path, "hierarchy file"), str(path), engine=engine)
