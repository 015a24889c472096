"""Tree data: parsing (s-expressions, nested lists, JSON), vocabularies and level-ordered batches.

    from graphrnn.trees import parse_sexpr, Vocabulary, TreeBatch
    tree = parse_sexpr("(+ 3 (* 2 4))")
    vocab = Vocabulary(["+", "*", "2", "3", "4"])
    batch = TreeBatch.of([tree, "(* 3 3)"], vocab)      # batch.x (N, 5), batch.levels, ...
    trace = net.run(params, batch)                        # a tree network (``over: tree``)

See docs/trees.md.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import Location, SpecError
from ..spec.validate import read_text
from ..spec.yamlmarks import load_yaml
from .batch import TreeBatch
from .sexpr import MAX_TREE_DEPTH, MAX_TREE_NODES, parse_sexpr, parse_sexprs
from .tree import Tree, from_nested, leaf
from .vocab import Vocabulary

MAX_TREE_BYTES = 64_000_000

__all__ = ["Tree", "TreeBatch", "Vocabulary", "parse_sexpr", "parse_sexprs", "from_nested", "leaf",
           "parse_json", "read_trees", "MAX_TREE_NODES", "MAX_TREE_DEPTH", "MAX_TREE_BYTES"]


def parse_json(text: str, file: str = "<string>", labels: str = "head") -> list[Tree]:
    """Trees from JSON text: one tree, or a list of trees under ``{"trees": [...]}``.

    A tree is a token, a nested list (``["+", 3, ["*", 2, 4]]``, see
    tree.py for ``labels``) or an object ``{"label": "+", "children": [...]}``.
    Every node keeps its file:line:col; syntax errors are GR121 there.
    """
    try:
        # JSON is YAML; this loader keeps locations, is safe and linear (libyaml bounds nesting at 1,000)
        data = load_yaml(text, file, max_depth=None, max_bytes=MAX_TREE_BYTES, max_nodes=2 * MAX_TREE_NODES)
    except SpecError as err:
        if err.code != "GR100":
            raise
        raise SpecError("GR121", f"not valid JSON: {err.message}", loc=err.loc,
                        fix="check brackets, braces, commas and quotes near this spot") from None
    if isinstance(data, dict) and set(data) == {"trees"}:
        items = data["trees"]
        if not isinstance(items, list):
            raise SpecError("GR121", "`trees` must be a list of trees", loc=data.value_loc("trees"),
                            fix='write {"trees": [tree, ...]}')
        locs = list(getattr(items, "item_locs", [])) + [None] * len(items)
        return [from_nested(item, labels, locs[i] or Location(file, 1, 1)) for i, item in enumerate(items)]
    return [from_nested(data, labels, Location(file, 1, 1))]


def read_trees(path, labels: str = "head") -> list[Tree]:
    """Every tree in a file: ``.json`` as parse_json, anything else as s-expressions."""
    path = Path(path)
    text = read_text(path, "tree file", max_bytes=MAX_TREE_BYTES)
    if path.suffix == ".json":
        return parse_json(text, str(path), labels)
    return parse_sexprs(text, str(path), labels)
