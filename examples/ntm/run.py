"""The Neural Turing Machine's tasks (Graves, Wayne & Danihelka 2014), one command each.

From the repository root:

    python examples/ntm/run.py copy --seeds 4                   # the copy task, the paper's set-up
    python examples/ntm/run.py copy --optimizer adam --batch 16  # Adam instead (lr 1e-3)
    python examples/ntm/run.py copy --network ntm_copy_ff        # the feedforward controller
    python examples/ntm/run.py repeat_copy | recall | ngrams | sort
    python examples/ntm/run.py copy --from RUN_DIR              # pictures and tests of a finished run

Each trial trains ``experiments/ntm_<task>.yaml`` (``--sequences`` and
``--batch`` override its budget and batch) and leaves a run directory
(metrics, learning curve, parameters; docs/training.md).  Then, for each
trial, in its run directory:

- ``bits.png``: bits of error per sequence (and the cost in bits) on the
  1,000 test sequences against sequences seen;
- ``memory.png``: the paper's Figure 6 for one test sequence (length 10
  for copy): inputs, add vectors and write weightings beside outputs, read
  vectors and read weightings;
- for copy, the bits of error per sequence at lengths 30, 50, 80 and 120
  (100 sequences each), the paper's generalisation test.

It prints a line per trial (sequences to success, seconds per training
sequence) and the table row: the success fraction and the median number of
sequences until the task's criterion held (copy: below 0.1 bits of error per
sequence), over the seeds where it did.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

# small matrices: extra BLAS threads only fight over the cores (set before numpy loads BLAS)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TASKS = {"copy": "copy", "repeat_copy": "repeat_copy", "recall": "associative_recall",
         "ngrams": "dynamic_ngrams", "sort": "priority_sort"}
GENERALISATION = (30, 50, 80, 120)


def experiment(name: str, batch: int | None, optimizer: str | None, network: str | None = None):
    from graphrnn.train.experiment import load_experiment
    exp = load_experiment(ROOT / "experiments" / f"ntm_{name}.yaml", build=False)
    changes = {"network_path": str(ROOT / "specs" / f"{network}.yaml")} if network else {}
    if batch:
        changes["plan_options"] = {**exp.plan_options, "batch": batch}
    if optimizer == "adam":
        changes["optimizer"] = {"name": "adam", "lr": 1e-3, "clip": {"value": 10}}
    return dataclasses.replace(exp, **changes, _setup=None) if changes else exp


def bits_curve(history, path, title: str) -> None:
    """Bits of error per test sequence (and cost in bits) against sequences seen."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    tests = [row for row in history if "test_cost_bits" in row]
    fig = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    seen = [row["sequences"] for row in tests]
    if tests and "test_bit_errors" in tests[0]:
        ax.plot(seen, [row["test_bit_errors"] for row in tests], "o-", ms=3, label="bits of error per sequence")
    ax.plot(seen, [row["test_cost_bits"] for row in tests], "s--", ms=3, label="cost per sequence (bits)")
    if tests and "test_optimal_bits" in tests[0]:
        ax.plot(seen, [row["test_optimal_bits"] for row in tests], ":", label="Bayes-optimal cost (bits)")
    ax.axhline(0.1, color="gray", lw=0.8, ls=":")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("sequences seen")
    ax.set_ylabel("bits (1,000 test sequences)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def pictures_and_tests(name: str, net, params, history, run_dir: Path) -> dict:
    from graphrnn.tasks import make_task
    from graphrnn.viz.memory import plot_memory_use
    out = {}
    bits_curve(history, run_dir / "bits.png", f"NTM, {TASKS[name]}: {run_dir.name}")
    options = {"min_length": 10, "max_length": 10} if name in ("copy", "repeat_copy") else {}
    task = make_task(TASKS[name], **options)
    batch = task.sample(np.random.default_rng(12345), 1)
    node = "mem" if "mem" in net.ir.nodes else "ntm.mem"
    trace = net.run(params, batch.x)
    plot_memory_use(trace, batch.x, run_dir / "memory.png", node=node, steps=int(batch.lengths[0]),
                    title=f"{TASKS[name]}, one test sequence")
    if name == "copy":
        for length in GENERALISATION:
            test = make_task("copy", min_length=length, max_length=length, test_size=100)
            verdict = test.success(net, params, np.random.default_rng(length))
            out[f"bits_at_{length}"] = float(verdict.metrics["bit_errors"])
    (run_dir / "ntm_tests.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--seeds", type=int, default=4, help="trials, seeds 0..N-1 (default 4)")
    parser.add_argument("--seed-list", type=int, nargs="+", help="these seeds instead")
    parser.add_argument("--sequences", type=int, help="training sequences per trial (default: the experiment's)")
    parser.add_argument("--batch", type=int, help="sequences per update (default: the experiment's, 1)")
    parser.add_argument("--optimizer", choices=("paper", "adam"), default="paper")
    parser.add_argument("--network", help="another library spec, e.g. ntm_copy_ff (the feedforward controller)")
    parser.add_argument("--runs-dir", default=str(ROOT / "runs" / "ntm"))
    parser.add_argument("--from", dest="source", help="a finished run directory: pictures and tests only")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from graphrnn.train.runs import PARAMS, load_params, new_run_dir, run_trial
    exp = experiment(args.task, args.batch, args.optimizer, args.network)
    if args.source:
        run_dir = Path(args.source)
        history = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["history"]
        print(pictures_and_tests(args.task, exp.build().net, load_params(run_dir / PARAMS), history, run_dir))
        return 0
    rows = []
    for seed in args.seed_list or range(args.seeds):
        started = time.perf_counter()
        outcome = run_trial(exp, seed, new_run_dir(args.runs_dir, exp.name, seed), sequences=args.sequences,
                            progress=True)
        per_sequence = outcome.seconds / max(outcome.sequences, 1)
        tests = pictures_and_tests(args.task, exp.build().net, outcome.params, outcome.history, outcome.run_dir)
        what = f"criterion met after {outcome.solved_at:,} sequences" if outcome.solved else \
            f"criterion not met in {outcome.sequences:,} sequences"
        print(f"  seed {seed}: {what}; {per_sequence * 1000:.0f} ms per training sequence (tests included); {outcome.verdict}; "
              f"{tests}; {time.perf_counter() - started:.0f} s  [{outcome.run_dir}]", flush=True)
        rows.append((outcome, per_sequence))
    solved = [o.solved_at for o, _ in rows if o.solved]
    median = f"{np.median(solved):,.0f}" if solved else "-"
    print(f"\n| task | trials | criterion met | median sequences | ms per training sequence (tests included) |\n|---|---|---|---|---|\n"
          f"| {args.task} | {len(rows)} | {len(solved)} | {median} | "
          f"{np.median([s for _, s in rows]) * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
