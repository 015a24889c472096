"""Random weight guessing (Schmidhuber & Hochreiter 1996).

Schmidhuber & Hochreiter, "Guessing can outperform many long time lag
algorithms" (IDSIA technical note, 1996), and Hochreiter & Schmidhuber,
"LSTM can solve hard long time lag problems" (NIPS 9, 1996), call a task
*trivial* when random search in weight space solves it quickly: "RS works
as follows: REPEAT randomly initialize the weights and test the resulting
net on a training set UNTIL solution found."  The revised version with
Bengio (2001; people.idsia.ch/~juergen/guessing2001/, sec. "Random guessing
(RG)") spells the procedure out:

    REPEAT randomly initialize the weights UNTIL the resulting net happens
    to classify all training sequences correctly. Then test on a separate
    test set.

with every weight drawn uniformly from [-100, 100], all activations 0 at the
start of each sequence, and "correct sequence classification" meaning an
absolute error at the sequence end below 0.1 (:func:`end_error_below`).
They report the number of trials until success, e.g. the latch problem
(variants I and II) in 6 and 22 trials on average, against the 1600 trials
Bengio et al. (1994) reported for several methods.

:func:`guess` does exactly that on a compiled Network.  A trial draws every
*trainable* parameter (edge weights, biases, learned initial values) afresh
-- uniformly in [-r, r] by default -- keeps the non-trainable ones (fixed
edges, ``trainable: false``) at their ``net.init(seed)`` values, zeroes
masked entries, and asks the task's ``criterion(net, params) -> bool``.  No
gradients are computed: a trial costs what the criterion costs (normally
one ``net.run`` over the training set).

Trials are numbered from 1, and trial k draws from its own random stream,
seeded by (seed, k): the result is the same for the same seed, and
:func:`guess_params` regenerates the weights of any trial without
replaying the ones before it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["GuessResult", "guess", "guess_params", "end_error_below", "INIT_SCHEMES"]

INIT_SCHEMES = ("uniform", "normal", "spec")


@dataclass
class GuessResult:
    """``trials``: how many weight sets were tried (the successful one
    included); ``params``: the first set that met the criterion (a full
    parameter dict), or None; ``solved``: whether one did."""

    trials: int
    params: dict | None
    solved: bool


def _check(r, max_trials, init_scheme) -> None:
    if isinstance(r, bool) or not isinstance(r, (int, float, np.integer, np.floating)) \
            or not math.isfinite(r) or r <= 0:
        raise ValueError(f"guess: r must be a finite number > 0, got {r!r}")
    if max_trials is not None and (isinstance(max_trials, bool)
                                   or not isinstance(max_trials, (int, np.integer)) or max_trials < 1):
        raise ValueError(f"guess: max_trials must be a whole number >= 1, got {max_trials!r}")
    if init_scheme not in INIT_SCHEMES:
        raise ValueError(f"guess: unknown init_scheme {init_scheme!r}; use one of {', '.join(INIT_SCHEMES)}")


def _trainable(net) -> list:
    return [spec for name, spec in net.params.items() if name in net.trainable]


def _draw(net, specs, trial: int, r: float, seed: int, init_scheme: str) -> dict[str, np.ndarray]:
    """The trainable parameters of trial ``trial`` (new arrays, masked entries zero)."""
    if init_scheme == "spec":
        trial_seed = int(np.random.SeedSequence([seed, trial]).generate_state(1)[0])
        values = net.init(trial_seed)   # the spec's own init schemes, already masked
        return {spec.name: values[spec.name] for spec in specs}
    rng = np.random.default_rng([seed, trial])
    sizes = [math.prod(spec.shape) for spec in specs]
    total = sum(sizes)
    flat = rng.uniform(-r, r, total) if init_scheme == "uniform" else rng.normal(0.0, r, total)
    out, start = {}, 0
    for spec, size in zip(specs, sizes):
        value = flat[start:start + size].reshape(spec.shape)
        if spec.mask is not None:
            value = value * np.asarray(spec.mask, dtype=float)
        out[spec.name] = value
        start += size
    return out


def guess_params(net, trial: int, *, r: float = 100.0, seed: int = 0, init_scheme: str = "uniform",
                 fixed: dict | None = None) -> dict[str, np.ndarray]:
    """The full parameter dict that :func:`guess` tries at trial number ``trial`` (1-based)."""
    _check(r, 1, init_scheme)
    if isinstance(trial, bool) or not isinstance(trial, (int, np.integer)) or trial < 1:
        raise ValueError(f"guess_params: trial must be a whole number >= 1, got {trial!r}")
    base = net.init(seed) if fixed is None else fixed
    return {**{name: np.array(value, dtype=float) for name, value in base.items()},
            **_draw(net, _trainable(net), int(trial), float(r), seed, init_scheme)}


def guess(net, criterion, r: float = 100.0, max_trials: int = 100_000, seed: int = 0,
          init_scheme: str = "uniform", fixed: dict | None = None) -> GuessResult:
    """Random weight guessing: draw all trainable weights until ``criterion`` holds.

    ``criterion(net, params) -> bool`` is the task's success test, normally
    one ``net.run`` over the training set (see :func:`end_error_below`); it
    must not modify the arrays it is given.  ``r``: the half-width of the
    uniform interval (the papers' 100), or the standard deviation for
    ``init_scheme="normal"``; ``init_scheme="spec"`` redraws with the spec's
    own init schemes instead and ignores ``r``.  ``fixed``: the values of the
    non-trainable parameters (default ``net.init(seed)``).  Stops at the first
    success or after ``max_trials`` trials.
    """
    _check(r, max_trials, init_scheme)
    if not callable(criterion):
        raise ValueError(f"guess: criterion must be a function (net, params) -> bool, got {criterion!r}")
    base = net.init(seed) if fixed is None else dict(fixed)
    base = {name: np.array(value, dtype=float) for name, value in base.items()}
    for value in base.values():
        value.flags.writeable = False      # shared by every trial: guard it against the criterion
    specs = _trainable(net)
    for trial in range(1, int(max_trials) + 1):
        params = {**base, **_draw(net, specs, trial, float(r), seed, init_scheme)}
        verdict = criterion(net, params)
        if np.ndim(verdict) != 0:
            raise ValueError(f"guess: the criterion must return one bool, got an array of shape "
                             f"{np.shape(verdict)} (reduce it with .all())")
        if bool(verdict):
            return GuessResult(trial, {name: np.array(value) for name, value in params.items()}, True)
    return GuessResult(int(max_trials), None, False)


def end_error_below(x, target, tol: float = 0.1, lengths=None):
    """The papers' success test: every sequence's output at its last step within ``tol`` of its target.

    x (T, B, I) time-major; target (B, O) (or (B,) for one output): the
    wanted output at each sequence's end; ``lengths`` (B,) the true lengths
    when sequences of different lengths are padded to T (default: all T).
    Returns ``criterion(net, params) -> bool`` for :func:`guess`.
    """
    x = np.asarray(x, dtype=float)
    T, B = x.shape[:2]
    target = np.asarray(target, dtype=float).reshape(B, -1)
    last = np.full(B, T - 1) if lengths is None else np.asarray(lengths, dtype=int) - 1
    if last.shape != (B,) or last.min() < 0 or last.max() > T - 1:
        raise ValueError(f"lengths must be {B} numbers in 1..{T}")
    rows = np.arange(B)

    def criterion(net, params) -> bool:
        y = np.asarray(net.run(params, x).y)
        return bool(np.all(np.abs(y[last, rows] - target) < tol))

    return criterion
