"""A Neural Turing Machine in PyTorch, written from the paper: bench_peers.py's peer of specs/ntm_copy.yaml.

Graves, Wayne & Danihelka 2014, "Neural Turing Machines" (arXiv:1410.5401),
Section 3, with an LSTM controller, one read head and one write head (the
copy network of Section 4.1).  Per step t, batch B, N slots of width M, S
shift offsets -(S//2) .. S//2:

    h_t, c_t = LSTMCell([x_t, r_{t-1}], (h_{t-1}, c_{t-1}))       controller
    raw_t    = h_t W_heads + b_heads                               each head's raw parameters
    for each head:  k (key), beta = softplus, g = sigmoid, s = softmax over S, gamma = 1 + softplus
      w^c_i = softmax_i(beta K(k, M_{t-1}(i)))                     (5), K = cosine similarity (6)
      w^g   = g w^c + (1 - g) w_{t-1}                              (7)
      w~_i  = sum_j w^g_j s_{(i - j) mod N}                        (8), circular
      w_i   = w~_i^gamma / sum_j w~_j^gamma                        (9)
    r_t = sum_i w^r_i M_{t-1}(i)                                   (2)
    M_t(i) = M_{t-1}(i) (1 - w^w_i e) + w^w_i a,  e = sigmoid      (3), (4)
    y_t = sigmoid(h_t W_hy + r_t W_ry + b_y)

As graphrnn's memory node (graphrnn/ops/ntm.py) does, and as the paper
leaves open: every head addresses M_{t-1} and the read precedes the write;
the cosine's norms are sqrt(|v|^2 + eps^2) and the sharpening is computed as
softmax(gamma log(w~ + eps)) (eps = 1e-8; the same value as (9) with
(w~ + eps)^gamma); the memory starts at the constant 1e-6 (Collier & Beel
2018; not learned), both heads' weightings on slot 0, the read vector and
the controller's state at zero.  graphrnn's LSTM has one bias per gate, so
the cell's ``bias_hh`` is held at zero and not trained.

``TorchNTM.from_graphrnn(params)`` loads graphrnn's parameters of ntm_copy;
``graphrnn_grads()`` lays the torch gradients out under graphrnn's names, so
the two can be compared entry by entry.  ``loss(x, target, mask)`` is
graphrnn's masked ``bce``: the mean over the 8 units and over the positions
where ``mask`` is 1 of the binary cross-entropy of the sigmoid output
(computed from the logits).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

EPS = 1e-8
GATES = ("i", "f", "g", "o")      # nn.LSTMCell's row blocks, and graphrnn's lstm gates


class TorchNTM(torch.nn.Module):
    """The NTM above.  x (T, B, inputs) -> logits of y (T, B, outputs)."""

    def __init__(self, inputs=9, outputs=8, controller=100, slots=128, width=20, shifts=3,
                 memory_init=1e-6, dtype=torch.float64):
        super().__init__()
        self.N, self.M, self.S, self.memory_init = slots, width, shifts, memory_init
        self.read_size = width + 3 + shifts            # key, beta, g, s, gamma
        self.write_size = self.read_size + 2 * width   # ... erase, add
        self.controller = torch.nn.LSTMCell(inputs + width, controller, dtype=dtype)
        self.controller.bias_hh.requires_grad_(False)
        self.heads = torch.nn.Linear(controller, self.read_size + self.write_size, dtype=dtype)
        self.out = torch.nn.Linear(controller + width, outputs, dtype=dtype)
        with torch.no_grad():
            self.controller.bias_hh.zero_()

    def address(self, memory, previous, raw):
        """One head's weighting (B, N) from memory (B, N, M), its last weighting (B, N), raw (B, M+3+S)."""
        M, S = self.M, self.S
        key, beta, g, s, gamma = raw.split([M, 1, 1, S, 1], dim=-1)
        beta, g, s, gamma = F.softplus(beta), torch.sigmoid(g), torch.softmax(s, dim=-1), 1.0 + F.softplus(gamma)
        dots = torch.bmm(memory, key.unsqueeze(-1)).squeeze(-1)
        norms = torch.sqrt((memory * memory).sum(-1) + EPS ** 2) * torch.sqrt((key * key).sum(-1, keepdim=True)
                                                                             + EPS ** 2)
        content = torch.softmax(beta * dots / norms, dim=-1)
        gated = g * content + (1.0 - g) * previous
        half = S // 2
        rolled = torch.stack([torch.roll(gated, k, dims=-1) for k in range(-half, half + 1)], dim=-1)  # (B, N, S)
        shifted = torch.bmm(rolled, s.unsqueeze(-1)).squeeze(-1)
        return torch.softmax(gamma * torch.log(shifted + EPS), dim=-1)

    def forward(self, x):
        T, B, _ = x.shape
        memory = torch.full((B, self.N, self.M), self.memory_init, dtype=x.dtype)
        w_read = torch.zeros(B, self.N, dtype=x.dtype)
        w_read[:, 0] = 1.0
        w_write = w_read.clone()
        r = torch.zeros(B, self.M, dtype=x.dtype)
        h = torch.zeros(B, self.controller.hidden_size, dtype=x.dtype)
        c = torch.zeros_like(h)
        R = self.read_size
        logits = []
        for t in range(T):
            h, c = self.controller(torch.cat([x[t], r], dim=-1), (h, c))
            read_raw, write_raw, erase, add = self.heads(h).split([R, R, self.M, self.M], dim=-1)
            w_read = self.address(memory, w_read, read_raw)
            w_write = self.address(memory, w_write, write_raw)
            r = torch.bmm(w_read.unsqueeze(1), memory).squeeze(1)
            erase, add = torch.sigmoid(erase).unsqueeze(1), add.unsqueeze(1)
            ww = w_write.unsqueeze(-1)
            memory = memory * (1.0 - ww * erase) + ww * add
            logits.append(self.out(torch.cat([h, r], dim=-1)))
        return torch.stack(logits)

    def loss(self, x, target, mask):
        """graphrnn's masked bce: x (T, B, I), target (T, B, O), mask (T, B) -> scalar."""
        per_position = F.binary_cross_entropy_with_logits(self(x), target, reduction="none").mean(-1)
        return (per_position * mask).sum() / torch.clamp(mask.sum(), min=1.0)

    @classmethod
    def from_graphrnn(cls, params: dict, slots=128, memory_init=1e-6, dtype=torch.float64) -> "TorchNTM":
        """The NTM holding graphrnn's ntm_copy parameters (names as ``gr.load("ntm_copy").init()`` gives);
        ``slots`` and ``memory_init`` are the memory node's options (not parameters)."""
        p = {k: np.asarray(v) for k, v in params.items()}
        controller, width = p["controller.i.bias"].shape[0], p["mem->y"].shape[0]
        heads = p["controller.h->mem.read1"].shape[1]
        shifts = heads - width - 3
        module = cls(inputs=p["x->controller.i"].shape[0], outputs=p["y.bias"].shape[0], controller=controller,
                     slots=slots, width=width, shifts=shifts, memory_init=memory_init, dtype=dtype)
        with torch.no_grad():
            for name, value in _torch_layout(p).items():
                module.get_parameter(name).copy_(torch.tensor(value, dtype=dtype))
        return module

    def graphrnn_grads(self) -> dict:
        """The gradients after ``loss(...).backward()`` under graphrnn's parameter names (numpy)."""
        M = self.M
        wih = self.controller.weight_ih.grad.numpy()
        whh = self.controller.weight_hh.grad.numpy()
        bias = self.controller.bias_ih.grad.numpy()
        H = whh.shape[1]
        out = {}
        for k, gate in enumerate(GATES):
            rows = slice(k * H, (k + 1) * H)
            inputs = wih.shape[1] - M
            out[f"x->controller.{gate}"] = wih[rows, :inputs].T
            out[f"mem->controller.{gate}@1"] = wih[rows, inputs:].T
            out[f"controller.h->controller.{gate}@1"] = whh[rows].T
            out[f"controller.{gate}.bias"] = bias[rows]
        heads = self.heads.weight.grad.numpy().T
        out["controller.h->mem.read1"] = heads[:, :self.read_size]
        out["controller.h->mem.write1"] = heads[:, self.read_size:]
        out["mem.bias"] = self.heads.bias.grad.numpy()
        readout = self.out.weight.grad.numpy().T
        out["controller.h->y"] = readout[:H]
        out["mem->y"] = readout[H:]
        out["y.bias"] = self.out.bias.grad.numpy()
        return out


def _torch_layout(p: dict) -> dict:
    """graphrnn's ntm_copy parameters as the torch module's (name -> array)."""
    return {
        "controller.weight_ih": np.concatenate([np.concatenate([p[f"x->controller.{g}"], p[f"mem->controller.{g}@1"]])
                                                for g in GATES], axis=1).T,
        "controller.weight_hh": np.concatenate([p[f"controller.h->controller.{g}@1"] for g in GATES], axis=1).T,
        "controller.bias_ih": np.concatenate([p[f"controller.{g}.bias"] for g in GATES]),
        "heads.weight": np.concatenate([p["controller.h->mem.read1"], p["controller.h->mem.write1"]], axis=1).T,
        "heads.bias": p["mem.bias"],
        "out.weight": np.concatenate([p["controller.h->y"], p["mem->y"]]).T,
        "out.bias": p["y.bias"],
    }
