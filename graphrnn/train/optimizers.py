"""Optimizers over parameter dicts, gradient clipping and learning-rate schedules.

Every optimizer works on the flat ``dict[str, ndarray]`` that ``Network.init``
returns and on the gradient dict of ``Network.value_and_grad`` (trainable
parameters only)::

    opt = Adam(lr=1e-3, clip=ClipNorm(1.0), schedule=ExponentialDecay(0.999))
    state = opt.init(params, names=net.trainable)
    for step in range(steps):
        loss, grads = net.value_and_grad(params, x, target, "mse")
        params, state = opt.update(params, grads, state, step)

Contract
--------
- ``update`` changes exactly the parameters named in ``grads``; every other
  entry of ``params`` is passed through untouched.  It never writes into the
  caller's arrays (params, grads or state): it returns new dicts holding new
  arrays.
- ``step`` is the number of updates already made: 0 for the first update.
  Schedules and Adam's bias correction (t = step + 1) read it.
- The state is a flat ``dict[str, ndarray]`` (float64), so that it can be
  checkpointed with ``np.savez(path, **state)`` and restored with
  ``dict(np.load(path, allow_pickle=False))``.  Its keys are
  ``"<slot>/<parameter name>"``: ``"v/h->h@1"`` is the momentum velocity of
  the parameter ``h->h@1``.  The slots of each optimizer:

  ==================  =================================================
  SGD                 (none: the state is ``{}``)
  Momentum            ``v`` velocity
  RMSProp             ``ms`` running mean of g²
  RMSPropGraves       ``n`` running mean of g², ``g`` running mean of g,
                      ``delta`` the last step Δ
  Adam                ``m`` first moment, ``v`` second moment (biased)
  ==================  =================================================

  The step counter is not part of the state: the training loop owns it.

Clipping (``clip=``, :mod:`graphrnn.train.clipping`) is applied to the
gradient dict before the update: elementwise clipping first, then
global-norm clipping.  A schedule (``schedule=``,
:mod:`graphrnn.train.schedules`) multiplies the base learning rate by a
factor of ``step``.  Both are importable from here too.

Experiment files describe all of this as one mapping; :func:`from_config`
builds it, e.g.::

    {name: rmsprop_graves, lr: 1e-4, momentum: 0.9,
     clip: {value: 10}, schedule: {exponential: 0.999}}

Unknown keys raise ``ConfigError`` (a ``ValueError``) naming the key and the allowed keys.

Sources
-------
- SGD with momentum: classical momentum in the velocity form
  v ← μv − ηg, w ← w + v; Nesterov's variant w ← w + μv − ηg with the new v
  (Sutskever, Martens, Dahl & Hinton 2013, "On the importance of
  initialization and momentum in deep learning"; Bengio, Boulanger-Lewandowski
  & Pascanu 2013, "Advances in optimizing recurrent networks").
- RMSProp: Tieleman & Hinton 2012, Coursera "Neural Networks for Machine
  Learning", lecture 6.5: divide the gradient by the root of a running mean
  of its square.
- RMSPropGraves: Graves 2013, "Generating sequences with recurrent neural
  networks" (arXiv:1308.0850), eq. 38-41, with ℵ = 0.95, ℶ = 0.9,
  ℷ = 1e-4, ℸ = 1e-4; used by Graves, Wayne & Danihelka 2014, "Neural Turing
  Machines" (arXiv:1410.5401), sec. 4.6: "the RMSProp algorithm was used for
  training in the form described in (Graves, 2013) with momentum of 0.9",
  learning rates 1e-4 or 3e-5 (Tables 1-3; 1e-4 for the NTM copy task), and
  "all gradient components are clipped elementwise to the range (-10, 10)".
  Graves's own equations were checked against secondary sources that quote
  them (Chainer's RMSpropGraves, whose defaults "are the ones in the original
  paper"; MXNet's rmspropalex_update; nnabla's RMSpropGraves); the NTM text
  against the paper's sec. 4.6.  The NTM paper's "momentum 0.9" is ℶ; it
  does not restate ℵ, so ℵ keeps Graves's 0.95.
- Adam: Kingma & Ba 2015, "Adam: a method for stochastic optimization",
  Algorithm 1 (bias-corrected moments; α = 0.001, β1 = 0.9, β2 = 0.999,
  ε = 1e-8 are the paper's suggested defaults).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from functools import lru_cache
from collections.abc import Mapping

import numpy as np

from ..errors import ConfigError
from ..spec import did_you_mean
from .clipping import (Clip, ClipNorm, ClipValue, clip_by_global_norm, clip_by_value, clip_from_config,
                       global_norm)
from .config_values import _check_keys, _fraction, _non_negative, _positive
from .schedules import (Constant, ExponentialDecay, InverseTimeDecay, LRSchedule, StepDecay,
                        schedule_from_config)

__all__ = [
    "SGD", "Momentum", "RMSProp", "RMSPropGraves", "Adam", "Optimizer", "OPTIMIZERS",
    "Clip", "ClipValue", "ClipNorm", "clip_by_value", "clip_by_global_norm", "global_norm",
    "LRSchedule", "Constant", "StepDecay", "ExponentialDecay", "InverseTimeDecay",
    "from_config", "clip_from_config", "schedule_from_config",
]


# -- optimizers ---------------------------------------------------------------------------------------

class Optimizer(ABC):
    """Base class: ``init(params) -> state``, ``update(params, grads, state, step) -> (params, state)``.

    Subclasses name their state ``slots`` and their hyper-parameters
    (``hyper``, the optional keys of their config) and implement ``_step(w, g, slots, lr, t)``
    for one array, returning the new array and the new slot arrays.
    """

    name = ""
    slots: tuple[str, ...] = ()
    hyper: tuple[str, ...] = ()

    def __init__(self, lr: float, *, clip: Clip | None = None, schedule: LRSchedule | None = None):
        self.lr = _positive(lr, "lr")
        self.clip = clip
        self.schedule = schedule
        self._keys: dict[str, list[str]] = {}

    # -- the interface ----------------------------------------------------------------------
    def init(self, params: Mapping[str, np.ndarray], names=None) -> dict[str, np.ndarray]:
        """Zero state for ``names`` (default: every key of ``params``; pass ``net.trainable``)."""
        if names is None:
            names = list(params)
        else:
            wanted = set(names)
            unknown = sorted(wanted - set(params))
            if unknown:
                raise ValueError(f"init: no parameters named {', '.join(unknown[:5])}")
            names = [name for name in params if name in wanted]
        return {f"{slot}/{name}": np.zeros(np.shape(params[name]), dtype=float)
                for slot in self.slots for name in names}

    def learning_rate(self, step: int) -> float:
        """The learning rate of update number ``step`` (0-based)."""
        return self.lr if self.schedule is None else self.schedule(self.lr, step)

    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
               state: Mapping[str, np.ndarray], step: int):
        """(new params, new state) after one update with ``grads``; the inputs are not modified."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"step must be a whole number >= 0 (updates already made), got {step!r}")
        unknown = [name for name in grads if name not in params]
        if unknown:
            raise ValueError(f"gradients for unknown parameters: {', '.join(sorted(unknown)[:5])}")
        if self.clip is not None:
            grads = self.clip(grads)
        lr = self.learning_rate(int(step))
        names = list(grads)
        ws = [_float_array(params[name]) for name in names]
        gs = [_float_array(grads[name]) for name in names]
        for name, w, g in zip(names, ws, gs):
            if g.shape != w.shape:
                raise ValueError(f"gradient of `{name}` has shape {g.shape}, the parameter {w.shape}")
        keys = [self._slot_keys(name) for name in names]
        for key in (k for ks in keys for k in ks):
            if key not in state:
                raise ValueError(f"the optimizer state has no `{key}`; build it with "
                                 f"init(params) over the parameters that get gradients")
        new_params, new_state = dict(params), dict(state)
        if not names:
            return new_params, new_state
        # every rule is elementwise, so it runs over groups of parameters side by side: small arrays
        # concatenated (one call instead of one each), a large one alone (no copy, and its passes
        # stay in cache); the same numbers either way
        for first, last in _groups(tuple(w.size for w in ws)):
            group = range(first, last)
            slots = [_flat([_float_array(state[keys[i][k]]) for i in group]) for k in range(len(self.slots))]
            new_w, new_slots = self._step(_flat(ws[first:last]), _flat(gs[first:last]), slots, lr, int(step) + 1)
            at = 0
            for i in group:
                shape, size = ws[i].shape, ws[i].size
                new_params[names[i]] = new_w[at:at + size].reshape(shape)
                for key, slot in zip(keys[i], new_slots):
                    new_state[key] = slot[at:at + size].reshape(shape)
                at += size
        return new_params, new_state

    def _slot_keys(self, name: str) -> list[str]:
        """The state keys of parameter ``name`` (``<slot>/<name>``), made once per name."""
        keys = self._keys.get(name)
        if keys is None:
            keys = self._keys[name] = [f"{slot}/{name}" for slot in self.slots]
        return keys

    @abstractmethod
    def _step(self, w, g, slots, lr, t):
        """(new w, new slots) for one parameter at update t (1-based)."""

    # -- configuration ------------------------------------------------------------------------
    def config(self) -> dict:
        """The mapping :func:`from_config` turns back into this optimizer."""
        out = {"name": self.name, "lr": self.lr}
        out.update({key: getattr(self, key) for key in self.hyper})
        if self.clip is not None:
            out["clip"] = self.clip.config()
        if self.schedule is not None:
            out["schedule"] = self.schedule.config()
        return out

    @classmethod
    def from_config(cls, config: Mapping) -> "Optimizer":
        """Build from an experiment-file mapping; on a subclass ``name`` may be left out."""
        if cls is not Optimizer and isinstance(config, Mapping) and "name" not in config:
            config = {"name": cls.name, **config}
        opt = from_config(config)
        if cls is not Optimizer and not isinstance(opt, cls):
            raise ConfigError(f"{cls.__name__}.from_config got an optimizer named `{opt.name}`", "name")
        return opt

    def __repr__(self) -> str:
        bits = [f"lr={self.lr}"] + [f"{key}={getattr(self, key)}" for key in self.hyper]
        if self.clip is not None:
            bits.append(f"clip={self.clip!r}")
        if self.schedule is not None:
            bits.append(f"schedule={self.schedule!r}")
        return f"{type(self).__name__}({', '.join(bits)})"


#: the size a group of parameters grows to before :meth:`Optimizer.update` starts the next: larger
#: than this, one concatenated pass costs more than a call per array (measured: rmsprop_graves on
#: 347,656 parameters in 48 arrays 1.76x faster a call per array; on 276 in 99 arrays 3.9x slower)
GROUP_SIZE = 16384


@lru_cache(maxsize=256)
def _groups(sizes: tuple) -> tuple:
    """(first, last) index ranges that cover ``sizes`` in order: consecutive arrays together up to
    :data:`GROUP_SIZE` entries; an array that size or larger alone."""
    groups, first, total = [], 0, 0
    for i, size in enumerate(sizes):
        if total and total + size > GROUP_SIZE:
            groups.append((first, i))
            first, total = i, 0
        total += size
    groups.append((first, len(sizes)))
    return tuple(groups)


def _flat(arrays) -> np.ndarray:
    """One flat array of ``arrays``: a view where there is one, else a concatenation."""
    return arrays[0].reshape(-1) if len(arrays) == 1 else np.concatenate(arrays, axis=None)


def _float_array(value) -> np.ndarray:
    """``value`` as a float64 array, without a call when it already is one."""
    if type(value) is np.ndarray and value.dtype == np.float64:
        return value
    return np.asarray(value, dtype=float)


class SGD(Optimizer):
    """w ← w − η g."""

    name = "sgd"

    def _step(self, w, g, slots, lr, t):
        return w - lr * g, []


class Momentum(Optimizer):
    """Classical momentum v ← μv − ηg, w ← w + v; Nesterov: w ← w + μv − ηg (with the new v)."""

    name = "momentum"
    slots = ("v",)
    hyper = ("momentum", "nesterov")

    def __init__(self, lr: float, momentum: float = 0.9, nesterov: bool = False, **options):
        super().__init__(lr, **options)
        self.momentum = _fraction(momentum, "momentum")
        if not isinstance(nesterov, bool):
            raise ConfigError(f"nesterov must be true or false, got {nesterov!r}", "nesterov")
        self.nesterov = nesterov

    def _step(self, w, g, slots, lr, t):
        v = self.momentum * slots[0] - lr * g
        step = self.momentum * v - lr * g if self.nesterov else v
        return w + step, [v]


class RMSProp(Optimizer):
    """Tieleman & Hinton 2012: ms ← ρ ms + (1 − ρ) g²,  w ← w − η g / (sqrt(ms) + ε)."""

    name = "rmsprop"
    slots = ("ms",)
    hyper = ("decay", "eps")

    def __init__(self, lr: float, decay: float = 0.9, eps: float = 1e-8, **options):
        super().__init__(lr, **options)
        self.decay = _fraction(decay, "decay")
        self.eps = _non_negative(eps, "eps")

    def _step(self, w, g, slots, lr, t):
        ms = self.decay * slots[0] + (1.0 - self.decay) * g * g
        return w - lr * g / (np.sqrt(ms) + self.eps), [ms]


class RMSPropGraves(Optimizer):
    """Graves 2013, eq. 38-41 (the RMSProp of the NTM paper)::

        n ← ℵ n + (1 − ℵ) g²                     (38)
        ḡ ← ℵ ḡ + (1 − ℵ) g                      (39)
        Δ ← ℶ Δ − ℷ g / sqrt(n − ḡ² + ℸ)         (40)
        w ← w + Δ                                (41)

    with ℵ = ``decay`` (0.95), ℶ = ``momentum`` (0.9), ℷ = ``lr`` (1e-4 in
    both papers) and ℸ = ``eps`` (1e-4).  n − ḡ² (a running variance) is
    never negative in exact arithmetic; it is floored at 0 against rounding.
    """

    name = "rmsprop_graves"
    slots = ("n", "g", "delta")
    hyper = ("decay", "momentum", "eps")

    def __init__(self, lr: float, decay: float = 0.95, momentum: float = 0.9, eps: float = 1e-4, **options):
        super().__init__(lr, **options)
        self.decay = _fraction(decay, "decay")
        self.momentum = _fraction(momentum, "momentum")
        self.eps = _non_negative(eps, "eps")

    def _step(self, w, g, slots, lr, t):
        n, mean, delta = slots
        n = self.decay * n + (1.0 - self.decay) * g * g
        mean = self.decay * mean + (1.0 - self.decay) * g
        delta = self.momentum * delta - lr * g / np.sqrt(np.maximum(n - mean * mean, 0.0) + self.eps)
        return w + delta, [n, mean, delta]


class Adam(Optimizer):
    """Kingma & Ba 2015, Algorithm 1, with t = step + 1::

        m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1^t),      v̂ = v / (1 − β2^t)
        w ← w − α m̂ / (sqrt(v̂) + ε)
    """

    name = "adam"
    slots = ("m", "v")
    hyper = ("b1", "b2", "eps")

    def __init__(self, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, **options):
        super().__init__(lr, **options)
        self.b1 = _fraction(b1, "b1")
        self.b2 = _fraction(b2, "b2")
        self.eps = _non_negative(eps, "eps")

    def _step(self, w, g, slots, lr, t):
        m = self.b1 * slots[0] + (1.0 - self.b1) * g
        v = self.b2 * slots[1] + (1.0 - self.b2) * g * g
        m_hat = m / (1.0 - self.b1 ** t)
        v_hat = v / (1.0 - self.b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + self.eps), [m, v]


OPTIMIZERS = {cls.name: cls for cls in (SGD, Momentum, RMSProp, RMSPropGraves, Adam)}
COMMON_KEYS = ("name", "lr", "clip", "schedule")


def from_config(config: Mapping) -> Optimizer:
    """An optimizer from an experiment-file mapping.

    ``name`` is one of sgd, momentum, rmsprop, rmsprop_graves, adam; ``lr``
    is required; the optimizer's own keys (momentum, nesterov, decay, eps,
    b1, b2) are optional; ``clip`` and ``schedule`` as in
    :func:`clip_from_config` and :func:`schedule_from_config`.  Numbers may be
    given as strings (YAML 1.1 reads ``1e-4`` as one).  Raises ConfigError (a
    ``ValueError``) naming an unknown key and the allowed ones, with ``path``
    the keys down to the offending one (``("clip", "value")``).
    """
    if isinstance(config, str):
        config = {"name": config}
    if not isinstance(config, Mapping):
        raise ConfigError(f"an optimizer is a mapping like {{name: adam, lr: 1e-3}}, got {config!r}")
    name = config.get("name")
    if name is None:
        raise ConfigError(f"the optimizer needs a `name`: one of {', '.join(OPTIMIZERS)}")
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer `{name}`{did_you_mean(str(name), OPTIMIZERS)}; "
                          f"allowed: {', '.join(OPTIMIZERS)}", "name")
    cls = OPTIMIZERS[name]
    allowed = COMMON_KEYS + tuple(cls.hyper)
    _check_keys(config, allowed, f"optimizer `{name}`")
    if "lr" not in config:
        raise ConfigError(f"optimizer `{name}` needs `lr` (the learning rate)")
    options = {key: config[key] for key in cls.hyper if key in config}
    parts = {}
    for key, build in (("clip", clip_from_config), ("schedule", schedule_from_config)):
        try:
            parts[key] = build(config.get(key))
        except ConfigError as err:
            raise err.within(key) from None
    return cls(config["lr"], **parts, **options)
