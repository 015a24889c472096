"""TreeBatch: a batch of trees of any shapes, flattened and ordered level by level.

Every node of every tree gets one row, and rows are sorted by *height*
(leaves 0, a parent one more than its highest child), then by tree, then by
preorder position.  All nodes of one height, across the whole batch, are one
contiguous range ``levels[h] = (start, stop)``: their children all sit in
earlier rows, so the runtime evaluates a whole level as one vectorised step.

Arrays (N nodes in the batch, B trees, A = the largest number of children,
at least 1, I = the input width):

- ``x`` (N, I): each node's input row (its token's one-hot, zeros when unlabelled);
- ``children`` (N, A) int: the row of each node's k-th child, -1 where there is none;
- ``arity`` (N,): the number of children;
- ``roots`` (B,): the row of each tree's root; ``tree_of`` (N,): each row's tree;
- ``parent`` (N,): the row of each node's parent, -1 at the roots;
- ``preorder[b]``: the rows of tree b in preorder (to read per-node results back).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import Location, SpecError
from .sexpr import parse_sexpr
from .tree import Tree

#: numbers in a batch's (nodes x widest arity) children table or (nodes x vocabulary) inputs
MAX_BATCH_CELLS = 50_000_000


@dataclass(frozen=True, eq=False)
class TreeBatch:
    x: np.ndarray
    children: np.ndarray
    arity: np.ndarray
    roots: np.ndarray
    tree_of: np.ndarray
    levels: tuple
    preorder: tuple
    nodes: tuple = field(repr=False)      # the Tree record of every row (labels and locations)

    @classmethod
    def of(cls, trees, vocab) -> "TreeBatch":
        """Batch ``trees`` (Tree records, or s-expression strings) with ``vocab`` for the inputs."""
        trees = [parse_sexpr(t) if isinstance(t, str) else t for t in trees]
        if not trees:
            raise SpecError("GR121", "a batch needs at least one tree", loc=Location("<trees>"),
                            fix="give TreeBatch.of a non-empty list of trees")
        records = []     # (height, tree, position, node, child positions) for every node
        for b, tree in enumerate(trees):
            flat, kids = _flatten(tree)
            height = [0] * len(flat)
            for i in range(len(flat) - 1, -1, -1):    # children follow their parent in preorder
                if kids[i]:
                    height[i] = 1 + max(height[k] for k in kids[i])
            records += [(height[i], b, i, flat[i], kids[i]) for i in range(len(flat))]
        records.sort(key=lambda r: r[:3])
        row = {(b, i): r for r, (_, b, i, _, _) in enumerate(records)}
        width = max(1, max(len(r[4]) for r in records))
        for what, cells in (("children table", len(records) * width), ("inputs", len(records) * vocab.size)):
            if cells > MAX_BATCH_CELLS:   # refused before the (nodes x arity) and (nodes x vocabulary) arrays exist
                widest = max(records, key=lambda r: len(r[4]))[3]
                raise SpecError("GR108", f"the batch's {what} would hold {cells:,} numbers (limit "
                                f"{MAX_BATCH_CELLS:,}): {len(records):,} nodes, the widest with {width:,} "
                                f"children, a vocabulary of {vocab.size:,}", loc=widest.loc or Location("<trees>"),
                                fix="batch fewer trees at a time, or binarise very wide nodes")
        children = np.full((len(records), width), -1, dtype=int)
        for r, (_, b, _, _, kids) in enumerate(records):
            children[r, :len(kids)] = [row[(b, k)] for k in kids]
        heights = np.array([r[0] for r in records])
        bounds = np.searchsorted(heights, np.arange(heights[-1] + 2))
        preorder = tuple(np.array([row[(b, i)] for i in range(tree_size)])
                         for b, tree_size in enumerate(np.bincount([r[1] for r in records], minlength=len(trees))))
        nodes = tuple(r[3] for r in records)
        return cls(x=vocab.encode(nodes), children=children, arity=(children >= 0).sum(axis=1),
                   roots=np.array([p[0] for p in preorder]), tree_of=np.array([r[1] for r in records]),
                   levels=tuple((int(bounds[h]), int(bounds[h + 1])) for h in range(len(bounds) - 1)),
                   preorder=preorder, nodes=nodes)

    @property
    def size(self) -> int:
        """N, the number of nodes in the batch."""
        return len(self.children)

    @property
    def batch(self) -> int:
        """B, the number of trees."""
        return len(self.roots)

    @property
    def height(self) -> int:
        """The height of the highest tree (the number of levels minus one)."""
        return len(self.levels) - 1

    @cached_property
    def heights(self) -> np.ndarray:
        """(N,) the height of each row."""
        out = np.zeros(self.size, dtype=int)
        for h, (start, stop) in enumerate(self.levels):
            out[start:stop] = h
        return out

    def link_table(self, link):
        """(rows, weights) that read ``link`` for every node from a stacked (1 + N, W) array.

        ``link`` is a graph's tree link (graph/ir.py ``Link``: ``kind``,
        ``index``, ``pool``).  The stacked array holds the source's initial
        value in row 0 and node r in row r + 1.  Kind ``child`` with index k:
        rows (N,), weights None; a node without a k-th child reads row 0.
        ``children`` pooled by ``sum``/``mean``: rows and weights (N, A), the
        value is the weighted sum over A; a leaf reads row 0 with weight 1
        (leaves read the initial value).  ``parent``: rows (N,), the root
        reading row 0.
        """
        return self._tables[link] if link in self._tables else self._build_table(link)

    @cached_property
    def _tables(self) -> dict:
        return {}

    @cached_property
    def parent(self) -> np.ndarray:
        """(N,) the row of each node's parent, -1 at the roots."""
        out = np.full(self.size, -1, dtype=int)
        rows, ranks = np.nonzero(self.children >= 0)
        out[self.children[rows, ranks]] = rows
        return out

    def _build_table(self, link):
        if link.kind == "parent":
            table = (self.parent + 1, None)
        elif link.kind == "child":
            k = link.index - 1
            rows = self.children[:, k] + 1 if k < self.children.shape[1] else np.zeros(self.size, int)
            table = (rows, None)
        else:
            present = self.children >= 0
            rows = np.where(present, self.children + 1, 0)
            weights = present.astype(float)
            if link.pool == "mean":
                weights = weights / np.maximum(self.arity, 1)[:, None]
            weights[self.arity == 0, 0] = 1.0      # a leaf reads the initial value once
            table = (rows, weights)
        self._tables[link] = table
        return table

    def per_tree(self, values) -> list:
        """Split an (N, ...) array of per-row values into one (n_b, ...) array per tree, in preorder."""
        return [values[rows] for rows in self.preorder]

    def from_per_tree(self, arrays) -> np.ndarray:
        """The inverse of per_tree: one (n_b, ...) array per tree (preorder) -> (N, ...) in row order."""
        first = np.asarray(arrays[0])
        out = np.zeros((self.size,) + first.shape[1:], dtype=first.dtype)
        for rows, values in zip(self.preorder, arrays):
            out[rows] = values
        return out


def _flatten(tree: Tree):
    """(nodes in preorder, each node's children as preorder positions), without recursion."""
    flat, kids, stack = [], [], [(tree, -1)]
    while stack:
        node, parent = stack.pop()
        flat.append(node)
        kids.append([])
        if parent >= 0:
            kids[parent].append(len(flat) - 1)
        stack.extend((child, len(flat) - 1) for child in reversed(node.children))
    return flat, kids
