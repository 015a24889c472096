"""Reproductions of the 1997 LSTM paper's experiments and of random weight guessing.

The training reproductions are sweep files (``sweeps/*.yaml``), run by ``graphrnn sweep``:

    graphrnn sweep examples/reproductions/sweeps/reber.yaml        # 1997 exp. 1, faithful setup, 10 seeds
    graphrnn sweep examples/reproductions/sweeps/reber_main.yaml   # the README's main job, 10 seeds
    graphrnn sweep examples/reproductions/sweeps/elman.yaml        # Elman (15 hidden) on the same task
    graphrnn sweep examples/reproductions/sweeps/adding.yaml       # 1997 exp. 4, T = 100 (long)

This script runs the same sweeps with other seeds or budgets, and random weight guessing:

    python examples/reproductions/run.py reber --seeds 10          # = the sweep file, seeds 0..9
    python examples/reproductions/run.py reber_main --seeds 3 --budget 50000
    python examples/reproductions/run.py latch --seeds 30          # random guessing, latch, 500-600 steps
    python examples/reproductions/run.py parity --seeds 10         # random guessing, parity, 500-600 steps

Options: ``--seeds N`` (trials, seeds 0..N-1; or ``--seed-list 3 7``),
``--budget S`` (override the budget of training sequences; latch, parity:
guessing trials), ``--workers W`` (worker processes of the local Dask cluster;
default: one per core), ``--out DIR`` (the sweep directory; default
runs/reproductions/NAME).  A training reproduction writes a sweep directory
(trials.csv, summary.md, pictures, a run directory per trial; see
docs/training.md); guessing prints one line per trial and writes the same
tables (trials.csv, summary.md: weight sets tried until success).  Both end with the
table row: success fraction and the median (and mean) number of training
sequences (guessing trials) to success, next to the paper's.  Every trial
goes through graphrnn.train.trials.run_each on the same Dask cluster
(graphrnn.sweep.open_cluster) that ``graphrnn sweep`` uses.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

REPRODUCTIONS = {
    "reber": {"sweep": "sweeps/reber.yaml",
              "paper": "100% of 30 trials, 8,440 sequences on average (Table 1: 3 blocks x 2 cells, lr 0.5)"},
    "reber_main": {"sweep": "sweeps/reber_main.yaml",
                   "paper": "(our closest variant that trains in minutes; see docs/training.md)"},
    "reber_short": {"sweep": "sweeps/reber_short.yaml", "paper": "(a short budget, to time the sweep)"},
    "elman": {"sweep": "sweeps/elman.yaml",
              "paper": "0% of trials after 200,000 sequences (Table 1, ELM, 15 hidden units)"},
    "adding": {"sweep": "sweeps/adding.yaml",
               "paper": "74,000 sequences on average (10 trials), 1 of 2560 test sequences wrong (Table 7, T=100)"},
    "latch": {"sweep": None, "network": "latch_unit.yaml", "max_trials": 10_000,
              "paper": "22 trials on average (latch variant II, one tanh unit, weights in [-100, 100])"},
    "latch_std01": {"sweep": None, "network": "latch_unit.yaml", "max_trials": 10_000,
                    "task": "latch", "options": {"noise_std": 0.1},
                    "paper": "22 trials on average (the same, read with noise of standard deviation 0.1 "
                             "instead of the text's variance 0.2)"},
    "parity": {"sweep": None, "network": "parity_a1.yaml", "max_trials": 30_000,
               "paper": "2,906 trials on average (architecture A1, n = 1, weights in [-100, 100])"},
}


@dataclass
class Guessed:
    """One random-guessing trial, with what graphrnn.train.trials.summarize reads."""

    seed: int
    solved: bool
    solved_at: int | None     # weight sets tried until success
    trials: int
    seconds: float
    verdict: str


def guess_trial(name: str, max_trials: int, seed: int) -> Guessed:
    """Random weight guessing on the latch or parity task (100 training sequences of 500-600 steps)."""
    from graphrnn.compiler import load
    from graphrnn.tasks import make_task
    from graphrnn.train.guess import guess
    entry = REPRODUCTIONS[name]
    net = load(HERE / entry["network"])
    task = make_task(entry.get("task", name), **entry.get("options", {}))
    started = time.perf_counter()
    result = guess(net, task.criterion(), r=100.0, max_trials=max_trials, seed=seed)
    seconds = time.perf_counter() - started
    verdict = str(task.success(net, result.params)) if result.solved else ""
    return Guessed(seed, result.solved, result.trials if result.solved else None, result.trials, seconds, verdict)


def run_guessing(name: str, seeds, budget, cluster, out: Path) -> list:
    """Guessing trials on the cluster; writes ``out``'s trials.csv and summary.csv/json/md
    with the sweep's tables (graphrnn.sweep.tables), counting weight sets instead of sequences."""
    from graphrnn.sweep.file import GridPoint
    from graphrnn.sweep.tables import write_tables
    from graphrnn.train.trials import run_each

    def report(outcome):
        print(f"  seed {outcome.seed}: {'solved' if outcome.solved else 'not solved'} after {outcome.trials:,} "
              f"trials ({outcome.seconds:.1f} s); {outcome.verdict}", flush=True)
    max_trials = budget or REPRODUCTIONS[name]["max_trials"]
    outcomes = run_each(partial(guess_trial, name, max_trials), [(seed,) for seed in seeds],
                        executor=cluster.executor, on_outcome=report)
    records = [{"point": "base", "seed": o.seed, "status": "finished", "solved": o.solved, "solved_at": o.solved_at,
                "sequences": o.trials, "updates": o.trials, "budget": max_trials, "seconds": round(o.seconds, 3),
                "final_verdict": o.verdict} for o in outcomes]
    entry = REPRODUCTIONS[name]
    sweep = SimpleNamespace(name=name, grid={}, points=[GridPoint("base", {}, None)], seeds=list(seeds),
                            experiment_file=f"{entry['network']} (random guessing, task {entry.get('task', name)} "
                                            f"{entry.get('options', {})})",
                            overrides={"max_trials": max_trials})
    out.mkdir(parents=True, exist_ok=True)
    write_tables(out, sweep, records, unit="weight sets")
    print(f"sweep directory: {out} (summary.md, trials.csv)")
    return outcomes


def sweep_with(name: str, seeds, budget):
    """The reproduction's sweep file with these seeds (and budget)."""
    from graphrnn.sweep import loads_sweep
    path = HERE / REPRODUCTIONS[name]["sweep"]
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["seeds"] = list(seeds)
    if budget:
        doc.setdefault("overrides", {})["train.sequences"] = budget
    return loads_sweep(yaml.safe_dump(doc, sort_keys=False), str(path))


def run_training(name: str, seeds, budget, cluster, out: Path) -> list:
    from graphrnn.sweep import run_sweep
    result = run_sweep(sweep_with(name, seeds, budget), out, executor=cluster.executor, slots=cluster.slots)
    for record in result.records:
        what = (f"solved after {record['solved_at']:,} sequences" if record["solved"]
                else f"{record['status']}, not solved in {record['sequences']:,} sequences")
        print(f"  seed {record['seed']}: {what} ({record['seconds'] or 0:.0f} s)  [{record['run_dir']}]", flush=True)
    print(f"sweep directory: {out} (summary.md, trials.csv, solved.png, curves.png)")
    return [record for record in result.records if record["status"] in ("finished", "diverged")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("name", choices=sorted(REPRODUCTIONS))
    parser.add_argument("--seeds", type=int, default=5, help="number of trials, seeds 0..N-1 (default 5)")
    parser.add_argument("--seed-list", type=int, nargs="+", help="these seeds instead")
    parser.add_argument("--budget", type=int, help="training sequences per trial (latch, parity: guessing trials)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--out", type=Path, help="the sweep directory (default runs/reproductions/NAME)")
    args = parser.parse_args(argv)
    from graphrnn.sweep import open_cluster
    from graphrnn.train.trials import summarize
    seeds = args.seed_list or list(range(args.seeds))
    info = REPRODUCTIONS[args.name]
    print(f"{args.name}: {len(seeds)} trial(s), seeds {seeds[0]}..{seeds[-1]}"
          + (f", budget {args.budget:,}" if args.budget else "")
          + (f" [{info['sweep']}]" if info["sweep"] else " [random guessing]"), flush=True)
    started = time.perf_counter()
    with open_cluster(workers=args.workers) as cluster:
        out = args.out or ROOT / "runs" / "reproductions" / args.name
        if info["sweep"] is None:
            outcomes, unit = run_guessing(args.name, seeds, args.budget, cluster, out), "trials"
        else:
            records = run_training(args.name, seeds, args.budget, cluster, out)
            outcomes, unit = [Outcome(r["solved"], r["solved_at"], r["seconds"] or 0.0) for r in records], "sequences"
    wall = time.perf_counter() - started
    summary = summarize(outcomes)
    median, mean = summary["median_sequences_to_success"], summary["mean_sequences_to_success"]
    print()
    print(f"| reproduction | trials | solved | median {unit} to success | mean | wall time |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.name} | {summary['trials']} | {summary['solved']} ({summary['success_fraction']:.0%}) | "
          f"{'-' if median is None else f'{median:,.0f}'} | {'-' if mean is None else f'{mean:,.0f}'} | "
          f"{wall:.0f} s |")
    print(f"paper: {info['paper']}")
    return 0


@dataclass
class Outcome:
    """A sweep trial's record as graphrnn.train.trials.summarize reads it."""

    solved: bool
    solved_at: int | None
    seconds: float


if __name__ == "__main__":     # the guard matters: Dask's worker processes import this file
    os.environ.setdefault("OMP_NUM_THREADS", "1")   # tiny matrices: BLAS threads only cost time
    sys.exit(main())
