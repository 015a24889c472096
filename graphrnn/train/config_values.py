"""Checking the numbers and keys of experiment-file mappings (optimizer, clip, schedule).

Each helper returns the value as a plain float or int, or raises
:class:`~graphrnn.errors.ConfigError` (a ``ValueError``) naming what was wrong
and carrying the offending ``key``, so that ``from_config`` errors read the
same everywhere and the file readers can point at the key.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..errors import ConfigError
from ..spec import did_you_mean


def _number(value, what: str, key: str) -> float:
    """A real number; YAML 1.1 reads ``1e-4`` as a string, so numeric strings are accepted."""
    if isinstance(value, bool):
        raise ConfigError(f"{what} must be a number, got {value!r}", key)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{what} must be a number, got {value!r}", key) from None
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{what} must be a number, got {value!r}", key)
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{what} must be finite, got {value!r}", key)
    return value


def _positive(value, what: str, key: str | None = None) -> float:
    """``what`` names the value in the message; ``key`` (default ``what``) is the key it was given under."""
    key = what if key is None else key
    value = _number(value, what, key)
    if value <= 0:
        raise ConfigError(f"{what} must be > 0, got {value}", key)
    return value


def _non_negative(value, what: str, key: str | None = None) -> float:
    key = what if key is None else key
    value = _number(value, what, key)
    if value < 0:
        raise ConfigError(f"{what} must be >= 0, got {value}", key)
    return value


def _fraction(value, what: str) -> float:
    """A decay or momentum factor in [0, 1), given under the key ``what``."""
    value = _number(value, what, what)
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{what} must be in [0, 1), got {value}", what)
    return value


def _whole(value, what: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{what} must be a whole number >= 1, got {value!r}", key)
    return int(value)


def _check_keys(config: Mapping, allowed, where: str) -> None:
    for key in config:
        if key not in allowed:
            raise ConfigError(f"unknown key `{key}` in {where}{did_you_mean(str(key), allowed)}; "
                              f"allowed keys: {', '.join(allowed)}", key, unknown=True)
