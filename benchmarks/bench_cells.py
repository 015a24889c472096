"""The compiled `lstm` spec vs PyTorch nn.LSTM and a hand-written autograd LSTM.

Run by hand:  python benchmarks/bench_cells.py [--repeats N]

Each row times one loss-and-gradient evaluation (mse of the hidden sequence
against a fixed target; median of N runs after a warm-up) at (I, H, B, T)
for: graphrnn (float64, the default fused engine), a hand-written
autograd.numpy LSTM with the same parameters, PyTorch nn.LSTM on the CPU in
float64 and float32, and the BLAS floor (the same matmuls, forward and
backward, timed alone in numpy).  Losses are checked equal before timing.
Ratios are graphrnn / other (below 1: graphrnn is faster).
"""
from __future__ import annotations

import argparse

import numpy as np
from autograd import value_and_grad

import graphrnn as gr

# benchmarks/, on sys.path when run as a script
from lstm_baselines import hand_lstm, hand_params, lstm_yaml, torch_lstm
from timing import median_time

SIZES = [(8, 32, 16, 50), (32, 128, 32, 100), (64, 256, 64, 100), (8, 8, 1, 200)]


def blas_floor(hp, x, repeats):
    """The matmuls of forward and backward alone: input projection, T recurrent products and their grads."""
    T, B, I = x.shape
    H = hp["wh"].shape[0]
    h = np.random.default_rng(0).normal(size=(B, H))
    g = np.random.default_rng(1).normal(size=(B, 4 * H))

    def run():
        flat = x.reshape(-1, I)
        flat @ hp["wx"]
        for _ in range(T):
            h @ hp["wh"]          # forward recurrent product
            g @ hp["wh"].T        # backward: error to h
            h.T @ g               # backward: weight gradient
        flat.T @ np.ones((T * B, 4 * H))
    return median_time(run, repeats)


def torch_time(params, x, target, dtype, repeats):
    run = torch_lstm(hand_params(params), x, target, dtype)
    return run(), median_time(run, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
        print("PyTorch not installed: its columns are left out (pip install torch==2.13.0)")
    rng = np.random.default_rng(0)
    head = f"{'(I, H, B, T)':<20}{'graphrnn':>10}{'hand ag':>10}{'torch64':>10}{'torch32':>10}{'BLAS':>9}" \
           f"   {'/hand':>6}{'/t64':>6}{'/t32':>6}{'/BLAS':>7}"
    print("loss+grad, median ms; ratios are graphrnn / column\n" + head)
    for I, H, B, T in SIZES:
        net = gr.loads(lstm_yaml(I, H))
        params = net.init(seed=0)
        x = rng.normal(size=(T, B, I))
        target = rng.uniform(-0.5, 0.5, size=(T, B, H))
        compiled = value_and_grad(lambda p: net.loss(p, x, target, kind="mse"))
        hp = hand_params(params)
        written = value_and_grad(lambda p: hand_lstm(p, x, target))
        a, b = compiled(params)[0], written(hp)[0]
        assert abs(a - b) < 1e-9 * max(1.0, abs(b)), (a, b)
        t_gr = median_time(lambda: compiled(params), args.repeats)
        t_hand = median_time(lambda: written(hp), args.repeats)
        t_blas = blas_floor(hp, x, args.repeats)
        t64 = t32 = float("nan")
        if torch is not None:
            loss64, t64 = torch_time(params, x, target, torch.float64, args.repeats)
            assert abs(loss64 - a) < 1e-9 * max(1.0, abs(a)), (loss64, a)
            _, t32 = torch_time(params, x, target, torch.float32, args.repeats)
        print(f"{str((I, H, B, T)):<20}{t_gr * 1e3:>10.1f}{t_hand * 1e3:>10.1f}{t64 * 1e3:>10.1f}"
              f"{t32 * 1e3:>10.1f}{t_blas * 1e3:>9.1f}   {t_gr / t_hand:>6.2f}{t_gr / t64:>6.1f}"
              f"{t_gr / t32:>6.1f}{t_gr / t_blas:>7.1f}")


if __name__ == "__main__":
    main()
