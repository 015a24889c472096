"""The LSTM that bench_cells.py and bench_engines.py time graphrnn's `lstm` module against.

``lstm_yaml`` is the one-layer network of the library module; ``hand_lstm``
is the same function hand-written in autograd.numpy, whose parameters
``hand_params`` lays out from graphrnn's; ``torch_lstm`` is PyTorch's
``nn.LSTM`` loaded with those weights.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np


def lstm_yaml(inputs: int, hidden: int) -> str:
    return f"""graphrnn: 1
name: lstm_{inputs}_{hidden}
inputs: {{x: {inputs}}}
outputs: {{cell.h: {hidden}}}
nodes:
  cell: {{use: lstm, size: {hidden}}}
edges:
  - {{from: x, to: cell}}
"""


def sigmoid(a):
    return 0.5 * (anp.tanh(0.5 * a) + 1.0)


def hand_lstm(p, x, target):
    """An LSTM as one would write it in autograd.numpy: gates in one matmul per step."""
    B, H = x.shape[1], p["wh"].shape[0]
    h, c = anp.zeros((B, H)), anp.zeros((B, H))
    xs = anp.dot(anp.reshape(x, (-1, x.shape[2])), p["wx"]) + p["b"]
    xs = anp.reshape(xs, (x.shape[0], B, 4 * H))
    loss = 0.0
    for t in range(x.shape[0]):
        a = xs[t] + anp.dot(h, p["wh"])
        i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), anp.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c = f * c + i * g
        h = o * anp.tanh(c)
        loss = loss + anp.sum((h - target[t]) ** 2)
    return loss / target.size


def hand_params(params):
    gates = ["i", "f", "g", "o"]
    return {"wx": np.concatenate([params[f"x->cell.{k}"] for k in gates], axis=1),
            "wh": np.concatenate([params[f"cell.h->cell.{k}@1"] for k in gates], axis=1),
            "b": np.concatenate([params[f"cell.{k}.bias"] for k in gates])}


def torch_lstm(hp, x, target, dtype):
    """A closure running loss+grad of nn.LSTM with the hand-layout weights ``hp``; returns the loss."""
    import torch
    I, H = x.shape[2], hp["wh"].shape[0]
    module = torch.nn.LSTM(I, H).to(dtype)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(hp["wx"].T))
        module.weight_hh_l0.copy_(torch.tensor(hp["wh"].T))
        module.bias_ih_l0.copy_(torch.tensor(hp["b"]))
        module.bias_hh_l0.zero_()
    xt, tt = torch.tensor(x, dtype=dtype), torch.tensor(target, dtype=dtype)

    def run():
        module.zero_grad()
        out, _ = module(xt)
        loss = ((out - tt) ** 2).mean()
        loss.backward()
        return loss.item()
    return run
