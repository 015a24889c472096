"""Checking the numbers and keys of experiment-file mappings (optimizer, clip, schedule).

Each helper returns the value as a plain float or int, or raises ``ValueError``
naming what was wrong, so that ``from_config`` errors read the same everywhere.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..spec import did_you_mean


def _number(value, what: str) -> float:
    """A real number; YAML 1.1 reads ``1e-4`` as a string, so numeric strings are accepted."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


def _positive(value, what: str) -> float:
    value = _number(value, what)
    if value <= 0:
        raise ValueError(f"{what} must be > 0, got {value}")
    return value


def _non_negative(value, what: str) -> float:
    value = _number(value, what)
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return value


def _fraction(value, what: str) -> float:
    """A decay or momentum factor in [0, 1)."""
    value = _number(value, what)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{what} must be in [0, 1), got {value}")
    return value


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {value!r}")
    return int(value)


def _check_keys(config: Mapping, allowed, where: str) -> None:
    for key in config:
        if key not in allowed:
            raise ValueError(f"unknown key `{key}` in {where}{did_you_mean(str(key), allowed)}; "
                             f"allowed keys: {', '.join(allowed)}")
