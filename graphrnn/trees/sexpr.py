"""S-expressions -> Trees, with file:line:col on every node and every error.

``(+ 3 (* 2 4))`` is a node ``+`` with children ``3`` and ``(* 2 4)``: with
``labels="head"`` (the default) the first atom of a list is the node's
token.  With ``labels="none"`` every list is an unlabelled node and only
atoms carry tokens: ``((the cat) sat)``.  Atoms are runs of characters other
than whitespace and parentheses; ``;`` starts a comment to the end of the
line.  Tokenising is one regular-expression pass and parsing is iterative, so
both are linear in the text; nesting is bounded by ``MAX_TREE_DEPTH``
(GR108 at the ``(`` past it) and size by ``MAX_TREE_NODES``.
"""
from __future__ import annotations

import re

from ..errors import Location, SpecError
from .tree import LABEL_MODES, Tree

MAX_TREE_NODES = 1_000_000
MAX_TREE_DEPTH = 10_000


_TOKEN = re.compile(r"(\()|(\))|(;[^\n]*)|([^\s();]+)|(\n)")   # groups: ( ) comment atom newline
_KINDS = {1: "(", 2: ")", 4: "atom"}


def tokens(text: str, file: str):
    """Yield (kind, text, Location) with kind "(" , ")" or "atom" (one regular-expression pass)."""
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastindex
        if kind == 5:
            line, line_start = line + 1, match.end()
        elif kind != 3:
            yield _KINDS[kind], match.group(), Location(file, line, match.start() - line_start + 1)


def parse_sexprs(text: str, file: str = "<string>", labels: str = "head") -> list[Tree]:
    """Every top-level s-expression of ``text`` as a Tree (a bare atom is a one-node tree).

    Raises SpecError GR121 at the offending spot: a ``)`` without its ``(``,
    a ``(`` never closed (pointing at that ``(``), an empty list ``()``;
    GR108 past ``MAX_TREE_NODES`` nodes.
    """
    if labels not in LABEL_MODES:
        raise ValueError(f"labels must be one of {LABEL_MODES}, got {labels!r}")
    trees: list[Tree] = []
    open_lists: list[tuple[Location, list]] = []   # (where the "(" is, items so far)
    count = 0
    for kind, word, loc in tokens(text, file):
        if kind == "(":
            if len(open_lists) >= MAX_TREE_DEPTH:
                raise SpecError("GR108", f"trees nested more than {MAX_TREE_DEPTH} levels deep", loc=loc,
                                fix="flatten the data; very deep trees are better split")
            open_lists.append((loc, []))
            continue
        if kind == "atom":
            count += 1
            if count > MAX_TREE_NODES:
                raise SpecError("GR108", f"more than {MAX_TREE_NODES} tree nodes", loc=loc,
                                fix="split the data into several files")
            item = Tree(word, (), loc)
            item_is_atom = True
        else:   # ")"
            if not open_lists:
                raise SpecError("GR121", "unbalanced parentheses: `)` without a matching `(`", loc=loc,
                                fix="remove this `)` or add a `(` before it")
            start, items = open_lists.pop()
            count += 1
            if count > MAX_TREE_NODES:
                raise SpecError("GR108", f"more than {MAX_TREE_NODES} tree nodes", loc=loc,
                                fix="split the data into several files")
            item = _node(items, start, labels)
            item_is_atom = False
        if open_lists:
            open_lists[-1][1].append((item, item_is_atom))
        else:
            trees.append(item)
    if open_lists:
        start, _ = open_lists[-1]
        raise SpecError("GR121", f"unbalanced parentheses: the `(` at {start.line}:{start.col} is never closed",
                        loc=start, fix="add the missing `)`")
    return trees


def _node(items: list, start: Location, labels: str) -> Tree:
    if not items:
        raise SpecError("GR121", "`()` is not a tree: a list needs at least one token or subtree",
                        loc=start, fix="remove the empty list, or put a token in it")
    first, first_is_atom = items[0]
    if labels == "head" and first_is_atom:
        return Tree(first.label, tuple(t for t, _ in items[1:]), first.loc)
    return Tree(None, tuple(t for t, _ in items), start)


def parse_sexpr(text: str, file: str = "<string>", labels: str = "head") -> Tree:
    """Exactly one tree; GR121 when the text holds none or more than one."""
    trees = parse_sexprs(text, file, labels)
    if len(trees) != 1:
        loc = trees[1].loc if len(trees) > 1 else Location(file, 1, 1)
        what = "text after the end of the tree" if trees else "no tree in the text"
        raise SpecError("GR121", what, loc=loc,
                        fix="give one tree; wrap several in one list, or use parse_sexprs")
    return trees[0]
