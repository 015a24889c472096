"""The one walk of a plan that every engine shares: the order of the work, not the work.

A plan says *what* to compute (plan/ir.py); this module says in which order,
once, for every engine: the autograd unroll, the fused numpy passes forward
and backward, the tree engines (positions are groups of tree rows) and the
source generator of the compiled engine (positions are a loop variable).
An engine supplies the array operations as methods of one object, named
below; :func:`walk_forward` and :func:`walk_backward` call them.

Forward, for each stage in order::

    begin_stage(stage)
    hoist(stage, p)                  for p in stage.hoisted
    finish_all(stage, block)         for every block, if not stage.loop
    -- a loop stage:
    begin_loop(stage)
    for at in positions(stage):      (time steps, tree groups, or a symbol)
        begin_step(stage, at)
        read(p, at)                  for p in stage.delayed
        finish(block, at)            block by block, level by level, each followed by
        then(p, at)                  its delay-0 projections (stage.instant)
        end_step(stage, at)
    end_stage(stage)

Backward is the exact reverse, with ``*_back`` methods: stages last to
first; in a loop stage positions last to first and the step program
reversed (``then_back`` before ``finish_back`` of its block, ``read_back``
last), between ``begin_loop(stage)`` and ``end_loop_back(stage)`` (where engines take the weights'
gradients over all positions at once); a sequence stage's
``finish_all_back``; then ``hoist_back`` for its hoisted projections, last first.
Projections that ``truncate`` carry no gradient to their source, so the
reversed step program leaves them out (their weights still get gradients
in ``end_loop_back``, from the values of the forward pass).

Engines that need no hook (``begin_step``, ``end_step``, ...) inherit the
empty ones of :class:`PlanOps`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .ir import Block, Plan, Projection, Stage

READ, FINISH, THEN = "read", "finish", "then"


@dataclass(frozen=True)
class Instruction:
    """One piece of a loop stage's step: ``what`` is READ (``item`` a delayed Projection),
    FINISH (``item`` a Block) or THEN (``item`` a delay-0 Projection of the block just finished)."""

    what: str
    item: Projection | Block


def step_program(stage: Stage) -> tuple:
    """The instructions of one step of a loop stage, in forward order."""
    after = dict(stage.instant)
    program = [Instruction(READ, p) for p in stage.delayed]
    for level in stage.levels:
        for block in level:
            program.append(Instruction(FINISH, block))
            program += [Instruction(THEN, p) for p in after.get(block.name, ())]
    return tuple(program)


def step_program_back(stage: Stage) -> tuple:
    """The backward step: the forward program reversed, without reads through truncated edges."""
    return tuple(i for i in reversed(step_program(stage))
                 if i.what == FINISH or not i.item.truncate)


def _bind(program: tuple, handlers: dict) -> list:
    return [(handlers[i.what], i.item) for i in program]


class PlanOps:
    """The empty hooks; an engine overrides the operations it performs (see the module docstring)."""

    def begin_stage(self, stage: Stage) -> None:
        pass

    def end_stage(self, stage: Stage) -> None:
        pass

    def begin_step(self, stage: Stage, at) -> None:
        pass

    def end_step(self, stage: Stage, at) -> None:
        pass

    def begin_loop(self, stage: Stage) -> None:
        pass

    def end_loop_back(self, stage: Stage) -> None:
        pass


def walk_forward(plan: Plan, ops) -> None:
    """Run ``ops`` over the plan in forward order."""
    for stage in plan.stages:
        ops.begin_stage(stage)
        for p in stage.hoisted:
            ops.hoist(stage, p)
        if not stage.loop:
            for block in stage.blocks():
                ops.finish_all(stage, block)
        else:
            step = _bind(step_program(stage), {READ: ops.read, FINISH: ops.finish, THEN: ops.then})
            ops.begin_loop(stage)
            for at in ops.positions(stage):
                ops.begin_step(stage, at)
                for operation, item in step:
                    operation(item, at)
                ops.end_step(stage, at)
        ops.end_stage(stage)


def walk_backward(plan: Plan, ops) -> None:
    """Run ``ops``'s ``*_back`` operations over the plan in reverse order."""
    for stage in reversed(plan.stages):
        ops.begin_stage(stage)
        if stage.loop:
            step = _bind(step_program_back(stage),
                         {READ: ops.read_back, FINISH: ops.finish_back, THEN: ops.then_back})
            ops.begin_loop(stage)
            for at in reversed(ops.positions(stage)):
                ops.begin_step(stage, at)
                for operation, item in step:
                    operation(item, at)
                ops.end_step(stage, at)
            ops.end_loop_back(stage)
        else:
            for block in stage.blocks():
                ops.finish_all_back(stage, block)
        for p in reversed(stage.hoisted):
            ops.hoist_back(stage, p)
        ops.end_stage(stage)
