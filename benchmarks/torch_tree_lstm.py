"""A level-batched child-sum Tree-LSTM classifier in PyTorch: bench_peers.py's peer of
specs/tree_lstm_classifier.yaml.

Tai, Socher & Manning 2015, "Improved Semantic Representations From
Tree-Structured Long Short-Term Memory Networks", Section 3.1, equations
(2)-(8), for a tree node j with children C(j) and input x_j:

    h~_j = sum_{k in C(j)} h_k                                     (2)
    i_j  = sigmoid(W_i x_j + U_i h~_j + b_i)                       (3)
    f_jk = sigmoid(W_f x_j + U_f h_k + b_f)                        (4)
    o_j  = sigmoid(W_o x_j + U_o h~_j + b_o)                       (5)
    u_j  = tanh   (W_u x_j + U_u h~_j + b_u)                       (6)
    c_j  = i_j * u_j + sum_{k in C(j)} f_jk * c_k                  (7)
    h_j  = o_j * tanh(c_j)                                         (8)

and y = softmax(R h_root + r), trained with the cross-entropy of the root's
class averaged over the trees (graphrnn's ``xent`` at the roots).  Leaves
read zeros for h~ and for the sum over children.

Level batching as graphrnn's tree engine does it (graphrnn/runtime/tree.py
over a graphrnn.trees.TreeBatch): rows are the batch's tree nodes sorted by
height, ``levels[h]`` the row range of height h; the input projections
W x + b (and W_f x_parent, the parent's row gathered by index) run for all
rows at once, then one batched step per level gathers each node's children
by index from the rows computed so far (the padded ``children`` table, -1
for none) and sums them.  f_jk is computed once per child k (from its own
h_k and its parent's input), as soon as h_k is, and the parent sums f_jk *
c_k with the children's h.

``TorchTreeLSTM.from_graphrnn(params, batch)`` loads graphrnn's parameters
and the batch's structure; ``graphrnn_grads()`` gives the torch gradients
under graphrnn's names.
"""
from __future__ import annotations

import numpy as np
import torch

GATES = ("i", "o", "u")


class TorchTreeLSTM(torch.nn.Module):
    """The classifier above over one fixed TreeBatch: ``loss(labels)`` -> scalar, labels (B,) int."""

    def __init__(self, inputs: int, hidden: int, classes: int, batch, dtype=torch.float64):
        super().__init__()
        H = hidden
        self.W_iou = torch.nn.Linear(inputs, 3 * H, dtype=dtype)          # W_i, W_o, W_u and their biases
        self.U_iou = torch.nn.Linear(H, 3 * H, bias=False, dtype=dtype)
        self.W_f = torch.nn.Linear(inputs, H, dtype=dtype)                 # W_f x_parent + b_f
        self.U_f = torch.nn.Linear(H, H, bias=False, dtype=dtype)
        self.R = torch.nn.Linear(H, classes, dtype=dtype)
        self.hidden, self.dtype = H, dtype
        self.x = torch.tensor(batch.x, dtype=dtype)
        self.levels = batch.levels
        # row r's k-th child at row children[r, k] + 1 of a stack with a zero row 0 (no child there)
        self.children = torch.tensor(np.where(batch.children >= 0, batch.children + 1, 0))
        self.parent = torch.tensor(batch.parent + 1)          # the root reads the zero row 0
        self.roots = torch.tensor(batch.roots)

    def forward(self):
        """Logits (B, classes) at the roots."""
        H = self.hidden
        x0 = torch.cat([torch.zeros(1, self.x.shape[1], dtype=self.dtype), self.x])
        iou_x = self.W_iou(self.x)                           # (N, 3H), all rows at once
        f_x = self.W_f(x0[self.parent])                       # (N, H), the parent's input
        h_all = fc_all = torch.zeros(1, H, dtype=self.dtype)    # row 0 reads zero: no child
        for start, stop in self.levels:
            if start:                                          # leaves (level 0) have no children
                kids = self.children[start:stop]
                h_sum = h_all[kids].sum(1)                      # (n, H): (2)
                fc_sum = fc_all[kids].sum(1)                    # sum_k f_jk * c_k
                iou = iou_x[start:stop] + self.U_iou(h_sum)
            else:
                iou, fc_sum = iou_x[start:stop], 0.0
            i, o, u = iou.split(H, dim=1)
            c = torch.sigmoid(i) * torch.tanh(u) + fc_sum                           # (7)
            h = torch.sigmoid(o) * torch.tanh(c)                                    # (8)
            f = torch.sigmoid(f_x[start:stop] + self.U_f(h))                        # (4), at child k
            h_all, fc_all = torch.cat([h_all, h]), torch.cat([fc_all, f * c])
        return self.R(h_all[self.roots + 1])

    def loss(self, labels):
        return torch.nn.functional.cross_entropy(self(), labels)

    @classmethod
    def from_graphrnn(cls, params: dict, batch, dtype=torch.float64) -> "TorchTreeLSTM":
        """The peer holding tree_lstm_classifier's parameters (graphrnn names), over ``batch``."""
        p = {k: np.asarray(v) for k, v in params.items()}
        inputs, hidden = p["x->cell.i"].shape
        module = cls(inputs, hidden, p["y.bias"].shape[0], batch, dtype)
        layout = {
            "W_iou.weight": np.concatenate([p[f"x->cell.{g}"] for g in GATES], axis=1).T,
            "W_iou.bias": np.concatenate([p[f"cell.{g}.bias"] for g in GATES]),
            "U_iou.weight": np.concatenate([p[f"cell.h->cell.{g}@children.sum"] for g in GATES], axis=1).T,
            "W_f.weight": p["x->cell.f@parent"].T, "W_f.bias": p["cell.f.bias"],
            "U_f.weight": p["cell.h->cell.f"].T,
            "R.weight": p["cell.h->y"].T, "R.bias": p["y.bias"],
        }
        with torch.no_grad():
            for name, value in layout.items():
                module.get_parameter(name).copy_(torch.tensor(value, dtype=dtype))
        return module

    def graphrnn_grads(self) -> dict:
        """The gradients after ``loss(...).backward()`` under graphrnn's parameter names (numpy)."""
        H = self.hidden
        g = {name: param.grad.double().numpy() for name, param in self.named_parameters()}
        out = {"x->cell.f@parent": g["W_f.weight"].T, "cell.f.bias": g["W_f.bias"],
               "cell.h->cell.f": g["U_f.weight"].T, "cell.h->y": g["R.weight"].T, "y.bias": g["R.bias"]}
        for k, gate in enumerate(GATES):
            rows = slice(k * H, (k + 1) * H)
            out[f"x->cell.{gate}"] = g["W_iou.weight"][rows].T
            out[f"cell.{gate}.bias"] = g["W_iou.bias"][rows]
            out[f"cell.h->cell.{gate}@children.sum"] = g["U_iou.weight"][rows].T
        return out
