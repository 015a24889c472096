"""The boolean expression tree task: values, exact depths, balance, accuracy by depth, a short training."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.tasks import expressions
from graphrnn.tasks.expressions import TREE_TASKS, BooleanExpressions, depth_table, evaluate
from graphrnn.testing.strategies import trees
from graphrnn.train.optimizers import Adam
from graphrnn.trees import parse_sexpr



def python_value(tree) -> bool:
    if not tree.children:
        return tree.label == "T"
    left, right = map(python_value, tree.children)
    return {"and": left and right, "or": left or right, "xor": left != right}[tree.label]


@pytest.mark.parametrize("text, value", [("T", True), ("(and T F)", False), ("(or F (xor T F))", True),
                                         ("(xor (and T T) (or F F))", True)])
def test_evaluate(text, value):
    assert evaluate(parse_sexpr(text)) is value


@given(tree=trees(labels=("T", "F"), internal_labels=("and", "or", "xor"), max_depth=5))
def test_evaluate_agrees_with_python_on_binary_trees(tree):
    if any(len(n.children) == 1 for n in tree.preorder()):
        return   # the task's trees are binary
    assert evaluate(tree) == python_value(tree)


def test_samples_have_the_asked_depths_and_balanced_classes():
    task = BooleanExpressions()
    forest, labels = task.draw(np.random.default_rng(0), 40, (5, 6))
    assert {t.height for t in forest} <= {5, 6} and len({t.height for t in forest}) == 2
    assert labels.sum() == 20
    assert [int(evaluate(t)) for t in forest] == labels.tolist()
    assert all(len(n.children) in (0, 2) for t in forest for n in t.preorder())


def test_the_task_is_registered_for_trees():
    assert TREE_TASKS["boolean_expressions"] is BooleanExpressions
    assert expressions.BooleanExpressions.name in TREE_TASKS
    with pytest.raises(ValueError, match="operators"):
        BooleanExpressions(operators=("nand",))


def test_accuracy_by_depth_of_an_untrained_network():
    task = BooleanExpressions(test_size=10)
    net = gr.load("recursive")
    scores = task.accuracy_by_depth(net, net.init(0), 0, depths=(1, 5))
    assert [(s.depth, s.count) for s in scores] == [(1, 10), (5, 10)]
    assert all(0.0 <= s.accuracy <= 1.0 for s in scores)
    table = depth_table(scores, task.train_depths)
    assert "| 1 | train |" in table and "| 5 | test |" in table


def test_a_short_training_learns_shallow_expressions():
    task = BooleanExpressions(train_depths=(1, 2), test_size=60)
    net = gr.load("recursive")
    rng = np.random.default_rng(0)
    params = net.init(0)
    opt = Adam(lr=0.02)
    state = opt.init(params, names=net.trainable)
    for step in range(150):
        forest, labels = task.draw(rng, 16)
        _, grads = net.value_and_grad(params, task.batch(forest), labels, kind="xent")
        params, state = opt.update(params, grads, state, step)
    scores = task.accuracy_by_depth(net, params, 1, depths=(1, 2))
    assert all(s.accuracy >= 0.9 for s in scores), depth_table(scores, task.train_depths)
