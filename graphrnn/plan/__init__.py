"""Plan stage: checked Graph -> :class:`Plan`.  Public entry point: :func:`build_plan`."""
from .ir import Block, Fused, Placement, Plan, Projection, Stage
from .schedule import build_plan

__all__ = ["Block", "Fused", "Placement", "Plan", "Projection", "Stage", "build_plan"]
