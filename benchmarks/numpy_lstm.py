"""What a numpy engine can reach: an LSTM loss and gradient written by hand, with the step loop in Python.

The column "minimal numpy LSTM" of bench_peers.py.  It computes exactly what
graphrnn's one-layer `lstm` network computes with the mse loss (gates i, f,
g, o; h0 = c0 = 0; loss = mean over (T, B, H) of (h - target)^2) and its
gradient, written the way a careful numpy programmer would:

- buffers allocated once per shape and reused across calls;
- the input projection as one GEMM before the loop, the weight gradients as
  one GEMM each after it;
- the three sigmoid gates contiguous, so one call squashes them;
- every elementwise operation in place (``out=``).

Weights use the layout of lstm_baselines.hand_params: wx (I, 4H), wh (H, 4H),
b (4H,), gate blocks in the order i, f, g, o.
"""
from __future__ import annotations

import numpy as np


class NumpyLSTM:
    """loss_and_grad(p, x (T, B, I), target (T, B, H)) -> (loss, {wx, wh, b}) with reused buffers."""

    def __init__(self):
        self.shape = None

    def _buffers(self, T, B, I, H, dtype):
        if self.shape == (T, B, I, H, dtype):
            return
        self.shape = (T, B, I, H, dtype)
        self.gates = np.empty((T, B, 4 * H), dtype)     # order i, f, o (sigmoid), g (tanh)
        self.c = np.empty((T + 1, B, H), dtype)          # c[0] = c0 = 0
        self.h = np.empty((T + 1, B, H), dtype)          # h[0] = h0 = 0
        self.tanh_c = np.empty((T, B, H), dtype)
        self.d_gates = np.empty((T, B, 4 * H), dtype)
        self.dh = np.empty((B, H), dtype)
        self.dc = np.empty((B, H), dtype)
        self.tmp = np.empty((B, H), dtype)
        self.tmp2 = np.empty((B, H), dtype)
        self.err = np.empty((T, B, H), dtype)

    def loss_and_grad(self, p, x, target):
        """(loss, gradients of wx, wh, b) in the gate order i, f, g, o of ``p``."""
        T, B, I = x.shape
        H = p["wh"].shape[0]
        dtype = x.dtype
        self._buffers(T, B, I, H, dtype)
        # our internal order puts the three sigmoid gates first: i, f, o, g
        order = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]
        wx, wh, b = p["wx"][:, order], p["wh"][:, order], p["b"][order]
        gates, c, h, tanh_c = self.gates, self.c, self.h, self.tanh_c
        np.matmul(x.reshape(T * B, I), wx, out=gates.reshape(T * B, 4 * H))
        gates += b
        c[0] = 0.0
        h[0] = 0.0
        S = 3 * H
        for t in range(T):
            a = gates[t]
            a += h[t] @ wh
            sig = a[:, :S]
            np.multiply(sig, 0.5, out=sig)           # sigmoid(a) = 0.5 * (tanh(a / 2) + 1)
            np.tanh(sig, out=sig)
            sig += 1.0
            sig *= 0.5
            np.tanh(a[:, S:], out=a[:, S:])
            i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:S], a[:, S:]
            np.multiply(f, c[t], out=c[t + 1])
            np.multiply(i, g, out=self.tmp)
            c[t + 1] += self.tmp
            np.tanh(c[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=h[t + 1])
        err = self.err
        np.subtract(h[1:], target, out=err)
        loss = float(np.vdot(err, err)) / err.size
        err *= 2.0 / err.size                            # d loss / d h_t
        d_gates, dh, dc, tmp, tmp2 = self.d_gates, self.dh, self.dc, self.tmp, self.tmp2
        dh[...] = 0.0
        dc[...] = 0.0
        for t in reversed(range(T)):
            a, da = gates[t], d_gates[t]
            i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:S], a[:, S:]
            di, df, do, dg = da[:, :H], da[:, H:2 * H], da[:, 2 * H:S], da[:, S:]
            dh += err[t]
            np.multiply(dh, tanh_c[t], out=do)            # d o
            np.multiply(dh, o, out=tmp)                    # d tanh(c)
            np.multiply(tanh_c[t], tanh_c[t], out=tmp2)
            np.subtract(1.0, tmp2, out=tmp2)
            tmp *= tmp2
            dc += tmp                                      # d c_t
            np.multiply(dc, g, out=di)
            np.multiply(dc, c[t], out=df)
            np.multiply(dc, i, out=dg)
            dc *= f                                        # d c_{t-1}
            # through the squashing functions
            sig, dsig = a[:, :S], da[:, :S]
            dsig *= sig
            np.subtract(1.0, sig, out=sig)                 # the forward values are not read again
            dsig *= sig
            np.multiply(g, g, out=tmp2)
            np.subtract(1.0, tmp2, out=tmp2)
            dg *= tmp2
            np.matmul(da, wh.T, out=dh)                    # d h_{t-1}
        flat = d_gates.reshape(T * B, 4 * H)
        g_wx = x.reshape(T * B, I).T @ flat
        g_wh = h[:T].reshape(T * B, H).T @ flat
        g_b = flat.sum(axis=0)
        back = np.argsort(order)
        return loss, {"wx": g_wx[:, back], "wh": g_wh[:, back], "b": g_b[back]}
