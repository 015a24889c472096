"""Train a recursive network to evaluate boolean expressions; test it on deeper trees.

    python examples/trees/train_boolean.py            # a few minutes on 2 CPU cores
    python examples/trees/train_boolean.py --steps 300 --spec recursive

Trains on expressions of depth 1-4 (T/F leaves, and/or/xor nodes), then
reports accuracy at every depth 1-8 (5-8 never seen in training) and the
speed-up of level batching over node-by-node evaluation of the same plan
(forward + backward on one batch of test trees).  The network is
``examples/trees/boolean.yaml`` (default) or any ``over: tree`` spec with
5 inputs and a 2-way softmax output, e.g. the library's ``recursive``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import graphrnn as gr
from graphrnn.tasks.expressions import BooleanExpressions, depth_table
from graphrnn.train.optimizers import Adam

HERE = Path(__file__).resolve().parent


def train(net, task, steps: int, batch: int, lr: float, seed: int):
    rng = np.random.default_rng(seed)
    params = net.init(seed)
    optimizer = Adam(lr=lr)
    state = optimizer.init(params, names=net.trainable)
    started, recent = time.perf_counter(), []
    for step in range(steps):
        trees, labels = task.draw(rng, batch)
        loss, grads = net.value_and_grad(params, task.batch(trees), labels, kind="xent")
        params, state = optimizer.update(params, grads, state, step)
        recent.append(float(loss))
        if (step + 1) % max(1, steps // 10) == 0:
            print(f"  step {step + 1:5d}  loss {np.mean(recent):.4f}  ({time.perf_counter() - started:.0f} s)",
                  flush=True)
            recent = []
    return params, time.perf_counter() - started


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def speedup(net, task, params, seed: int, trees_per_batch: int, repeats: int) -> dict:
    """Forward + backward on one batch of depth 5-8 trees, level-batched vs node by node."""
    trees, labels = task.draw(np.random.default_rng(seed + 1), trees_per_batch, task.test_depths)
    batch = task.batch(trees)
    times = {}
    for batching in ("level", "node"):
        times[batching] = best_time(lambda: net.value_and_grad(params, batch, labels, kind="xent",
                                                              batching=batching), repeats)
    return {"trees": len(trees), "tree_nodes": batch.size, "levels": len(batch.levels),
            "level_s": times["level"], "node_s": times["node"], "speedup": times["node"] / times["level"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(HERE / "boolean.yaml"), help="tree network spec (path or library name)")
    parser.add_argument("--steps", type=int, default=3000, help="training updates")
    parser.add_argument("--batch", type=int, default=32, help="expressions per update")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=int, default=500, help="test expressions per depth")
    parser.add_argument("--speed-trees", type=int, default=64, help="trees in the speed-up batch")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    task = BooleanExpressions(test_size=args.test_size)
    net = gr.load(args.spec)
    print(f"{net.name}: {net.num_params} parameters; training on depths {task.train_depths[0]}-"
          f"{task.train_depths[1]}, {args.steps} updates of {args.batch} expressions")
    params, seconds = train(net, task, args.steps, args.batch, args.lr, args.seed)
    scores = task.accuracy_by_depth(net, params, np.random.default_rng(args.seed + 100))
    print(f"\naccuracy by depth ({args.test_size} balanced expressions per depth, chance 50%):")
    print(depth_table(scores, task.train_depths))
    speed = speedup(net, task, params, args.seed, args.speed_trees, repeats=3)
    print(f"\nlevel batching vs node by node, forward + backward on {speed['trees']} trees of depth "
          f"{task.test_depths[0]}-{task.test_depths[1]} ({speed['tree_nodes']} tree nodes, {speed['levels']} "
          f"levels): {speed['level_s'] * 1e3:.1f} ms vs {speed['node_s'] * 1e3:.1f} ms, "
          f"speed-up {speed['speedup']:.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "spec": args.spec, "steps": args.steps, "batch": args.batch, "lr": args.lr, "seed": args.seed,
            "train_seconds": seconds, "accuracy_by_depth": {s.depth: s.accuracy for s in scores},
            "test_size": args.test_size, "speed": speed}, indent=2))


if __name__ == "__main__":
    main()
