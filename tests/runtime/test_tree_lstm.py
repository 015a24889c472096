"""The child-sum Tree-LSTM module (specs/tree_lstm.yaml) against Tai et al.'s equations, written out in numpy.

The forget gate f_jk = sigmoid(W_f x_j + U_f h_k + b_f) reads the parent's input x_j.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import graphrnn as gr
from graphrnn.testing.strategies import sane_params, trees
from graphrnn.trees import TreeBatch, Vocabulary

TOKENS = ("T", "F", "and", "or", "xor")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference(p, tree, onehot):
    """(h, c) of the root by the module docstring's equations, recursively (small trees only)."""
    def gate(name, x, h_sum, act):
        return act(x @ p[f"x->cell.{name}"] + h_sum @ p[f"cell.h->cell.{name}@children.sum"] + p[f"cell.{name}.bias"])

    def node(t, parent_x):
        x = onehot[t.label]
        kids = [node(k, x) for k in t.children]       # (h, c, f_jk) of each child
        size = p["cell.i.bias"].shape[0]
        h_sum = sum((k[0] for k in kids), np.zeros(size))
        i, o, u = gate("i", x, h_sum, sigmoid), gate("o", x, h_sum, sigmoid), gate("u", x, h_sum, np.tanh)
        c = i * u + sum((k[2] * k[1] for k in kids), np.zeros(size))
        h = o * np.tanh(c)
        f = sigmoid(parent_x @ p["x->cell.f@parent"] + h @ p["cell.h->cell.f"] + p["cell.f.bias"])
        return h, c, f
    return node(tree, np.zeros(len(onehot)))


@settings(max_examples=15)
@given(forest=st.lists(trees(labels=TOKENS, max_children=4, max_nodes=14), min_size=1, max_size=3),
       seed=st.integers(0, 2**16))
def test_tree_lstm_matches_its_equations(forest, seed):
    net = gr.load("tree_lstm_classifier")
    params = sane_params(net, seed)
    vocab = Vocabulary(TOKENS)
    onehot = {t: row for t, row in zip(TOKENS, np.eye(len(TOKENS)))}
    trace = net.run(params, TreeBatch.of(forest, vocab))
    for b, tree in enumerate(forest):
        h, c, _ = reference(params, tree, onehot)
        root = trace.batch.roots[b]
        np.testing.assert_allclose(trace["cell.h"][root], h, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(trace["cell.c"][root], c, rtol=1e-12, atol=1e-14)
        y = h @ params["cell.h->y"] + params["y.bias"]
        np.testing.assert_allclose(trace.y[b], np.exp(y) / np.sum(np.exp(y)), rtol=1e-12)


def test_tree_lstm_takes_any_number_of_children():
    net = gr.load("tree_lstm_classifier")
    assert net.max_arity is None
    batch = net.batch(["(and T F T F T F)", "T"], Vocabulary(TOKENS))
    assert np.asarray(net.run(net.init(0), batch).y).shape == (2, 2)
