"""Small predictor specs and a plain-numpy Elman oracle shared by the compressor tests."""
from __future__ import annotations

import numpy as np

import graphrnn as gr
from graphrnn.models import ArgmaxSurprise, HistoryCompressor, Level, ThresholdSurprise


def elman_text(name: str, inputs: int, outputs: int, hidden: int = 5) -> str:
    return f"""
graphrnn: 1
name: {name}
inputs: {{x: {inputs}}}
outputs: {{y: {outputs}}}
nodes:
  h: {{size: {hidden}, activation: tanh}}
  y: {{size: {outputs}, activation: sigmoid}}
edges:
  - {{from: x, to: h}}
  - {{from: h, to: h, delay: 1}}
  - {{from: h, to: y}}
"""


def elman(inputs: int, outputs: int, hidden: int = 5, name: str = "p"):
    return gr.loads(elman_text(name, inputs, outputs, hidden), f"{name}.yaml")


def scaled(net, seed: int, scale: float) -> dict:
    """net.init(seed) with every weight multiplied by ``scale`` (large scales: confident predictions)."""
    return {k: v * scale for k, v in net.init(seed).items()}


def compressor(nets, seed: int, scale: float, criterion: str, time_codes: int) -> HistoryCompressor:
    make = ArgmaxSurprise if criterion == "argmax" else (lambda: ThresholdSurprise(0.3))
    return HistoryCompressor([Level(net, scaled(net, seed + k, scale), make()) for k, net in enumerate(nets)],
                             time_codes)


def elman_predictions(params, x) -> np.ndarray:
    """The oracle: a direct numpy loop of h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), y_t = sigmoid(h_t W_hy + b_y).

    x (T, I) -> y (T, O); y_t is the prediction of x_{t+1}.
    """
    h = np.zeros(params["h->h@1"].shape[0])
    out = []
    for t in range(len(x)):
        h = np.tanh(x[t] @ params["x->h"] + h @ params["h->h@1"] + params["h.bias"])
        out.append(1.0 / (1.0 + np.exp(-(h @ params["h->y"] + params["y.bias"]))))
    return np.array(out)


def elman_hidden(params, x) -> np.ndarray:
    """The oracle's hidden states h_t (T, H) for x (T, I)."""
    h = np.zeros(params["h->h@1"].shape[0])
    out = []
    for t in range(len(x)):
        h = np.tanh(x[t] @ params["x->h"] + h @ params["h->h@1"] + params["h.bias"])
        out.append(h)
    return np.array(out)
