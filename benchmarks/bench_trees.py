"""The tree engines, paired: fused_tree (the default) against autograd_tree (the reference).

Run by hand (not by CI):

    python benchmarks/bench_trees.py [--spec tree_lstm_classifier] [--spec examples/trees/boolean.yaml]
                                     [--sizes 1,4,16,64] [--rounds 15] [--node]

For batches of boolean expressions of depth 5-8 (graphrnn.tasks.expressions,
one batch per size, drawn with seed = size), times the forward pass
(``net.run``) and forward + backward (``net.value_and_grad``, xent at the
roots) of one plan on both engines, level batching, in one process with
BLAS on one thread, contenders interleaved round by round (paired.py).
Printed: the median CPU milliseconds per call of each engine and the median
of the paired CPU-time ratios autograd_tree / fused_tree (its quartiles in
brackets).  Losses and gradients are checked equal (1e-10) first.
``--node`` adds autograd_tree node by node (the plain recursive evaluation,
seconds per call at 64 trees) to the forward + backward columns.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import paired  # noqa: E402  (sets the thread variables before numpy loads)

import numpy as np  # noqa: E402

import graphrnn as gr  # noqa: E402
from graphrnn.runtime import ENGINES, TreeNetwork  # noqa: E402
from graphrnn.tasks.expressions import BooleanExpressions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPECS = ["tree_lstm_classifier", str(ROOT / "examples" / "trees" / "boolean.yaml")]


def check_equal(fused, reference, params, batch, labels) -> None:
    loss, grads = fused.value_and_grad(params, batch, labels, kind="xent")
    want_loss, want = reference.value_and_grad(params, batch, labels, kind="xent")
    gap = max([abs(loss - want_loss)] + [float(np.max(np.abs(grads[k] - want[k]))) for k in want])
    if gap > 1e-10:
        raise SystemExit(f"fused_tree and autograd_tree differ by {gap:.1e}; not timing engines that disagree")


def ratio(rounds, a, b) -> str:
    low, high = rounds.spread(a, b)
    return f"{rounds.ratio(a, b):.2f}x [{low:.2f}-{high:.2f}]"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", action="append", help="a tree spec (file or library name); repeatable "
                        "(default: tree_lstm_classifier and examples/trees/boolean.yaml)")
    parser.add_argument("--sizes", default="1,4,16,64", help="trees per batch, comma-separated")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--node", action="store_true", help="also time autograd_tree node by node")
    args = parser.parse_args(argv)
    print(paired.one_thread())
    print(f"python benchmarks/bench_trees.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    task = BooleanExpressions()
    for spec in args.spec or DEFAULT_SPECS:
        fused = gr.load(spec)
        reference = TreeNetwork(fused.ir, fused.plan, ENGINES["autograd_tree"]())
        params = fused.init(0)
        print(f"\n{fused.name} ({fused.num_params} parameters) on {fused.engine.name} vs autograd_tree, "
              f"expressions of depth 5-8, {args.rounds} rounds; CPU ms per call, paired ratio "
              "autograd_tree / fused_tree [quartiles]")
        node = " | fwd+bwd autograd_tree node by node (ms) | node / fused_tree" if args.node else ""
        print(f"| trees | tree nodes | levels | forward fused_tree / autograd_tree (ms) | ratio | "
              f"fwd+bwd fused_tree / autograd_tree (ms) | ratio{node} |")
        print("|---|---|---|---|---|---|---|" + ("---|---|" if args.node else ""))
        for size in map(int, args.sizes.split(",")):
            trees, labels = task.draw(np.random.default_rng(size), size, (5, 8))
            batch = task.batch(trees)
            check_equal(fused, reference, params, batch, labels)
            contenders = {
                "f_fused": lambda: fused.run(params, batch),
                "f_ref": lambda: reference.run(params, batch),
                "b_fused": lambda: fused.value_and_grad(params, batch, labels, kind="xent"),
                "b_ref": lambda: reference.value_and_grad(params, batch, labels, kind="xent"),
            }
            if args.node:
                contenders["b_node"] = lambda: reference.value_and_grad(params, batch, labels, kind="xent",
                                                                        batching="node")
            rounds = paired.paired(contenders, rounds=args.rounds)
            ms = {name: rounds.cpu_median(name) * 1e3 for name in contenders}
            line = (f"| {size} | {batch.size} | {len(batch.levels)} | {ms['f_fused']:.2f} / {ms['f_ref']:.2f} | "
                    f"{ratio(rounds, 'f_ref', 'f_fused')} | {ms['b_fused']:.2f} / {ms['b_ref']:.2f} | "
                    f"{ratio(rounds, 'b_ref', 'b_fused')} |")
            if args.node:
                line += f" {ms['b_node']:.1f} | {ratio(rounds, 'b_node', 'b_fused')} |"
            print(line, flush=True)


if __name__ == "__main__":
    main()
