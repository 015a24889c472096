"""The 1997 LSTM on the embedded Reber grammar with the paper's own learning algorithm, in numpy.

graphrnn's training loop makes one update per sequence (the gradient summed
over the sequence's steps).  Hochreiter & Schmidhuber 1997 (Appendix A.1)
learn online *at every time step*, with forward ("RTRL-like") sensitivities
of the cell states, truncated so that no error flows back through the
recurrent connections.  This script implements exactly that for the
3-blocks-of-2-cells network of specs/lstm1997_reber.yaml (no cell-input
biases: 276 weights, as the paper counts), so that the two ways of
updating can be compared on the same task, data and initial weights:

    python examples/reproductions/lstm1997_numpy.py --seeds 5 --budget 30000
    python examples/reproductions/lstm1997_numpy.py --per-sequence --seeds 5
    python examples/reproductions/lstm1997_numpy.py --check

``--check`` verifies that the summed per-sequence update of this
implementation equals graphrnn's truncated gradient of the same network
(scaled to the paper's error), to rounding: the two implementations agree
on the forward pass and on the gradient, and differ only in when the
weights change.  Each trial prints the strings wrong (training + test, of
512) every 2000 strings and the number of strings until every symbol of
every training and test string is predicted correctly (tested every 200).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
NB, NC, I, O = 3, 2, 7, 7          # blocks, cells per block, inputs, outputs
H = NB * NC + 2 * NB               # recurrent sources: the 6 cells, then (in, out) gate of each block
U = I + H + 1                      # what every gate and cell reads: inputs, recurrent sources, bias


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def init(seed: int, r: float = 0.2, out_biases=(-1.0, -2.0, -3.0), in_biases=None) -> dict:
    """All weights uniform in [-r, r]; output-gate biases -1, -2, -3 (input-gate biases too,
    when given); no cell-input bias."""
    rng = np.random.default_rng(seed)
    W = {"c": rng.uniform(-r, r, (NB * NC, U)), "in": rng.uniform(-r, r, (NB, U)),
         "out": rng.uniform(-r, r, (NB, U)), "k": rng.uniform(-r, r, (O, NB * NC))}
    W["c"][:, -1] = 0.0
    W["out"][:, -1] = out_biases
    if in_biases is not None:
        W["in"][:, -1] = in_biases
    return W


def forward(W, x):
    """Outputs (T, B, O) for inputs (T, B, I); blocks read x_t, outputs read the cells at t."""
    T, B, _ = x.shape
    prev, s, ys = np.zeros((B, H)), np.zeros((B, NB * NC)), []
    for t in range(T):
        u = np.concatenate([x[t], prev, np.ones((B, 1))], 1)
        yin, yout = sig(u @ W["in"].T), sig(u @ W["out"].T)
        s = s + np.repeat(yin, NC, 1) * (4 * sig(u @ W["c"].T) - 2)
        yc = np.repeat(yout, NC, 1) * (2 * sig(s) - 1)
        ys.append(sig(yc @ W["k"].T))
        prev = np.concatenate([yc, np.stack([yin, yout], 2).reshape(B, -1)], 1)
    return np.array(ys)


def learn_string(W, x, target, lr: float, per_step: bool = True) -> None:
    """One string (x (T, I), target (T, O)): the paper's truncated gradient of
    E = 1/2 sum (target - y)^2, applied at every step (or summed, ``per_step=False``)."""
    prev, s = np.zeros(H), np.zeros(NB * NC)
    dSc, dSin = np.zeros((NB * NC, U)), np.zeros((NB * NC, U))   # ds_cell / dw (RTRL-like)
    total = {k: np.zeros_like(v) for k, v in W.items()}
    for t in range(len(x)):
        u = np.concatenate([x[t], prev, [1.0]])
        yin, yout = sig(W["in"] @ u), sig(W["out"] @ u)
        zc = sig(W["c"] @ u)
        g = 4 * zc - 2
        yin_c, yout_c = np.repeat(yin, NC), np.repeat(yout, NC)
        dSc += (4 * zc * (1 - zc) * yin_c)[:, None] * u[None, :]
        dSin += (g * yin_c * (1 - yin_c))[:, None] * u[None, :]
        s = s + yin_c * g
        hs = 2 * sig(s) - 1
        yc = yout_c * hs
        y = sig(W["k"] @ yc)
        ek = (target[t] - y) * y * (1 - y)                 # output units' error signals
        back = W["k"].T @ ek
        es = yout_c * 0.5 * (1 - hs ** 2) * back           # at the cell states (h' = (1 - h^2)/2)
        step = {"k": np.outer(ek, yc),
                "out": np.outer(yout * (1 - yout) * (hs * back).reshape(NB, NC).sum(1), u),
                "c": es[:, None] * dSc,
                "in": (es[:, None] * dSin).reshape(NB, NC, U).sum(1)}
        step["c"][:, -1] = 0.0
        for k in W:
            if per_step:
                W[k] += lr * step[k]
            else:
                total[k] += step[k]
        prev = np.concatenate([yc, np.stack([yin, yout], 1).reshape(-1)])
    if not per_step:
        for k in W:
            W[k] += lr * total[k]


def strings_wrong(W, task) -> int:
    from graphrnn.tasks.reber import _predicted
    wrong = 0
    for strings in (task._train, task._test):
        batch = task.batch_of(strings)
        bad = ~_predicted(forward(W, batch.x), batch.target) & (batch.mask > 0)
        wrong += int(bad.any(axis=0).sum())
    return wrong


def next_symbols(x: np.ndarray, possible: np.ndarray) -> np.ndarray:
    """(T, O) one-hot targets: the symbol that actually comes next.  The input
    stops before the final E, so the last step's target is the (only) possible one."""
    target = possible.copy()
    target[:-1] = x[1:]
    return target


def trial(seed: int, budget: int, lr: float, per_step: bool, data_seed: int, every: int = 200,
          targets: str = "possible", in_biases=None):
    from graphrnn.tasks import make_task
    task = make_task("embedded_reber", data_seed=data_seed)
    W = init(seed, in_biases=in_biases)
    rng = np.random.default_rng([seed, 1997])
    started = time.perf_counter()
    for n in range(1, budget + 1):
        batch = task.sample(rng, 1)
        L = int(batch.lengths[0])
        x = batch.x[:L, 0]
        target = batch.target[:L, 0] if targets == "possible" else next_symbols(x, batch.target[:L, 0])
        learn_string(W, x, target, lr, per_step)
        if n % every == 0:
            wrong = strings_wrong(W, task)
            if n % 2000 == 0:
                print(f"    seed {seed}: {n:,} strings, {wrong} of 512 wrong", flush=True)
            if wrong == 0:
                return n, time.perf_counter() - started
    return None, time.perf_counter() - started


def check() -> int:
    """The summed update of this implementation = graphrnn's truncated gradient (paper's error)."""
    sys.path.insert(0, str(ROOT))
    import graphrnn as gr
    from graphrnn.tasks import make_task
    net = gr.load(ROOT / "specs" / "lstm1997_reber.yaml")
    p = net.init(7)
    blocks = ["block1", "block2", "block3"]
    sources = [(f"{b}.out", 2) for b in blocks] + [(f"{b}.{g}", 1) for b in blocks for g in ("in_gate", "out_gate")]
    W = {"c": np.zeros((NB * NC, U)), "in": np.zeros((NB, U)), "out": np.zeros((NB, U)), "k": np.zeros((O, NB * NC))}
    for j, b in enumerate(blocks):
        for port, key in (("cell_in", "c"), ("in_gate", "in"), ("out_gate", "out")):
            rows = slice(NC * j, NC * j + NC) if key == "c" else slice(j, j + 1)
            W[key][rows, :I] = p[f"x->{b}.{port}"].T
            col = I
            for src, n in sources:
                W[key][rows, col:col + n] = p[f"{src}->{b}.{port}@1"].T
                col += n
            W[key][rows, -1] = p.get(f"{b}.{port}.bias", 0.0)   # the cell inputs have none
        W["k"][:, NC * j:NC * j + NC] = p[f"{b}.out->y"].T
    batch = make_task("embedded_reber").sample(np.random.default_rng(1), 1)
    L = int(batch.lengths[0])
    forward_gap = float(np.abs(forward(W, batch.x) - np.asarray(net.run(p, batch.x).y)).max())
    before = {k: v.copy() for k, v in W.items()}
    learn_string(W, batch.x[:L, 0], batch.target[:L, 0], 1.0, per_step=False)
    _, grads = net.value_and_grad(p, batch.x, batch.target, "mse", batch.mask)
    scale = O * L / 2.0                                   # mse -> the paper's E
    gaps = []
    for j, b in enumerate(blocks):
        for port, key in (("cell_in", "c"), ("in_gate", "in"), ("out_gate", "out")):
            rows = slice(NC * j, NC * j + NC) if key == "c" else slice(j, j + 1)
            gaps.append(np.abs(-(W[key] - before[key])[rows, :I].T - scale * grads[f"x->{b}.{port}"]).max())
            gaps.append(np.abs(-(W[key] - before[key])[rows, I:I + 2].T
                               - scale * grads[f"block1.out->{b}.{port}@1"]).max())
        gaps.append(np.abs(-(W["k"] - before["k"])[:, NC * j:NC * j + NC].T - scale * grads[f"{b}.out->y"]).max())
    print(f"forward: max difference {forward_gap:.2e}; summed update vs graphrnn's truncated gradient: "
          f"max difference {max(gaps):.2e}")
    return 0 if forward_gap < 1e-12 and max(gaps) < 1e-12 else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=30_000)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--per-sequence", action="store_true", help="sum the updates over each string")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--targets", choices=("possible", "next"), default="possible",
                        help="train on the set of possible next symbols (multi-hot) or on the next one")
    parser.add_argument("--in-biases", type=float, nargs=3, metavar="B",
                        help="input-gate biases of the 3 blocks (default: uniform in [-0.2, 0.2]); "
                             "the paper's remedy for internal state drift biases input gates toward 0")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.check:
        return check()
    mode = "per sequence" if args.per_sequence else "per step"
    print(f"1997 LSTM, embedded Reber, numpy, updates {mode}, lr {args.lr}, targets {args.targets}, "
          f"budget {args.budget:,}", flush=True)
    solved = []
    started = time.perf_counter()
    for seed in range(args.seeds):
        n, seconds = trial(seed, args.budget, args.lr, not args.per_sequence, args.data_seed,
                           targets=args.targets, in_biases=args.in_biases)
        print(f"  seed {seed}: " + (f"solved after {n:,} strings" if n else f"not solved in {args.budget:,}")
              + f" ({seconds:.0f} s)", flush=True)
        if n:
            solved.append(n)
    median = f"{np.median(solved):,.0f}" if solved else "-"
    print(f"{len(solved)} of {args.seeds} solved; median {median} strings; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
