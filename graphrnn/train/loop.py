"""The training loop: sample, differentiate, update, judge, checkpoint; resumable exactly.

The update itself is :func:`graphrnn.train.step.training_step`, shared with
the history compressor's training loops.

Determinism is by construction: the batch of update k is drawn from its own
random stream, seeded by (seed, k), and evaluations by (seed, "eval", k), so
a run resumed from a checkpoint at update k continues with exactly the
batches and evaluations an uninterrupted run would have seen.

The history keeps a row for each of the first FIRST_ROWS updates; after
that the training loss is logged as the mean of 10 updates up to
10 * FIRST_ROWS, of 100 up to 100 * FIRST_ROWS, and so on (:func:`loss_window`;
the row's ``loss_updates`` says how many it averages), so that a run of
millions of sequences neither holds nor writes into every checkpoint a row
per sequence.  Every test, every fulfilled training-history criterion and
every checkpoint still closes a row at its own update.  The windows depend on
the update count alone, so a resumed run logs the rows an uninterrupted one
would (an extended one also keeps the row of its first budget's end).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TrainError
from . import methods
from .checkpoint import CHECKPOINT, load_checkpoint, restore_monitor, save_checkpoint
from .history import first_solved_row, solved_words, stop_verdict
from .step import LOSS_MODES, sse_scale, training_step

__all__ = ["TrainingPlan", "TrainResult", "train", "loss_window", "FIRST_ROWS", "CHECKPOINT",
           "load_checkpoint", "save_checkpoint"]

EVAL_STREAM = 1 << 20   # evaluation k draws from (seed, EVAL_STREAM + k): never a training stream
FIRST_ROWS = 10_000     # updates logged one by one; then at most about 9,000 loss rows a decade


@dataclass(frozen=True)
class TrainingPlan:
    """How long and how to train (the learning rate's schedule is the optimizer's).

    ``sequences``: the budget of training sequences; ``batch``: sequences per
    update (1 = online learning); ``method``: bptt | tbptt | rtrl (``k1``,
    ``k2`` for tbptt); ``evaluate_every``: sequences between runs of the
    task's test (0: only at the end); ``checkpoint_every``: sequences
    between checkpoints (0: only at the end); ``stop_when_solved``: stop at
    the first passed test (or fulfilled training-history criterion);
    ``loss``: ``task`` (the task's own loss) or ``sse`` (its gradient scaled
    to the 1997 paper's E, :func:`graphrnn.train.step.sse_scale`; mse tasks).
    """

    sequences: int
    batch: int = 1
    seed: int = 0
    method: str = "bptt"
    k1: int | None = None
    k2: int | None = None
    evaluate_every: int = 1000
    checkpoint_every: int = 0
    stop_when_solved: bool = True
    loss: str = "task"

    def __post_init__(self):
        for key in ("sequences", "batch"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TrainError("GR300", f"`{key}` must be a whole number >= 1, got {value!r}",
                                 fix=f"e.g. `{key}: {1000 if key == 'sequences' else 1}`")
        if self.method not in methods.GRADIENT_METHODS:
            raise TrainError("GR300", f"unknown gradient method `{self.method}`",
                             fix="use " + ", ".join(methods.GRADIENT_METHODS) + " (tbptt with k1, k2)")
        if self.loss not in LOSS_MODES:
            raise TrainError("GR300", f"unknown loss `{self.loss}`", fix="use task or sse")


@dataclass
class TrainResult:
    params: dict
    solved: bool
    sequences: int
    updates: int
    seconds: float
    history: list = field(default_factory=list)   # one dict per logged row (see the module's docstring)
    evaluation: object = None

    def __str__(self) -> str:
        row = first_solved_row(self.history) if self.solved else None
        test = stop_verdict(row, str(self.evaluation) if self.evaluation is not None else "")
        return (f"{solved_words(row)} after {self.sequences} sequences ({self.updates} updates, "
                f"{self.seconds:.1f} s)" + (f"; {test}" if test else ""))


def loss_window(update: int) -> int:
    """How many updates the loss row of ``update`` (counted from 1) averages: 1 up to FIRST_ROWS,
    10 up to 10 * FIRST_ROWS, 100 up to 100 * FIRST_ROWS, ...  A row closes at the multiples."""
    window = 1
    while update > FIRST_ROWS * window:
        window *= 10
    return window


def _loss_grads_outputs(net, params, batch, task, plan):
    """(loss, grads, outputs y or None); y comes free with BPTT, else it is not needed."""
    if plan.method != "bptt":
        options = {"k1": plan.k1, "k2": plan.k2} if plan.method == "tbptt" else {}
        loss, grads = methods.value_and_grad(net, params, batch.x, batch.target, task.loss, batch.mask,
                                             method=plan.method, **options)
        return loss, grads, None
    # the gradients come in parameter order (net.trainable is a set): clipping's sums repeat exactly
    return net.value_grad_and_outputs(params, batch.x, batch.target, task.loss, batch.mask)


def train(net, task, optimizer, plan: TrainingPlan, params=None, run_dir=None, resume: bool = False,
          progress=None) -> TrainResult:
    """Train ``net`` on ``task`` with ``optimizer`` (graphrnn.train.optimizers) as ``plan`` says.

    ``run_dir``: where checkpoints (and, through graphrnn.train.runs, the
    metrics and curve) go; ``resume``: continue from ``run_dir``'s
    checkpoint; ``progress``: a callable(row) called with each row as it joins the history.
    Raises TrainError GR301 when the loss or a gradient is NaN or infinite:
    the update is not applied and the last checkpoint stays as it was;
    GR300 for ``plan.loss == "sse"`` on a task whose loss is not mse.
    """
    if plan.loss == "sse" and task.loss != "mse":
        raise TrainError("GR300", f"`loss: sse` needs a task with a squared-error loss; task "
                         f"`{task.name}` uses `{task.loss}`", fix="train with `loss: task`")
    start_time = time.perf_counter()
    params = dict(net.init(plan.seed) if params is None else params)
    state = optimizer.init(params, names=net.trainable)
    monitor = task.monitor()
    updates, seen, history, evaluation, solved = 0, 0, [], None, False
    if resume:
        params, state, updates, seen, history, monitor_state = load_checkpoint(run_dir, net, state)
        if monitor is not None and monitor_state is not None:
            restore_monitor(Path(run_dir) / CHECKPOINT, monitor, monitor_state)
        # a run checkpointed when solved stays solved: the verdict is in its history
        solved = any(row.get("history_criterion") or (monitor is None and row.get("test_solved"))
                     for row in history)
    next_eval = _next_mark(seen, plan.evaluate_every)
    next_checkpoint = _next_mark(seen, plan.checkpoint_every)
    loss_sum, loss_count = 0.0, 0
    while seen < plan.sequences and not (solved and plan.stop_when_solved):
        batch = task.sample(np.random.default_rng([plan.seed, updates]), min(plan.batch, plan.sequences - seen))
        step = training_step(lambda p: _loss_grads_outputs(net, p, batch, task, plan), params, state,
                             optimizer, updates, seen=seen, scale=sse_scale(batch) if plan.loss == "sse" else 1.0)
        params, state, y = step.params, step.state, step.outputs
        updates, seen = updates + 1, seen + batch.size
        loss_sum, loss_count = loss_sum + float(step.loss), loss_count + 1
        judged, was_solved = {}, solved
        if monitor is not None:
            if y is None:
                y = task.outputs(net, params, batch)
            if monitor.update(batch, y):
                judged["history_criterion"] = 1.0
                solved = True
        if judged or seen >= next_eval or seen >= plan.sequences:
            evaluation = task.success(net, params, np.random.default_rng([plan.seed, EVAL_STREAM + updates]))
            judged.update({f"test_{k}": float(v) for k, v in evaluation.metrics.items()})
            judged["test_solved"] = float(bool(evaluation))
            solved = bool(evaluation) if monitor is None else solved
            next_eval = _next_mark(seen, plan.evaluate_every)
        # a checkpoint at the first solved update, not at every update after it (stop_when_solved: false)
        checkpoint_due = seen >= next_checkpoint or seen >= plan.sequences or (solved and not was_solved)
        if judged or checkpoint_due or updates % loss_window(updates) == 0:
            row = {"update": updates, "sequences": seen, "loss": loss_sum / loss_count}
            if loss_count > 1:
                row["loss_updates"] = loss_count
            row.update(judged)
            history.append(row)
            loss_sum, loss_count = 0.0, 0
            if progress is not None:
                progress(row)
        if checkpoint_due:
            if run_dir is not None:
                save_checkpoint(run_dir, params, state, updates, seen, history,
                                monitor.state_dict() if monitor is not None else None)
            next_checkpoint = _next_mark(seen, plan.checkpoint_every)
        if solved and plan.stop_when_solved:
            break
    if evaluation is None and resume:
        evaluation = _last_evaluation(net, task, params, history, plan.seed)
    return TrainResult(params, solved, seen, updates, time.perf_counter() - start_time, history, evaluation)


def _last_evaluation(net, task, params, history, seed):
    """The last evaluation of a resumed run that made none of its own (killed after its last
    checkpoint): recomputed from the same parameters and the same stream, so its words are those
    the uninterrupted run printed."""
    rows = [row for row in history if "test_solved" in row]
    if not rows:
        return None
    return task.success(net, params, np.random.default_rng([seed, EVAL_STREAM + rows[-1]["update"]]))


def _next_mark(seen: int, every: int) -> int:
    return (seen // every + 1) * every if every else 1 << 62
