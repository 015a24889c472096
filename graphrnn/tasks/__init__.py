"""Benchmark tasks: generators of time-major batches with their papers' success criteria.

    from graphrnn.tasks import make_task
    task = make_task("adding", T=100)
    batch = task.sample(rng, 16)              # batch.x (T, B, 2), batch.target (T, B, 1), batch.mask (T, B)
    loss = net.loss(params, batch.x, batch.target, kind=task.loss, mask=batch.mask)
    verdict = task.success(net, params, rng)  # Evaluation: verdict.solved, verdict.metrics, str(verdict)
    stop = task.monitor()                     # training-history criterion, or None
    ... if stop.update(batch, net.run(params, batch.x).y): ...

One module per family: ``reber`` (embedded Reber grammar, 1997 Exp. 1, and
its continual form, Gers et al. 2000), ``long_lag`` (1997 Exp. 2a-2c),
``adding`` (1997 Exp. 4 and 5), ``temporal_order`` (1997 Exp. 6a/6b),
``xor`` (strongly delayed XOR, 1997 Sec. 6) and ``guessing`` (parity and
latch problems of the random-guessing papers); ``ntm`` (copy, repeat copy,
associative recall and priority sort of the Neural Turing Machine paper,
Graves et al. 2014, Sec. 4) and ``ntm_ngrams`` (its dynamic N-grams, with
the Bayes-optimal predictor).  Each class docstring gives
the source, the exact encoding, the lag, the criterion and what could not be
verified.  ``base`` holds Batch, Evaluation, Task and the monitors.
"""
from __future__ import annotations

import inspect

from ..spec import did_you_mean
from .adding import Adding, Multiplication
from .base import Batch, Criterion, Evaluation, RecentWindow, Task
from .guessing import Latch, Parity
from .history_lag import HistoryLag
from .long_lag import LongLag2a, LongLag2b, LongLag2c
from .ntm import AssociativeRecall, Copy, PrioritySort, RepeatCopy
from .ntm_ngrams import DynamicNGrams
from .reber import ContinualEmbeddedReber, ContinualMonitor, EmbeddedReber, ReberStream
from .temporal_order import TemporalOrder6a, TemporalOrder6b
from .xor import DelayedXOR
from .expressions import TREE_TASKS, BooleanExpressions  # tree tasks: not sequence Tasks, not in TASKS

#: registry: task name -> class
TASKS: dict[str, type] = {cls.name: cls for cls in (
    EmbeddedReber, ContinualEmbeddedReber, LongLag2a, LongLag2b, LongLag2c, Adding, Multiplication,
    TemporalOrder6a, TemporalOrder6b, DelayedXOR, Parity, Latch, HistoryLag)}

TASKS.update({cls.name: cls for cls in (Copy, RepeatCopy, AssociativeRecall, DynamicNGrams, PrioritySort)})


def task_options(name: str) -> dict[str, object]:
    """The options of task ``name`` and their defaults."""
    cls = _lookup(name)
    return {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


#: every task ``make_task`` and experiment files know: the sequence TASKS and the TREE_TASKS
ALL_TASKS: dict[str, type] = {**TASKS, **TREE_TASKS}


def _lookup(name: str) -> type:
    if not isinstance(name, str) or name not in ALL_TASKS:
        raise ValueError(f"unknown task `{name}`{did_you_mean(name, ALL_TASKS)}; tasks: {', '.join(ALL_TASKS)}")
    return ALL_TASKS[name]


def make_task(name: str, **options) -> Task:
    """A task by registry name with keyword options.

    ValueError (with "did you mean") for an unknown name or option, and for a
    bad option value (the message names the option).
    """
    cls = _lookup(name)
    allowed = task_options(name)
    for key in options:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise ValueError(f"task `{name}` has no option `{key}`{hint}; options: "
                             f"{', '.join(allowed) if allowed else '(none)'}")
    return cls(**options)


__all__ = ["TASKS", "ALL_TASKS", "make_task", "task_options", "Task", "Batch", "Evaluation", "Criterion",
           "RecentWindow", "EmbeddedReber", "ContinualEmbeddedReber", "ReberStream", "ContinualMonitor",
           "LongLag2a", "LongLag2b", "LongLag2c", "Adding", "Multiplication", "TemporalOrder6a",
           "TemporalOrder6b", "DelayedXOR", "Parity", "Latch", "HistoryLag"]
__all__ += ["Copy", "RepeatCopy", "AssociativeRecall", "DynamicNGrams", "PrioritySort"]
