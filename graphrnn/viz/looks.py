"""How each node and edge of a drawn graph looks: one table shared by the pictures (draw.py) and
the Graphviz export (dot.py), so that a PNG, an SVG and a .dot file say the same thing.

An edge's look has two parts: its *timing* (when it reads its source) and whether a *mask* thins
it out.  Timing: instantaneous (solid, black), delayed (dashed, red, ``z⁻ᵈ``) or a tree link
(dotted, blue, ``child k`` / ``children mean`` / ``parent``: tree links read another position of
the tree, so a self-loop through one is no instantaneous cycle).  A masked edge is drawn in
purple with its timing's line pattern and labelled ``mask k/n`` (k of its n weights connected).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INPUT_STYLE = dict(facecolor="#d9f2d9", edgecolor="#2e7d32", linewidth=1.2)
HIDDEN_STYLE = dict(facecolor="#dbe9f8", edgecolor="#1f4e8c", linewidth=1.2)
OUTPUT_STYLE = dict(facecolor="#fde3c8", edgecolor="#c55a00", linewidth=2.6)
INSTANT_COLOR = "#222222"
DELAY_COLOR = "#c62828"
LINK_COLOR = "#1565c0"
MASK_COLOR = "#7b1fa2"
DASHES = (0, (4, 2.5))
DOTS = (0, (1.2, 1.6))

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def delay_label(delay: int) -> str:
    """``z⁻¹`` for a one-step delay, ``z⁻ᵈ`` in general (plain Unicode text)."""
    return "z" + f"-{delay}".translate(_SUPERSCRIPT)


def link_label(link) -> str:
    """A tree link as the spec writes it: ``child 1``, ``children mean``, ``parent``."""
    if link.kind == "child":
        return f"child {link.index}"
    return f"children {link.pool}" if link.kind == "children" else "parent"


@dataclass(frozen=True)
class EdgeLook:
    """``timing``: ``instant``, ``delayed`` or ``link``; ``masked``: whether a mask thins it out."""

    timing: str
    masked: bool
    label: str           # "" for a plain instantaneous edge

    @property
    def color(self) -> str:
        return MASK_COLOR if self.masked else {"instant": INSTANT_COLOR, "delayed": DELAY_COLOR,
                                               "link": LINK_COLOR}[self.timing]

    @property
    def linestyle(self):
        return {"instant": "solid", "delayed": DASHES, "link": DOTS}[self.timing]

    @property
    def dot_style(self) -> str:
        return {"instant": "solid", "delayed": "dashed", "link": "dotted"}[self.timing]


def edge_look(edge) -> EdgeLook:
    """The look of one graph Edge (see the module docstring)."""
    timing = "link" if edge.link is not None else "delayed" if edge.delay else "instant"
    parts = [link_label(edge.link)] if edge.link is not None else [delay_label(edge.delay)] if edge.delay else []
    masked = edge.mask is not None
    if masked:
        mask = np.asarray(edge.mask, float)
        parts.append(f"mask {np.count_nonzero(mask)}/{mask.size}")
    return EdgeLook(timing, masked, ", ".join(parts))


#: the legend's edge entries, in order: (what the graph must contain for the entry, label, look)
EDGE_LEGEND = (
    ("instant", "instantaneous edge", EdgeLook("instant", False, "")),
    ("delayed", "delayed edge (z⁻ᵈ: d steps back)", EdgeLook("delayed", False, "")),
    ("link", "tree link (child k, children pool, parent)", EdgeLook("link", False, "")),
    ("masked", "masked edge (mask k/n: k of n weights connected)", EdgeLook("instant", True, "")),
)


def legend_entries(looks) -> list[tuple[str, EdgeLook]]:
    """The edge legend entries a drawing needs: one per timing present, and masks when any."""
    present = {look.timing for look in looks} | ({"masked"} if any(look.masked for look in looks) else set())
    present.add("instant")        # the reference entry, so the other styles read as differences
    return [(label, look) for key, label, look in EDGE_LEGEND if key in present]
