"""The compiled engine's loops with and without BLAS, against the generated numpy kernels, by batch.

    python benchmarks/bench_loops_blas.py [--network lstm3_ngrams] [--batch 1 4 8 16] [--rounds 7]
    python benchmarks/bench_loops_blas.py --network my_spec.yaml --task adding

One loss and gradient (bce, T = the task's length) of a network of specs/
on its task's sequences, three ways on the same plan: the numba loops
taking the products of 1,024 weights or more from BLAS (numba's np.dot,
through SciPy), the same loops without BLAS, and the generated numpy
kernels.  Paired rounds (benchmarks/paired.py), one BLAS thread; the losses
of the three are checked equal first.  The compiled engine's limits
(``CompiledEngine.LOOPS_UP_TO``, ``BLAS_LOOPS_UP_TO``) come from these
ratios.  Run by hand, never by CI.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paired import one_thread, paired  # noqa: E402  (sets one BLAS thread before numpy loads)

import numpy as np  # noqa: E402

import graphrnn as gr  # noqa: E402
from graphrnn.runtime import generated, generated_kernels  # noqa: E402
from graphrnn.tasks import make_task  # noqa: E402

TASKS = {"lstm3_ngrams": "dynamic_ngrams", "lstm3_sort": "priority_sort", "lstm1997_reber": "embedded_reber",
         "lstm1997_adding": "adding", "lstm1997_multiplication": "multiplication"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", default="lstm3_ngrams", help=f"a spec file or library name ({', '.join(TASKS)})")
    parser.add_argument("--task", help="the task whose sequences it runs (default: the network's, above)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print(one_thread())
    if not generated_kernels.BLAS:
        print("SciPy is not installed: numba's np.dot has no BLAS (pip install 'graphrnn[fast]')")
        return 1
    net = gr.load(args.network, engine="compiled")
    if args.task is None and args.network not in TASKS:
        parser.error(f"--task is needed for {args.network}")
    task, params = make_task(args.task or TASKS[args.network]), net.init(0)
    passes = {"loops+BLAS": generated.CompiledPlan(net.plan, "numba")}
    generated_kernels.BLAS = False
    passes["loops"] = generated.CompiledPlan(net.plan, "numba")
    passes["numpy"] = generated.CompiledPlan(net.plan, "numpy")
    generated_kernels.BLAS = True
    print(f"{args.network}: {generated.dense_work(net.plan):,} multiply-adds of products a step, "
          f"{generated.blas_projections(net.plan)} products by BLAS")
    print("| batch | loops+BLAS ms | numpy / loops+BLAS | loops / loops+BLAS |")
    print("|---|---|---|---|")
    for B in args.batch:
        b = task.sample(np.random.default_rng(0), B)

        def call(cp):
            net.engine.passes = lambda plan, batch: cp   # this network's engine runs these passes
            return net.value_and_grad(params, b.x, b.target, "bce", b.mask)[0]
        losses = {name: call(cp) for name, cp in passes.items()}
        assert max(losses.values()) - min(losses.values()) < 1e-12, losses
        rounds = paired({name: (lambda cp=cp: call(cp)) for name, cp in passes.items()}, rounds=args.rounds)
        print(f"| {B} | {rounds.cpu_median('loops+BLAS') * 1e3:.1f} | {rounds.ratio('numpy', 'loops+BLAS'):.2f} "
              f"| {rounds.ratio('loops', 'loops+BLAS'):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
