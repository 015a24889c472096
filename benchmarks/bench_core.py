"""Forward+backward time of compiled specs vs the same nets hand-written in autograd.numpy.

Run by hand:  python benchmarks/bench_core.py [--repeats N]

Each row times one loss-and-gradient evaluation (median of N runs, after one
warm-up) of the compiled spec and of a hand-written autograd.numpy model with
the same parameters, checks that the two losses agree, and prints the ratio
compiled / hand-written (below 1 means graphrnn is faster).
"""
from __future__ import annotations

import argparse
import time

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad

import graphrnn as gr

from timing import median_time  # benchmarks/, on sys.path when run as a script


def elman_yaml(inputs: int, hidden: int, outputs: int) -> str:
    return f"""graphrnn: 1
name: elman_{inputs}_{hidden}
inputs: {{x: {inputs}}}
outputs: {{y: {outputs}}}
nodes:
  h: {{size: {hidden}, activation: tanh}}
  y: {{size: {outputs}, activation: sigmoid}}
edges:
  - {{from: x, to: h}}
  - {{from: h, to: h, delay: 1, init: orthogonal}}
  - {{from: h, to: y}}
"""


def fully_recurrent_yaml(units: int, inputs: int = 2) -> str:
    names = [f"u{i}" for i in range(1, units + 1)]
    listed = "[" + ", ".join(names) + "]"
    nodes = "\n".join(f"  {n}: {{size: 1, activation: sigmoid}}" for n in names)
    return f"""graphrnn: 1
name: fully_recurrent_{units}
inputs: {{x: {inputs}}}
outputs: {{u1: 1, u2: 1}}
nodes:
{nodes}
edges:
  - {{from: x, to: {listed}}}
  - {{from: {listed}, to: {listed}, delay: 1, init: {{uniform: 0.25}}}}
"""


def sigmoid(a):
    return 0.5 * (anp.tanh(0.5 * a) + 1.0)


def hand_elman(p, x, target):
    """The Elman net written directly: one step per loop iteration, output per step."""
    h = anp.zeros((x.shape[1], p["whh"].shape[0]))
    loss = 0.0
    for t in range(x.shape[0]):
        h = anp.tanh(anp.dot(x[t], p["wxh"]) + anp.dot(h, p["whh"]) + p["bh"])
        y = sigmoid(anp.dot(h, p["why"]) + p["by"])
        loss = loss + anp.sum((y - target[t]) ** 2)
    return loss / target.size


def hand_fully_recurrent(p, x, target):
    """The fully recurrent net as one N-unit layer; outputs are units 1 and 2."""
    u = anp.zeros((x.shape[1], p["w"].shape[0]))
    loss = 0.0
    for t in range(x.shape[0]):
        u = sigmoid(anp.dot(x[t], p["v"]) + anp.dot(u, p["w"]) + p["b"])
        loss = loss + anp.sum((u[:, :2] - target[t]) ** 2)
    return loss / target.size


def unit_params(net, params, units):
    names = [f"u{i}" for i in range(1, units + 1)]
    w = np.array([[params[f"{a}->{b}@1"][0, 0] for b in names] for a in names])
    v = np.concatenate([params[f"x->{b}"] for b in names], axis=1)
    b = np.concatenate([params[f"{n}.bias"] for n in names])
    return {"w": w, "v": v, "b": b}


def row(label, net, params, hand, hand_params, x, target, repeats):
    compiled = value_and_grad(lambda p: net.loss(p, x, target, kind="mse"))
    written = value_and_grad(lambda p: hand(p, x, target))
    a, b = compiled(params)[0], written(hand_params)[0]
    assert abs(a - b) < 1e-9 * max(1.0, abs(b)), (label, a, b)
    t_compiled = median_time(lambda: compiled(params), repeats)
    t_hand = median_time(lambda: written(hand_params), repeats)
    print(f"{label:<42} {t_compiled * 1e3:>10.2f} {t_hand * 1e3:>10.2f} {t_compiled / t_hand:>7.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"{'loss+grad, median of ' + str(args.repeats):<42} {'graphrnn ms':>10} {'hand ms':>10} {'ratio':>7}")
    for inputs, hidden, batch, steps in [(8, 32, 16, 50), (32, 128, 32, 100), (8, 8, 1, 200)]:
        net = gr.loads(elman_yaml(inputs, hidden, 4))
        params = net.init(seed=0)
        hand_params = {"wxh": params["x->h"], "whh": params["h->h@1"], "bh": params["h.bias"],
                       "why": params["h->y"], "by": params["y.bias"]}
        x = rng.normal(size=(steps, batch, inputs))
        target = rng.uniform(size=(steps, batch, 4))
        row(f"elman I={inputs} H={hidden} B={batch} T={steps}", net, params, hand_elman,
            hand_params, x, target, args.repeats)
    for units, batch, steps in [(16, 8, 50), (64, 8, 50)]:
        net = gr.loads(fully_recurrent_yaml(units))
        params = net.init(seed=0)
        x = rng.normal(size=(steps, batch, 2))
        target = rng.uniform(size=(steps, batch, 2))
        row(f"fully_recurrent unit-level N={units} B={batch} T={steps}", net, params,
            hand_fully_recurrent, unit_params(net, params, units), x, target, args.repeats)
    start = time.perf_counter()
    gr.loads(fully_recurrent_yaml(64))
    print(f"compile time, unit-level N=64 (4096 edges): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
