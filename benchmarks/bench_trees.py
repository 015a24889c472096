"""Level batching vs node-by-node evaluation of tree networks (run by hand, not by CI).

    python benchmarks/bench_trees.py [--spec examples/trees/boolean.yaml] [--repeats 3]

For batches of 1..64 boolean expressions of depth 5-8, times the forward
pass and forward + backward (``net.value_and_grad``) of the same plan with
``batching="level"`` (one vectorised step per tree height) and
``batching="node"`` (one step per tree node); best of ``--repeats``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import graphrnn as gr
from graphrnn.tasks.expressions import BooleanExpressions

ROOT = Path(__file__).resolve().parents[1]


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "examples" / "trees" / "boolean.yaml"))
    parser.add_argument("--sizes", default="1,4,16,64", help="trees per batch, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    net = gr.load(args.spec)
    task = BooleanExpressions()
    params = net.init(0)
    print(f"{net.name} ({net.num_params} parameters), expressions of depth 5-8, best of {args.repeats}")
    print("| trees | tree nodes | levels | forward level / node (ms) | speed-up | fwd+bwd level / node (ms) | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for size in map(int, args.sizes.split(",")):
        trees, labels = task.draw(np.random.default_rng(size), size, (5, 8))
        batch = task.batch(trees)
        t = {}
        for mode in ("level", "node"):
            t["f" + mode] = best(lambda: net.run(params, batch, batching=mode), args.repeats)
            t["b" + mode] = best(lambda: net.value_and_grad(params, batch, labels, kind="xent", batching=mode),
                                 args.repeats)
        print(f"| {size} | {batch.size} | {len(batch.levels)} | {t['flevel'] * 1e3:.1f} / {t['fnode'] * 1e3:.1f} | "
              f"{t['fnode'] / t['flevel']:.1f}x | {t['blevel'] * 1e3:.1f} / {t['bnode'] * 1e3:.1f} | "
              f"{t['bnode'] / t['blevel']:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
