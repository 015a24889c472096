"""S-expressions -> Trees, with file:line:col on every node and every error.

``(+ 3 (* 2 4))`` is a node ``+`` with children ``3`` and ``(* 2 4)``: with
``labels="head"`` (the default) the first atom of a list is the node's
token.  With ``labels="none"`` every list is an unlabelled node and only
atoms carry tokens: ``((the cat) sat)``.  Atoms are runs of characters other
than whitespace and parentheses; ``;`` starts a comment to the end of the
line.  The parser is iterative, so nesting depth is limited only by
``MAX_TREE_NODES``.
"""
from __future__ import annotations

from ..errors import Location, SpecError
from .tree import LABEL_MODES, Tree

MAX_TREE_NODES = 1_000_000


def tokens(text: str, file: str):
    """Yield (kind, text, Location) with kind "(" , ")" or "atom"."""
    line, col, i, n = 1, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, col, i = line + 1, 1, i + 1
        elif ch.isspace():
            col, i = col + 1, i + 1
        elif ch == ";":
            while i < n and text[i] != "\n":
                i += 1
        elif ch in "()":
            yield ch, ch, Location(file, line, col)
            col, i = col + 1, i + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in "();":
                i += 1
            yield "atom", text[start:i], Location(file, line, col)
            col += i - start


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
