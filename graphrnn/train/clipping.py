"""Gradient clipping: elementwise (``ClipValue``), by global norm (``ClipNorm``), or both.

Global-norm clipping follows Pascanu, Mikolov & Bengio 2013, "On the
difficulty of training recurrent neural networks" (ICML 2013), the
norm-clipping pseudo-code: if ‖g‖ ≥ threshold then
g ← threshold · g / ‖g‖, with ‖g‖ the norm of all gradients together.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..errors import ConfigError
from .config_values import _check_keys, _positive


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """sqrt of the sum of squares of every entry of every gradient."""
    return math.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values()))


def clip_by_value(grads: Mapping[str, np.ndarray], value: float) -> dict[str, np.ndarray]:
    """Clip every gradient component to [-value, value] (new arrays)."""
    return {name: np.clip(g, -value, value) for name, g in grads.items()}


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    Pascanu et al. 2013's norm clipping.  A non-finite norm (NaN or inf in the
    gradients) is left alone, so that the training loop sees and reports it.
    """
    norm = global_norm(grads)
    if not math.isfinite(norm) or norm <= max_norm:
        return {name: np.array(g, dtype=float, copy=True) for name, g in grads.items()}
    scale = max_norm / norm
    return {name: g * scale for name, g in grads.items()}


class Clip:
    """A gradient transform applied before the update; ``Clip()`` does nothing."""

    def __call__(self, grads):
        return dict(grads)

    def config(self) -> dict:
        return {}


class ClipValue(Clip):
    """Elementwise clipping to [-value, value] (the NTM paper's (-10, 10))."""

    def __init__(self, value: float):
        self.value = _positive(value, "clip value", "value")

    def __call__(self, grads):
        return clip_by_value(grads, self.value)

    def config(self) -> dict:
        return {"value": self.value}

    def __repr__(self) -> str:
        return f"ClipValue({self.value})"


class ClipNorm(Clip):
    """Global-norm clipping (Pascanu et al. 2013)."""

    def __init__(self, max_norm: float):
        self.max_norm = _positive(max_norm, "clip norm", "norm")

    def __call__(self, grads):
        return clip_by_global_norm(grads, self.max_norm)

    def config(self) -> dict:
        return {"norm": self.max_norm}

    def __repr__(self) -> str:
        return f"ClipNorm({self.max_norm})"


class _Both(Clip):
    """Elementwise clipping, then global-norm clipping."""

    def __init__(self, value: ClipValue, norm: ClipNorm):
        self.value, self.norm = value, norm

    def __call__(self, grads):
        return self.norm(self.value(grads))

    def config(self) -> dict:
        return {**self.value.config(), **self.norm.config()}

    def __repr__(self) -> str:
        return f"{self.value!r} then {self.norm!r}"


CLIP_KEYS = ("value", "norm")


def clip_from_config(config) -> Clip | None:
    """``{value: c}`` (elementwise), ``{norm: c}`` (global norm), or both; None for none.

    Raises ConfigError whose ``path`` starts inside the clip mapping."""
    if config is None:
        return None
    if not isinstance(config, Mapping):
        raise ConfigError(f"`clip` must be a mapping like {{value: 10}} or {{norm: 1.0}}, got {config!r}")
    _check_keys(config, CLIP_KEYS, "clip")
    if not config:
        return None
    value = ClipValue(config["value"]) if "value" in config else None
    norm = ClipNorm(config["norm"]) if "norm" in config else None
    if value and norm:
        return _Both(value, norm)
    return value or norm
