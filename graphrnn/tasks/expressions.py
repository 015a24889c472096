"""Boolean expression trees: evaluate ``(and T (xor F T))`` at the root; generalise to deeper trees.

The task of issue #9: train a recursive network on expressions of depth
<= 4 and test it on depths 5-8, reporting accuracy by depth.  Depth is the
tree's height: a bare ``T`` has depth 0, ``(and T F)`` depth 1.

Encoding: every tree node reads its token one-hot, in the order of
:attr:`BooleanExpressions.tokens` (``T``, ``F``, then the operators); the
target is the expression's value at the root as a class, 1 = true, 0 =
false (``net.loss(..., kind="xent")`` against a 2-way softmax output).
Each depth is sampled with exactly that depth (one child of every internal
node on the deepest path reaches it, the other has a uniform depth below)
and with true and false balanced, so chance is 50% at every depth.

This is not a sequence task: it does not subclass tasks.base.Task (whose
batches are time-major sequences) and is registered in ``TREE_TASKS``, not
in ``TASKS``.  It speaks the training loop's protocol all the same
(``sample`` gives a :class:`TreeSample`, ``success`` an Evaluation), so
``graphrnn train`` runs it: ``experiments/trees_boolean.yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..trees import Tree, TreeBatch, Vocabulary
from .base import Evaluation, _check_int, as_rng

OPERATORS = {"and": lambda a, b: a and b, "or": lambda a, b: a or b, "xor": lambda a, b: a != b}


def evaluate(tree: Tree) -> bool:
    """The value of a boolean expression tree (iterative, any depth)."""
    value = {}
    for node in tree.postorder():
        if not node.children:
            value[id(node)] = node.label == "T"
        else:
            left, right = (value[id(c)] for c in node.children)
            value[id(node)] = OPERATORS[node.label](left, right)
    return value[id(tree)]


@dataclass(frozen=True)
class TreeSample:
    """A training batch of trees for the loop: ``x`` the TreeBatch, ``target`` (B,) classes."""

    x: TreeBatch
    target: np.ndarray
    mask: None = None

    @property
    def size(self) -> int:
        return len(self.target)


@dataclass(frozen=True)
class DepthScore:
    depth: int
    correct: int
    count: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.count


class BooleanExpressions:
    """Boolean expressions over T/F with binary operators (default and, or, xor).

    ``train_depths`` and ``test_depths`` are inclusive (low, high) ranges;
    ``test_size`` the number of test expressions per depth.
    """

    name = "boolean_expressions"
    loss = "xent"
    output_size = 2

    def __init__(self, *, operators=("and", "or", "xor"), train_depths=(1, 4), test_depths=(5, 8),
                 test_size: int = 200):
        unknown = [op for op in operators if op not in OPERATORS]
        if unknown or not operators:
            raise ConfigError(f"operators must be some of {sorted(OPERATORS)}, got {list(operators)}", "operators")
        self.operators = tuple(operators)
        self.train_depths, self.test_depths = tuple(train_depths), tuple(test_depths)
        self.test_size = int(test_size)
        self.tokens = ("T", "F") + self.operators
        self.vocabulary = Vocabulary(self.tokens)
        self.input_size = len(self.tokens)

    def expression(self, rng, depth: int) -> Tree:
        """A random expression of exactly ``depth`` (the deepest path's side is random)."""
        if depth == 0:
            return Tree(str(rng.choice(["T", "F"])))
        deep = self.expression(rng, depth - 1)
        other = self.expression(rng, int(rng.integers(0, depth)))
        kids = (deep, other) if rng.random() < 0.5 else (other, deep)
        return Tree(str(rng.choice(self.operators)), kids)

    def sample(self, rng, batch: int) -> TreeSample:
        """A training batch for ``graphrnn.train``: ``batch`` expressions of the training depths."""
        trees, labels = self.draw(rng, _check_int("batch", batch))
        return TreeSample(self.batch(trees), labels)

    def success(self, net, params, rng) -> Evaluation:
        """Solved when every one of ``test_size`` fresh expressions per training depth is right;
        the metrics give the accuracy at every training and test depth."""
        scores = self.accuracy_by_depth(net, params, rng)
        trained = [s for s in scores if self.train_depths[0] <= s.depth <= self.train_depths[1]]
        wrong = sum(s.count - s.correct for s in trained)
        metrics = {"train_wrong": wrong, "of": sum(s.count for s in trained)}
        metrics.update({f"depth{s.depth}": round(s.accuracy, 4) for s in scores})
        return Evaluation(wrong == 0, metrics, f"every expression of depths {self.train_depths[0]}-"
                                               f"{self.train_depths[1]} right ({self.test_size} per depth)")

    def monitor(self):
        return None

    def check_net(self, net) -> None:
        if (net.input_size, net.output_size) != (self.input_size, self.output_size):
            raise ValueError(f"task `{self.name}` needs {self.input_size} inputs and {self.output_size} outputs")

    def draw(self, rng, count: int, depths=None) -> tuple[list, np.ndarray]:
        """(trees, classes (count,)): depths uniform over ``depths`` (default the training range),
        true and false alternating so that the classes are balanced."""
        rng = as_rng(rng)
        low, high = self.train_depths if depths is None else depths
        trees, labels = [], []
        while len(trees) < count:
            want = len(trees) % 2 == 0
            tree = self.expression(rng, int(rng.integers(low, high + 1)))
            if evaluate(tree) == want:
                trees.append(tree)
                labels.append(int(want))
        order = rng.permutation(count)
        return [trees[i] for i in order], np.array(labels)[order]

    def batch(self, trees) -> TreeBatch:
        return TreeBatch.of(trees, self.vocabulary)

    def accuracy_by_depth(self, net, params, rng, depths=None, per_depth: int | None = None,
                          batching: str = "level") -> list[DepthScore]:
        """Accuracy of the root's argmax at each depth (default: training and test ranges)."""
        rng = as_rng(rng)
        if depths is None:
            depths = range(self.train_depths[0], self.test_depths[1] + 1)
        scores = []
        for depth in depths:
            trees, labels = self.draw(rng, per_depth or self.test_size, (depth, depth))
            y = np.asarray(net.run(params, net.batch(trees, self.vocabulary), batching=batching).y)
            scores.append(DepthScore(depth, int(np.sum(np.argmax(y, axis=1) == labels)), len(labels)))
        return scores


def depth_table(scores, train_depths) -> str:
    """Markdown table of DepthScores, marking which depths were trained on."""
    lines = ["| depth | split | accuracy | expressions |", "|---|---|---|---|"]
    for s in scores:
        split = "train" if train_depths[0] <= s.depth <= train_depths[1] else "test"
        lines.append(f"| {s.depth} | {split} | {100 * s.accuracy:.1f}% | {s.count} |")
    return "\n".join(lines)


#: tree tasks by name (sequence tasks are in TASKS)
TREE_TASKS = {BooleanExpressions.name: BooleanExpressions}
