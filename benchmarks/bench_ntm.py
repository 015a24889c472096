"""Seconds per training sequence of an NTM network of specs/ on its task, on each engine.

    python benchmarks/bench_ntm.py [--network ntm_copy] [--sequences 100] [--batch 1 16]

On the fused, compiled (where numba is installed) and autograd engines.
One training sequence = the loss and gradient of one sequence of the
network's task (copy: length 1-20, so 3-41 steps; dynamic N-grams: 199
steps; priority sort: 37 steps) plus the optimizer's update, BLAS on one
thread.  The same sequences and parameters go to every engine; the script
checks that their losses agree before timing.  Run by hand, never by CI.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import graphrnn as gr  # noqa: E402
from graphrnn.runtime import generated  # noqa: E402
from graphrnn.tasks import make_task  # noqa: E402
from graphrnn.train.optimizers import from_config  # noqa: E402


#: each NTM network of specs/ and the task of its experiment
TASKS = {"ntm_copy": "copy", "ntm_copy_ff": "copy", "ntm_repeat_copy": "repeat_copy",
         "ntm_recall": "associative_recall", "ntm_ngrams": "dynamic_ngrams", "ntm_sort": "priority_sort"}


def per_sequence(net, batches, params) -> float:
    optimizer = from_config({"name": "rmsprop_graves", "lr": 1e-4, "momentum": 0.9, "clip": {"value": 10}})
    state = optimizer.init(params, names=net.trainable)
    started = time.perf_counter()
    for k, b in enumerate(batches):
        _, grads = net.value_and_grad(params, b.x, b.target, "bce", b.mask)
        params, state = optimizer.update(params, grads, state, k)
    return (time.perf_counter() - started) / sum(b.size for b in batches)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", choices=sorted(TASKS), default="ntm_copy")
    parser.add_argument("--sequences", type=int, default=100)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args(argv)
    task = make_task(TASKS[args.network])
    fused, reference = gr.load(args.network, engine="fused"), gr.load(args.network, engine="autograd")
    compiled = gr.load(args.network, engine="compiled") if generated.available() else None   # numba: optional
    params = fused.init(0)
    check = task.sample(np.random.default_rng(0), 2)
    want = float(reference.loss(params, check.x, check.target, "bce", check.mask))
    gap = max(abs(float(net.loss(params, check.x, check.target, "bce", check.mask)) - want)
              for net in (fused, compiled) if net is not None)
    assert gap < 1e-12, gap
    print(f"{args.network} ({fused.num_params} parameters) on {task.name} sequences; loss gap {gap:.1e}")
    print("| batch | fused: ms per sequence | compiled | autograd | autograd / fused |")
    print("|---|---|---|---|---|")
    for B in args.batch:
        batches = [task.sample(np.random.default_rng([1, k]), B) for k in range(max(1, args.sequences // B))]
        f = per_sequence(fused, batches, dict(params))
        c = "-" if compiled is None else f"{per_sequence(compiled, batches, dict(params)) * 1000:.1f}"
        a = per_sequence(reference, batches, dict(params))
        print(f"| {B} | {f * 1000:.1f} | {c} | {a * 1000:.1f} | {a / f:.1f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
