"""Learning-rate schedules: a factor of the base learning rate at each step.

(How long training runs and how is the loop's :class:`~graphrnn.train.loop.TrainingPlan`.)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from ..errors import ConfigError
from .config_values import _check_keys, _non_negative, _positive, _whole


class LRSchedule(ABC):
    """Maps (base lr, step) to the lr of that step; ``step`` counts updates already made."""

    @abstractmethod
    def factor(self, step: int) -> float:
        """The multiplier of the base learning rate at ``step``."""

    def __call__(self, lr: float, step: int) -> float:
        return lr * self.factor(step)

    @abstractmethod
    def config(self):
        """The mapping ``schedule_from_config`` rebuilds this schedule from."""


class Constant(LRSchedule):
    """lr at every step."""

    def factor(self, step: int) -> float:
        return 1.0

    def config(self):
        return "constant"

    def __repr__(self) -> str:
        return "Constant()"


class StepDecay(LRSchedule):
    """lr · factor ** (step // every): multiply by ``factor`` after every ``every`` updates."""

    def __init__(self, factor: float, every: int):
        self.decay = _positive(factor, "step decay factor", "factor")
        self.every = _whole(every, "step decay `every`", "every")

    def factor(self, step: int) -> float:
        return self.decay ** (step // self.every)

    def config(self):
        return {"step": {"factor": self.decay, "every": self.every}}

    def __repr__(self) -> str:
        return f"StepDecay(factor={self.decay}, every={self.every})"


class ExponentialDecay(LRSchedule):
    """lr · rate ** step."""

    def __init__(self, rate: float):
        self.rate = _positive(rate, "exponential decay rate", "exponential")

    def factor(self, step: int) -> float:
        return self.rate ** step

    def config(self):
        return {"exponential": self.rate}

    def __repr__(self) -> str:
        return f"ExponentialDecay({self.rate})"


class InverseTimeDecay(LRSchedule):
    """lr / (1 + k · step)."""

    def __init__(self, k: float):
        self.k = _non_negative(k, "inverse-time decay k", "inverse_time")

    def factor(self, step: int) -> float:
        return 1.0 / (1.0 + self.k * step)

    def config(self):
        return {"inverse_time": self.k}

    def __repr__(self) -> str:
        return f"InverseTimeDecay({self.k})"


SCHEDULE_KEYS = ("constant", "step", "exponential", "inverse_time")
STEP_KEYS = ("factor", "every")


def schedule_from_config(config) -> LRSchedule | None:
    """``constant``, ``{step: {factor: f, every: n}}``, ``{exponential: rate}`` or ``{inverse_time: k}``.

    Raises ConfigError whose ``path`` starts inside the schedule mapping."""
    if config is None or config == "constant":
        return None
    if isinstance(config, str):
        raise ConfigError(f"unknown schedule `{config}`; allowed: constant, or a mapping with one of the keys "
                          f"{', '.join(SCHEDULE_KEYS)}")
    if not isinstance(config, Mapping):
        raise ConfigError(f"`schedule` must be `constant` or a mapping like {{exponential: 0.999}}, got {config!r}")
    _check_keys(config, SCHEDULE_KEYS, "schedule")
    if len(config) != 1:
        raise ConfigError(f"`schedule` takes exactly one of the keys {', '.join(SCHEDULE_KEYS)}, got {len(config)}")
    (kind, value), = config.items()
    if kind == "constant":
        if value not in (None, True):
            raise ConfigError(f"`schedule: {{constant: ...}}` takes no value, got {value!r}", kind)
        return None
    if kind == "step":
        if not isinstance(value, Mapping):
            raise ConfigError(f"`schedule: {{step: ...}}` needs a mapping like {{factor: 0.5, every: 1000}}, "
                              f"got {value!r}", kind)
        missing = [key for key in STEP_KEYS if key not in value]
        try:
            _check_keys(value, STEP_KEYS, "schedule.step")
            if missing:
                raise ConfigError(f"`schedule: {{step: ...}}` is missing {', '.join(missing)}; it needs "
                                  "{factor: f, every: n}")
            return StepDecay(value["factor"], value["every"])
        except ConfigError as err:
            raise err.within(kind) from None
    if kind == "exponential":
        return ExponentialDecay(value)
    return InverseTimeDecay(value)
