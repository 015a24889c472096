"""The Tree record and its nested-list / JSON-object forms.

A :class:`Tree` is a token ``label`` (``None`` for an unlabelled internal
node) and its ordered ``children``.  Trees can be as deep as the data says
(a chain of 10,000 nodes is a fine tree), so every walk here is iterative:
nothing recurses once per level.

Nested lists follow the s-expression convention (see sexpr.py): with
``labels="head"`` a list whose first element is an atom is that atom's node
and the rest are its children (``["+", 3, ["*", 2, 4]]``); a list that starts
with a list is an unlabelled node.  With ``labels="none"`` every list is an
unlabelled node and only atoms carry tokens (``[["the", "cat"], "sat"]``).
The JSON object form is explicit: ``{"label": "+", "children": [...]}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Location, SpecError

LABEL_MODES = ("head", "none")


@dataclass(frozen=True)
class Tree:
    """One tree node: ``label`` (a token, or None), ``children`` (Trees, in order), ``loc`` (where it was read)."""

    label: str | None
    children: tuple = ()
    loc: Location | None = field(default=None, compare=False, repr=False)

    def __repr__(self) -> str:
        return f"Tree({str(self)!r})"

    def postorder(self):
        """Every node, children before parents (left to right), without recursion."""
        stack, out = [(self, False)], []
        while stack:
            node, expanded = stack.pop()
            if expanded or not node.children:
                out.append(node)
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children))
        return out

    def preorder(self):
        """Every node, parents before children (left to right)."""
        stack, out = [self], []
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    @property
    def height(self) -> int:
        """0 for a leaf, else 1 + the largest child height (the level the batch evaluates it at)."""
        heights = {}
        for node in self.postorder():
            heights[id(node)] = 1 + max((heights[id(c)] for c in node.children), default=-1)
        return heights[id(self)]

    @property
    def size(self) -> int:
        return len(self.preorder())

    def __str__(self) -> str:
        """The s-expression form: ``(+ 3 (* 2 4))``; unlabelled nodes as ``(a b)`` lists with no head."""
        parts: dict[int, str] = {}
        for node in self.postorder():
            if not node.children:
                parts[id(node)] = "()" if node.label is None else node.label
                continue
            inner = [parts[id(c)] for c in node.children]
            parts[id(node)] = "(" + " ".join(([node.label] if node.label is not None else []) + inner) + ")"
        return parts[id(self)]


def leaf(label) -> Tree:
    return Tree(str(label))


def _is_atom(value) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _where(value, default: Location | None) -> Location | None:
    return getattr(value, "loc", None) or default


def from_nested(value, labels: str = "head", loc: Location | None = None) -> Tree:
    """A Tree from nested lists, atoms, or ``{"label", "children"}`` objects (see the module docstring).

    Marked lists and dicts (from graphrnn's YAML/JSON loader) give every node
    its file:line:col; errors (GR121) point there.
    """
    if labels not in LABEL_MODES:
        raise ValueError(f"labels must be one of {LABEL_MODES}, got {labels!r}")
    order = []                      # preorder: (label, location, parent index)
    stack = [(value, loc, -1)]
    while stack:
        raw, where, parent = stack.pop()
        where = _where(raw, where)
        label, kids, kid_locs = _split(raw, labels, where)
        order.append((label, where, parent))
        me = len(order) - 1
        stack.extend((kids[i], kid_locs[i] or where, me) for i in reversed(range(len(kids))))
    children: list[list] = [[] for _ in order]
    for i in range(len(order) - 1, -1, -1):   # children come after their parent in preorder
        label, where, parent = order[i]
        node = Tree(label, tuple(reversed(children[i])), where)
        if parent < 0:
            return node
        children[parent].append(node)
    raise AssertionError("unreachable")


def _item_locs(items) -> list:
    """Each item's location when the list came from the located loader, else Nones."""
    locs = list(getattr(items, "item_locs", []))
    return locs + [None] * (len(items) - len(locs))


def _split(raw, labels: str, where):
    """(label, children values, their locations) of one nested value; GR121 for anything that is not a tree."""
    if _is_atom(raw):
        return str(raw), [], []
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - {"label", "children"})
        if unknown:
            raise SpecError("GR121", f"a tree object has keys `label` and `children`, not `{unknown[0]}`",
                            loc=raw.key_loc(unknown[0]) if hasattr(raw, "key_loc") else where,
                            fix='write {"label": "+", "children": [...]}')
        label = raw.get("label")
        if label is not None and not _is_atom(label):
            raise SpecError("GR121", f"a tree label must be a token (a string or number), got {label!r}",
                            loc=raw.value_loc("label") if hasattr(raw, "value_loc") else where,
                            fix='write "label": "+"')
        kids = raw.get("children", [])
        if not isinstance(kids, list):
            raise SpecError("GR121", "`children` must be a list of trees",
                            loc=raw.value_loc("children") if hasattr(raw, "value_loc") else where,
                            fix='write "children": [...]')
        return (None if label is None else str(label)), kids, _item_locs(kids)
    if isinstance(raw, list):
        if not raw:
            raise SpecError("GR121", "an empty list is not a tree", loc=where,
                            fix="a node is a token, or a list of a head token and its children")
        if labels == "head" and _is_atom(raw[0]):
            return str(raw[0]), raw[1:], _item_locs(raw)[1:]
        return None, raw, _item_locs(raw)
    raise SpecError("GR121", f"{type(raw).__name__} {raw!r} is not a tree", loc=where,
                    fix="use tokens (strings or numbers), lists, and {label, children} objects")
