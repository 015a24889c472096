"""Random trees from a numpy Generator (for checks, demos and tasks; hypothesis has testing.strategies.trees)."""
from __future__ import annotations

import numpy as np

from .tree import Tree


def random_tree(rng: np.random.Generator, labels, max_depth: int = 3, max_children: int = 2,
                internal_labels=None) -> Tree:
    """A tree of depth <= ``max_depth`` whose nodes have 0..``max_children`` children.

    Leaves draw from ``labels``; internal nodes from ``internal_labels``
    (default ``labels``; an empty tuple leaves them unlabelled).  Built
    breadth-first, without recursion.
    """
    inner = labels if internal_labels is None else internal_labels
    shape = []                    # (depth, parent index) in breadth-first order
    queue = [(0, -1)]
    while queue:
        depth, parent = queue.pop(0)
        shape.append((depth, parent))
        me = len(shape) - 1
        count = int(rng.integers(0, max_children + 1)) if depth < max_depth else 0
        queue += [(depth + 1, me)] * count
    kids: list[list] = [[] for _ in shape]
    for i in range(len(shape) - 1, -1, -1):
        depth, parent = shape[i]
        children = tuple(reversed(kids[i]))
        pool = inner if children else labels
        label = str(pool[int(rng.integers(len(pool)))]) if len(pool) else None
        node = Tree(label, children)
        if parent < 0:
            return node
        kids[parent].append(node)
    raise AssertionError("unreachable")
