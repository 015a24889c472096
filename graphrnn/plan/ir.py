"""The plan: a small explicit IR of blocks, stages and fused projections.

A :class:`Plan` is what the runtime executes.  Records are frozen and print
as readable text (``graphrnn show SPEC --plan``).  Vocabulary:

- a *block* is a group of nodes evaluated as one vector op (same op,
  activation, factor count and schedule level); its value is (T, B, width)
  over a sequence or (B, width) at one step;
- a block's *slot space* holds its pre-activation contributions, ``factors``
  slots of ``width`` columns laid out factor-major (slot k of all members,
  then slot k+1); a node kind whose ports have their own sizes (the NTM
  memory) is a block of its own whose slot space is its ports side by side;
- a *projection* is one matrix product ``source @ W`` whose columns are
  split among destination blocks' slot spaces (all edges from one source
  block with one delay fused);
- a *stage* is either a *sequence* stage (no recurrence: every block is
  computed for all T positions at once) or a *loop* stage (the nodes of
  recurrent components, stepped through time); projections into a stage
  from earlier stages are *hoisted* (computed for all T before the stage).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..graph.ir import Link, natural_key

INPUT_BLOCK = "input"


@dataclass(frozen=True)
class Member:
    """Node ``node`` occupies columns [start, stop) of its block's value."""

    node: str
    start: int
    stop: int


@dataclass(frozen=True)
class Block:
    name: str
    members: tuple
    op: str
    activation: str
    factors: int
    width: int
    level: int
    bias: str | None       # the name of the fused bias vector, or None
    initial: str            # the name of the fused initial-value vector
    ports: tuple = ()       # ((port, start, stop), ...): a one-node block whose ports have own sizes
    options: tuple = ()     # the node's kind options (a one-node block of a kind that has them)
    state_arrays: tuple = ()  # ((suffix, fused array name), ...): learned initial state of a stateful kind

    @property
    def slot_width(self) -> int:
        return self.ports[-1][2] if self.ports else self.width * self.factors

    def __str__(self) -> str:
        names = ", ".join(m.node for m in self.members[:6])
        if len(self.members) > 6:
            names += f", ... ({len(self.members)} nodes)"
        factors = f" x{self.factors} factors" if self.factors > 1 else ""
        if self.ports:
            factors = " <- " + ", ".join(f"{p}[{b - a}]" for p, a, b in self.ports)
        return f"{self.name} = {self.op}/{self.activation}[{self.width}{factors}] ({names})"


@dataclass(frozen=True)
class Target:
    """Columns [start, stop) of a projection's output go to ``block``'s whole slot space."""

    block: str
    start: int
    stop: int


@dataclass(frozen=True)
class Run:
    """Source columns [src, src+n) added to columns [dst, dst+n) of ``block``'s slot space.

    ``scale`` is the start of the run's n scales in the projection's fused
    scale vector, or None for a plain copy (identity, broadcast).  A
    ``broadcast`` run reads the single source column ``src`` into all n.
    """

    block: str
    src: int
    dst: int
    n: int
    scale: int | None
    broadcast: bool = False

    def __str__(self) -> str:
        src = f"[{self.src}]" if self.broadcast else f"[{self.src}:{self.src + self.n}]"
        scale = "" if self.scale is None else f"*s[{self.scale}:{self.scale + self.n}]"
        return f"{self.block}[{self.dst}:{self.dst + self.n}] += src{src}{scale}"


@dataclass(frozen=True)
class Projection:
    """``source`` (read ``delay`` steps back) into its targets' slot spaces.

    A matmul projection (``runs is None``) computes ``source @ W`` once and
    splits the columns among ``targets``.  An elementwise projection
    (identity, diagonal, broadcast, scalar/vector fixed edges) is a list of
    :class:`Run` slices, each merged from as many edges as are contiguous in
    both source and destination; ``weight`` then indexes its scale vector.
    """

    source: str
    delay: int
    truncate: bool
    weight: str             # the name of its fused array (a matrix, or a scale vector)
    targets: tuple
    edges: tuple            # labels of the fused edges, for show and errors
    runs: tuple | None = None
    link: Link | None = None  # trees: read the source at a child, pooled over the children, or at the parent

    def __str__(self) -> str:
        src = self.source + (f"@{self.delay}" if self.delay else "")
        if self.link is not None:
            src += f"@{self.link}"
        if self.truncate:
            src = f"stop_gradient({src})"
        dst = ", ".join(t.block for t in self.targets)
        if self.runs is None:
            return f"{src} @ W[{self.weight}] -> {dst}    # {len(self.edges)} edge(s)"
        shown = "; ".join(map(str, self.runs[:3])) + ("; ..." if len(self.runs) > 3 else "")
        return (f"{src} elementwise -> {dst}: {shown}    # {len(self.edges)} edge(s) "
                f"in {len(self.runs)} slice(s), scales W[{self.weight}]")


@dataclass(frozen=True)
class Stage:
    """Blocks computed together; ``loop`` stages step through time.

    ``levels`` lists the blocks in evaluation order within a step;
    ``hoisted`` projections come from earlier stages; ``delayed`` read this
    stage's own blocks at t - d (d >= 1), or on trees at the children, at the
    start of a step; ``instant``
    maps a block name to the delay-0 projections run right after it.
    """

    index: int
    loop: bool
    levels: tuple
    hoisted: tuple
    delayed: tuple
    instant: tuple  # ((block_name, (Projection, ...)), ...)
    over: str = "sequence"  # or "tree": positions are tree nodes, a loop steps through levels

    def blocks(self):
        return [b for level in self.levels for b in level]

    def __str__(self) -> str:
        if self.over == "tree":
            kind = "loop over tree levels" if self.loop else "all tree nodes at once"
        else:
            kind = "loop over t" if self.loop else "all t at once"
        lines = [f"stage {self.index} ({kind}):"]
        lines += [f"  hoisted  {p}" for p in self.hoisted]
        lines += [f"  step     {p}" for p in self.delayed]
        after = dict(self.instant)
        for depth, level in enumerate(self.levels):
            for block in level:
                lines.append(f"  level {depth}  {block}")
                lines += [f"    then   {p}" for p in after.get(block.name, ())]
        return "\n".join(lines)


@dataclass(frozen=True)
class Placement:
    """Where one parameter (or constant) lands in a fused array.

    ``how``: ``dense`` (a matrix into rows x cols), ``diagonal`` (a vector on
    the diagonal of rows x cols), ``scaled_identity`` (a scalar times the
    identity), ``vector`` (a vector into cols of a 1-D array), ``scalar``
    (one number into cols).  ``param is None`` means ``value`` is a constant.
    """

    param: str | None
    how: str
    rows: tuple            # (start, stop) or () for 1-D arrays
    cols: tuple            # (start, stop)
    mask: object = None
    value: object = None


@dataclass(frozen=True)
class Fused:
    name: str
    shape: tuple
    placements: tuple

    def __str__(self) -> str:
        params = sorted({p.param for p in self.placements if p.param}, key=natural_key)
        shown = ", ".join(params[:4]) + (f", ... ({len(params)} parameters)" if len(params) > 4 else "")
        return f"{self.name}{list(self.shape)} <- {shown or 'constants'}"


@dataclass(frozen=True)
class Plan:
    """Everything the runtime needs; see the module docstring for the terms."""

    inputs: tuple           # (Member, ...) input ports in the input block
    input_width: int
    blocks: dict            # name -> Block
    stages: tuple
    fused: tuple            # (Fused, ...), named by projections and blocks
    node_block: dict        # node name -> (block name, Member)
    outputs: dict           # output name -> node name
    lookback: dict = None   # block (or "input") -> the largest delay anything reads it with

    @cached_property
    def array_names(self) -> tuple:
        """The fused arrays' names, in the order of ``fused`` (and of an engine's array list)."""
        return tuple(f.name for f in self.fused)

    @cached_property
    def fused_by_name(self) -> dict:
        """name -> the Fused recipe of that name."""
        return {f.name: f for f in self.fused}

    def named(self, arrays) -> dict:
        """name -> array from the fused arrays in plan order (a dict is returned as it is)."""
        return arrays if isinstance(arrays, dict) else dict(zip(self.array_names, arrays))

    def in_order(self, named: dict) -> list:
        """The fused arrays of ``named`` (name -> array) as a list in plan order."""
        return [named[name] for name in self.array_names]

    def __str__(self) -> str:
        lines = ["fused arrays:"]
        lines += [f"  {f}" for f in self.fused]
        lines += [str(stage) for stage in self.stages]
        ops = sum(len(s.delayed) + sum(len(p) for _, p in s.instant) + len(s.blocks())
                  for s in self.stages if s.loop)
        lines.append(f"per-step work: {ops} fused op(s) inside time loops")
        return "\n".join(lines)


def empty_array(fused: Fused) -> np.ndarray:
    return np.zeros(fused.shape)
