"""The collapsed history compressor trained jointly: automatizer and chunker learn together from the start.

Schmidhuber 1992 ("collapsing the hierarchy", details in TR FKI-148-91):
two recurrent nets.  The automatizer A reads every input; at every step it
is trained to predict its next input and the chunker's state.  The chunker C
receives only the inputs A failed to predict, with a code of their time
step, and is trained to predict its next such input.  Both learn at the same
time, online, from the start: as A gets better, C gets fewer inputs; as C
learns, its state carries what A cannot yet hold across the long lag, and A
learns to reproduce it (distillation), until A alone predicts what only C
could.  :mod:`collapse` instead collapses a hierarchy already trained and
frozen; this module trains the collapsed system itself.

Ours, per batch of B whole sequences x (T, B, I) (one update of each net):

1. A (its current weights) runs over x_0 .. x_{T-2}; the *events* of
   sequence b are the steps A failed to predict by the level-0 criterion
   (``SurpriseCriterion.event_times``: step 0 always) -- (E_b,) times.
2. C's stream for b: those inputs, each followed by the one-hot code of its
   time step (``time_code``): (E_b, I + time_codes).
3. C (its current weights) runs over each stream; its node
   ``chunker_state`` after the last event at or before t (``hold_states``) is
   A's distillation target c_t: (T, B, H), held fixed for this update.
4. A's gradient of ``automatizer_loss`` (next input and c_t;
   ``automatizer_gradient``) and C's of its level loss on s_1 .. s_{E-1}
   from s_0 .. s_{E-2} (``stream_batch``); each net's optimizer updates it
   through ``training_step`` (GR301 on a loss or gradient that is not finite).

A system *describes* a sequence by its first symbol when A's events after
step 0 are all predicted by C (the two nets as a two-level hierarchy; the
top level's events are the first symbol alone) -- or, the collapse complete,
when A alone has no event after step 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import RunError
from ..train.step import training_step
from .collapse import automatizer_gradient, hold_states
from .compressor import time_code
from .level_training import stream_batch
from .surprise import SurpriseCriterion

__all__ = ["JointSystem", "JointBatch", "JointResult", "joint_from_hierarchy", "automatizer_events",
           "chunker_streams", "chunker_targets", "joint_batch", "describe", "train_joint"]


@dataclass
class JointSystem:
    """The two nets of the collapsed system, their weights and what they are trained on.

    ``automatizer`` reads I units and has outputs ``next`` (I) and ``chunker`` (H, the size of
    the chunker's node ``chunker_state``); ``chunker`` reads I + ``time_codes`` and outputs I.
    ``w_next``, ``w_distill``: the weights of A's two loss terms; ``next_kind`` A's next-input
    loss, ``chunker_kind`` C's (``mse``, ``bce`` or ``xent``).
    """

    automatizer: object
    chunker: object
    a_params: dict
    c_params: dict
    a_criterion: SurpriseCriterion
    c_criterion: SurpriseCriterion
    chunker_state: str
    time_codes: int = 0
    w_next: float = 1.0
    w_distill: float = 1.0
    next_kind: str = "mse"
    chunker_kind: str = "mse"

    @property
    def input_size(self) -> int:
        return self.chunker.output_size


def joint_from_hierarchy(spec, seed: int = 0) -> JointSystem:
    """A two-level hierarchy file with ``collapse:`` -> a fresh JointSystem: A = the collapse's
    automatizer, ``net.init(seed)`` (not level 0's weights: both nets start untrained);
    C = level 1's predictor, ``net.init(seed + 1)``; criteria and losses of levels 0 and 1.
    RunError GR133 without a collapse or with other than two levels."""
    if spec.collapse is None or len(spec.levels) != 2:
        raise RunError("GR133", f"joint training needs a hierarchy of two levels with `collapse:`; "
                       f"{spec.file} has {len(spec.levels)} level(s)"
                       f"{'' if spec.collapse is not None else ' and no collapse'}",
                       fix="give the file two levels (level 1 is the chunker) and a `collapse:` section")
    chunker = spec.levels[1].net
    if spec.collapse.chunker_state not in chunker.ir.nodes:
        raise RunError("GR133", f"chunker_state `{spec.collapse.chunker_state}` is not a node of `{chunker.name}`",
                       fix="name one of: " + ", ".join(chunker.ir.nodes))
    return JointSystem(spec.collapse.net, chunker, dict(spec.collapse.net.init(seed)), dict(chunker.init(seed + 1)),
                       spec.levels[0].criterion, spec.levels[1].criterion, spec.collapse.chunker_state,
                       spec.time_codes, spec.collapse.next, spec.collapse.distill, spec.levels[0].loss,
                       spec.levels[1].loss)


def automatizer_events(system: JointSystem, x) -> list[np.ndarray]:
    """x (T, B, I) -> per sequence b the (E_b,) steps A fails to predict (0 first)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(system.automatizer.run(system.a_params, x[:-1]).outputs["next"])      # (T-1, B, I)
    return [system.a_criterion.event_times(y[:, b], x[:, b]) for b in range(x.shape[1])]


def chunker_streams(system: JointSystem, x, times) -> list[np.ndarray]:
    """x (T, B, I), per-sequence event times -> C's input streams, (E_b, I + time_codes) each."""
    return [np.concatenate([x[t, b], time_code(t, system.time_codes)], axis=1) for b, t in enumerate(times)]


def _padded(streams) -> np.ndarray:
    """Streams (n_b, W) -> (max n_b, B, W), zeros after each stream's end (they never reach its steps)."""
    out = np.zeros((max(len(s) for s in streams), len(streams), streams[0].shape[1]))
    for b, s in enumerate(streams):
        out[:len(s), b] = s
    return out


def chunker_targets(system: JointSystem, streams, times, length: int) -> np.ndarray:
    """C's ``chunker_state`` after the last event at or before each step: (length, B, H)."""
    states = np.asarray(system.chunker.run(system.c_params, _padded(streams))[system.chunker_state])
    return np.stack([hold_states(states[:len(t), b], t, length) for b, t in enumerate(times)], axis=1)


@dataclass
class JointBatch:
    """One batch's work: ``times`` per sequence (A's events), ``streams`` (C's inputs),
    ``chunk`` (T, B, H) A's distillation targets, and the gradient functions of
    ``training_step`` (p -> (loss, gradients, None)) for A and for C (None when no stream has a
    second event: C has nothing to predict)."""

    times: list
    streams: list
    chunk: np.ndarray
    a_gradient: object
    c_gradient: object


def joint_batch(system: JointSystem, x) -> JointBatch:
    """Steps 1-4 of the module docstring for x (T, B, I), with the system's current weights."""
    x = np.asarray(x, dtype=float)
    times = automatizer_events(system, x)
    streams = chunker_streams(system, x, times)
    chunk = chunker_targets(system, streams, times, len(x))
    a_gradient = automatizer_gradient(system.automatizer, x, chunk, w_next=system.w_next,
                                      w_distill=system.w_distill, next_kind=system.next_kind)
    cx, target, mask = stream_batch(streams, system.input_size)
    c_gradient = None
    if mask.any():
        net, kind = system.chunker, system.chunker_kind
        c_gradient = lambda p: (*net.value_and_grad(p, cx, target, kind=kind, mask=mask), None)   # noqa: E731
    return JointBatch(times, streams, chunk, a_gradient, c_gradient)


def describe(system: JointSystem, sequences) -> list[tuple[int, int]]:
    """Per (T, I) sequence: (A's events, C's events on A's events): how many inputs A alone
    fails to predict, and how many of those C fails to predict (the top level's events; 1 when
    the sequence is described by its first input)."""
    out = []
    for s in sequences:
        x = np.asarray(s, dtype=float)[:, None, :]
        times = automatizer_events(system, x)[0]
        stream = chunker_streams(system, x, [times])[0]
        if len(stream) == 1:    # one event: nothing for C to predict
            out.append((1, 1))
            continue
        y = np.asarray(system.chunker.run(system.c_params, stream[:-1, None, :]).y)[:, 0]
        out.append((len(times), len(system.c_criterion.event_times(y, stream[:, :system.input_size]))))
    return out


@dataclass
class JointResult:
    """How joint training went.  ``described_at``: sequences seen when A + C first described
    every probe sequence by its first input; ``absorbed_at``: when A alone first did (None:
    not within the budget); ``history``: per test (seen, A's loss, C's loss (None: no update),
    mean events per sequence A passed to C in that batch, describe(probe))."""

    sequences: int
    updates: int
    described_at: int | None
    absorbed_at: int | None
    history: list = field(default_factory=list)


def train_joint(system: JointSystem, sample, a_optimizer, c_optimizer, *, probe, budget: int = 20000,
                batch: int = 16, evaluate_every: int = 320, seed: int = 0, until: str = "absorbed") -> JointResult:
    """Train A and C together on ``sample(rng, batch)`` (equal-length (T, I) sequences) until
    ``until`` holds for every ``probe`` sequence -- ``"described"`` (A + C) or ``"absorbed"``
    (A alone) -- tested every ``evaluate_every`` sequences, or ``budget`` sequences are seen.
    Updates ``system.a_params`` / ``c_params`` in place and returns a :class:`JointResult`."""
    if until not in ("described", "absorbed"):
        raise ValueError(f"until must be 'described' or 'absorbed', got {until!r}")
    rng = np.random.default_rng([seed, 11])
    a_state = a_optimizer.init(system.a_params, names=system.automatizer.trainable)
    c_state = c_optimizer.init(system.c_params, names=system.chunker.trainable)
    seen = a_updates = c_updates = 0
    described = absorbed = None
    history, next_test = [], evaluate_every
    while seen < budget:
        x = np.stack(sample(rng, batch), axis=1)
        work = joint_batch(system, x)
        step = training_step(work.a_gradient, system.a_params, a_state, a_optimizer, a_updates, seen=seen,
                             label="automatizer: ")
        system.a_params, a_state, a_updates = step.params, step.state, a_updates + 1
        c_loss = None
        if work.c_gradient is not None:
            c_step = training_step(work.c_gradient, system.c_params, c_state, c_optimizer, c_updates, seen=seen,
                                   label="chunker: ")
            system.c_params, c_state, c_updates = c_step.params, c_step.state, c_updates + 1
            c_loss = float(c_step.loss)
        seen += batch
        if seen >= next_test:
            next_test += evaluate_every
            counts = describe(system, probe)
            history.append((seen, float(step.loss), c_loss, float(np.mean([len(t) for t in work.times])), counts))
            if described is None and all(c == 1 for _, c in counts):
                described = seen
            if absorbed is None and all(a == 1 for a, _ in counts):
                absorbed = seen
            if (described if until == "described" else absorbed) is not None:
                break
    return JointResult(seen, a_updates, described, absorbed, history)
