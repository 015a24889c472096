"""The networks of the 1997 paper's Experiments 2a, 5 and 6a and their experiment and sweep files.

- each spec has the paper's weight count (Tables 2, 8, 9) and starts as Table 10 says;
- the 2a networks compute the paper's equations (a numpy transcription, written from Section 5.2);
- every experiment and sweep file for them loads, and its network fits its task.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.sweep import load_sweep
from graphrnn.train.experiment import load_experiment

ROOT = Path(__file__).resolve().parents[2]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize("name, weights", [
    ("lstm1997_long_lag", 10504),        # Table 2, LSTM
    ("rnn_long_lag", 10404),             # Table 2, RTRL and BPTT, p = 100
    ("lstm1997_multiplication", 93),     # Table 8
    ("lstm1997_temporal_order", 156),    # Table 9, Task 6a
])
def test_the_papers_weight_counts(name, weights):
    assert gr.load(ROOT / "specs" / f"{name}.yaml").num_params == weights


def test_initial_weights_are_the_papers():
    for name, r in (("lstm1997_long_lag", 0.2), ("rnn_long_lag", 0.2)):
        p = gr.load(ROOT / "specs" / f"{name}.yaml").init(5)
        assert all(np.all(np.abs(v) <= r) for v in p.values()) and not any(k.endswith("bias") for k in p)
    order = gr.load(ROOT / "specs" / "lstm1997_temporal_order.yaml").init(5)
    assert [float(order[f"block{k}.in_gate.bias"][0]) for k in (1, 2)] == [-2.0, -4.0]
    assert all(np.all(np.abs(v) <= 0.1) for k, v in order.items() if "in_gate.bias" not in k)
    product = gr.load(ROOT / "specs" / "lstm1997_multiplication.yaml")
    draws = [product.init(seed) for seed in range(3)]
    assert all(np.all(np.abs(v) <= 0.1) for p in draws for v in p.values())
    gates = {float(p["block1.in_gate.bias"][0]) for p in draws}
    assert len(gates) == 3, "the input-gate biases are drawn, not fixed as in the adding network"


def inputs(T=7, B=3, seed=0):
    rng = np.random.default_rng(seed)
    return np.eye(101)[rng.integers(0, 101, size=(T, B))]


def test_the_2a_lstm_computes_the_papers_equations():
    net = gr.load(ROOT / "specs" / "lstm1997_long_lag.yaml")
    p, x = net.init(1), inputs()
    s = np.zeros((x.shape[1], 1))
    want = []
    for x_t in x:
        s = s + sigmoid(x_t @ p["x->in_gate"]) * sigmoid(x_t @ p["x->cell_in"])   # CEC, g logistic
        want.append(sigmoid(x_t @ p["x->y"] + s @ p["cell->y"]))                     # h = identity
    np.testing.assert_allclose(net.run(p, x).y, np.array(want), rtol=1e-12, atol=1e-14)


def test_the_2a_recurrent_net_computes_the_papers_equations():
    net = gr.load(ROOT / "specs" / "rnn_long_lag.yaml")
    p, x = net.init(1), inputs(seed=1)
    h = np.zeros((x.shape[1], 1))
    want = []
    for x_t in x:
        h = sigmoid(x_t @ p["x->h"] + h @ p["h->h@1"])
        want.append(sigmoid(x_t @ p["x->y"] + h @ p["h->y"]))
    np.testing.assert_allclose(net.run(p, x).y, np.array(want), rtol=1e-12, atol=1e-14)


EXPERIMENTS = {"long_lag_lstm1997": ("lstm1997_long_lag", "long_lag_2a", 1.0),
               "long_lag_rnn_bptt": ("rnn_long_lag", "long_lag_2a", 1.0),
               "long_lag_rnn_rtrl": ("rnn_long_lag", "long_lag_2a", 1.0),
               "temporal_order_lstm1997": ("lstm1997_temporal_order", "temporal_order_6a", 0.5),
               "multiplication_lstm1997": ("lstm1997_multiplication", "multiplication", 0.1)}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_the_experiment_files_load(name):
    network, task, lr = EXPERIMENTS[name]
    exp = load_experiment(ROOT / "experiments" / f"{name}.yaml")
    setup = exp.build()
    assert setup.net.name == network and setup.task.name == task and setup.optimizer.lr == lr
    plan = exp.plan(seed=0)
    assert plan.batch == 1 and plan.loss == "sse"     # online learning on the paper's error


@pytest.mark.parametrize("name", ["long_lag_lstm1997", "long_lag_rnn_bptt", "long_lag_rnn_rtrl",
                                  "temporal_order", "multiplication"])
def test_the_sweep_files_load(name):
    sweep = load_sweep(ROOT / "examples" / "reproductions" / "sweeps" / f"{name}.yaml")
    assert sweep.seeds
