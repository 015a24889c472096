"""Tree data: s-expressions, nested lists and JSON; vocabularies; level-ordered batches."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphrnn.errors import SpecError
from graphrnn.testing.strategies import trees
from graphrnn.trees import (Tree, TreeBatch, Vocabulary, from_nested, parse_json, parse_sexpr, parse_sexprs,
                            read_trees)


def test_sexpr_head_labels():
    tree = parse_sexpr("(+ 3 (* 2 4))")
    assert tree == Tree("+", (Tree("3"), Tree("*", (Tree("2"), Tree("4")))))
    assert (tree.height, tree.size, str(tree)) == (2, 5, "(+ 3 (* 2 4))")


def test_sexpr_without_labels_and_comments():
    tree = parse_sexpr("((the cat) ; a comment\n sat)", labels="none")
    assert tree == Tree(None, (Tree(None, (Tree("the"), Tree("cat"))), Tree("sat")))
    assert str(tree) == "((the cat) sat)"


def test_sexpr_locations():
    text = "(+ 3\n   (* 2 4))"
    tree = parse_sexpr(text, "t.txt")
    assert str(tree.loc) == "t.txt:1:2"
    assert str(tree.children[1].loc) == "t.txt:2:5"
    assert str(tree.children[1].children[1].loc) == "t.txt:2:9"


def test_several_trees_in_one_text():
    assert [str(t) for t in parse_sexprs("(a b)\n c (d (e f))")] == ["(a b)", "c", "(d (e f))"]


@pytest.mark.parametrize("text, where, words", [
    ("(+ 3 (* 2 4)", (1, 1), "never closed"),
    ("(+ 3 (* 2\n 4)", (1, 1), "never closed"),
    ("(a b))", (1, 6), "without a matching"),
    ("(a ())", (1, 4), "`()`"),
])
def test_malformed_sexprs_are_located(text, where, words):
    with pytest.raises(SpecError) as info:
        parse_sexprs(text, "bad.txt")
    assert info.value.code == "GR121"
    assert str(info.value).startswith(f"bad.txt:{where[0]}:{where[1]}: error GR121")
    assert words in info.value.message and info.value.fix


def test_one_tree_expected():
    with pytest.raises(SpecError, match="text after the end"):
        parse_sexpr("(a b) (c d)")
    with pytest.raises(SpecError, match="no tree"):
        parse_sexpr("  ; nothing\n")


def test_nested_lists_and_objects_agree_with_sexprs():
    want = parse_sexpr("(+ 3 (* 2 4))")
    assert from_nested(["+", 3, ["*", 2, 4]]) == want
    assert from_nested({"label": "+", "children": [{"label": 3}, ["*", 2, 4]]}) == want
    assert from_nested([["the", "cat"], "sat"], labels="none") == parse_sexpr("((the cat) sat)", labels="none")


def test_json_trees_keep_locations(tmp_path):
    path = tmp_path / "trees.json"
    path.write_text('{"trees": [\n  ["+", 1, 2],\n  {"label": "x", "children": [["y", 1]]}\n]}\n')
    first, second = read_trees(path)
    assert str(first) == "(+ 1 2)" and str(second) == "(x (y 1))"
    assert str(second.loc) == f"{path}:3:3"
    assert str(first.children[1].loc) == f"{path}:2:12"


@pytest.mark.parametrize("text, words", [
    ('["+", 1, [2]', "not valid JSON"),
    ('{"label": "+", "kids": []}', "not `kids`"),
    ('{"label": [1], "children": []}', "must be a token"),
    ('["+", 1, []]', "empty list"),
    ('{"label": "+", "children": 3}', "must be a list"),
])
def test_malformed_json_is_located(text, words):
    with pytest.raises(SpecError) as info:
        parse_json(text, "bad.json")
    assert info.value.code == "GR121" and words in info.value.message
    assert str(info.value).startswith("bad.json:1:")


def test_sexpr_files(tmp_path):
    path = tmp_path / "trees.txt"
    path.write_text("(and T F)\n(or T\n  (xor F F))\n")
    assert [t.height for t in read_trees(path)] == [1, 2]


def test_unknown_token_is_located_with_did_you_mean():
    vocab = Vocabulary(["and", "or", "T", "F"])
    with pytest.raises(SpecError) as info:
        TreeBatch.of([parse_sexpr("(and T\n (orr F T))", "data.txt")], vocab)
    assert info.value.code == "GR122"
    assert str(info.value).startswith("data.txt:2:3: error GR122")
    assert "did you mean `or`" in info.value.message


def test_unknown_tokens_may_map_to_a_stand_in():
    vocab = Vocabulary(["a", "<unk>"], unknown="<unk>")
    batch = TreeBatch.of(["(a zzz)"], vocab)
    assert batch.x.tolist() == [[0, 1], [1, 0]]


def test_vocabulary_from_trees_and_unlabelled_nodes_read_zeros():
    forest = [parse_sexpr("((a b) c)", labels="none")]
    vocab = Vocabulary.from_trees(forest)
    assert vocab.tokens == ("a", "b", "c")
    batch = TreeBatch.of(forest, vocab)
    assert batch.x[batch.roots[0]].tolist() == [0, 0, 0]


def test_batch_layout():
    vocab = Vocabulary(["+", "*", "2", "3", "4"])
    batch = TreeBatch.of(["(+ 3 (* 2 4))", "(* 3 3)", "4"], vocab)
    assert (batch.size, batch.batch, batch.height) == (9, 3, 2)
    assert batch.levels == ((0, 6), (6, 8), (8, 9))
    assert batch.children.shape == (9, 2)
    for row, kids in enumerate(batch.children):
        for kid in kids[kids >= 0]:
            assert kid < row and batch.heights[kid] < batch.heights[row]
    labels = [[batch.nodes[r].label for r in rows] for rows in batch.preorder]
    assert labels == [["+", "3", "*", "2", "4"], ["*", "3", "3"], ["4"]]
    assert batch.arity[batch.roots].tolist() == [2, 2, 0]


@given(forest=st.lists(trees(max_children=3), min_size=1, max_size=4))
def test_batches_of_random_trees_are_level_ordered(forest):
    batch = TreeBatch.of(forest, Vocabulary(["a", "b"]))
    assert batch.size == sum(t.size for t in forest)
    assert batch.height == max(t.height for t in forest)
    for h, (start, stop) in enumerate(batch.levels):
        assert np.all(batch.heights[start:stop] == h)
        kids = batch.children[start:stop]
        assert np.all(kids < start)
    rebuilt = batch.per_tree(np.arange(batch.size))
    assert np.array_equal(batch.from_per_tree(rebuilt), np.arange(batch.size))
    for tree, rows in zip(forest, batch.preorder):
        assert [n.label for n in tree.preorder()] == [batch.nodes[r].label for r in rows]


@given(tree=trees(max_depth=5, max_children=3))
def test_printing_and_parsing_round_trip(tree):
    assert parse_sexpr(str(tree)) == tree


@given(tree=trees(max_depth=3, max_children=2, max_nodes=10))
def test_the_strategy_respects_its_bounds(tree):
    assert tree.height <= 3 and tree.size <= 10
    assert all(len(n.children) <= 2 for n in tree.preorder())
