"""Plan stage: checked Graph -> :class:`Plan`.  Public entry points: :func:`build_plan`, and
:func:`check_plan` (the plan's invariants, which build_plan checks on every plan it makes)."""
from .check import check_plan
from .ir import Block, Fused, Placement, Plan, Projection, Stage
from .schedule import build_plan

__all__ = ["Block", "Fused", "Placement", "Plan", "Projection", "Stage", "build_plan", "check_plan"]
