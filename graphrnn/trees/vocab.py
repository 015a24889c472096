"""Vocabulary: tokens -> input rows (one-hot), with located GR122 errors for unknown tokens.

A learned embedding is a graph matter, not a data one: feed the one-hot
input through a dense edge into a node without bias (``embed: {size: 8,
bias: false}``), and the edge's weight matrix is the embedding table.
"""
from __future__ import annotations

import numpy as np

from ..errors import Location, SpecError
from ..spec import did_you_mean


class Vocabulary:
    """An ordered list of distinct tokens; token i is one-hot row i of a ``size``-wide input.

    ``unknown``: a token (itself in the list) that stands in for tokens not in
    it; without one, an unknown token is an error (GR122) at its location.
    Unlabelled nodes (``label is None``) read a zero row.
    """

    def __init__(self, tokens, unknown: str | None = None):
        self.tokens = tuple(str(t) for t in tokens)
        if len(set(self.tokens)) != len(self.tokens):
            raise SpecError("GR122", "vocabulary tokens must be distinct", loc=Location("<vocabulary>"),
                            fix="list each token once (Vocabulary.from_trees collects them for you)")
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if unknown is not None and unknown not in self.index:
            raise SpecError("GR122", f"the unknown token {unknown!r} must be one of the tokens",
                            loc=Location("<vocabulary>"), fix=f"add {unknown!r} to the tokens")
        self.unknown = unknown

    @classmethod
    def from_trees(cls, trees, unknown: str | None = None) -> "Vocabulary":
        """Every label of ``trees`` in order of first appearance (preorder), plus ``unknown``."""
        seen = dict.fromkeys(node.label for tree in trees for node in tree.preorder() if node.label is not None)
        if unknown is not None:
            seen.setdefault(unknown)
        return cls(seen, unknown)

    @property
    def size(self) -> int:
        return len(self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        shown = ", ".join(self.tokens[:8]) + (", ..." if len(self.tokens) > 8 else "")
        return f"Vocabulary([{shown}], size={self.size})"

    def lookup(self, token: str, loc=None) -> int:
        """Row index of ``token``; GR122 (with did-you-mean) when it is unknown and there is no stand-in."""
        if token in self.index:
            return self.index[token]
        if self.unknown is not None:
            return self.index[self.unknown]
        shown = ", ".join(self.tokens[:20]) + (" ..." if len(self.tokens) > 20 else "")
        raise SpecError("GR122", f"unknown token `{token}`{did_you_mean(token, self.tokens)}", loc=loc,
                        fix=f"use a token of the vocabulary ({shown}), or build it with "
                            "Vocabulary(..., unknown='<unk>')")

    def encode(self, nodes) -> np.ndarray:
        """(len(nodes), size) float rows: one-hot per labelled node, zeros for unlabelled ones."""
        rows = np.zeros((len(nodes), self.size))
        for i, node in enumerate(nodes):
            if node.label is not None:
                rows[i, self.lookup(node.label, node.loc)] = 1.0
        return rows
