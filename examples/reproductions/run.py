"""Reproductions of the 1997 LSTM paper's experiments and of random weight guessing.

One command each, from the repository root:

    python examples/reproductions/run.py reber --seeds 10          # 1997 exp. 1, faithful setup
    python examples/reproductions/run.py reber_main --seeds 10     # the README's main job
    python examples/reproductions/run.py elman --seeds 5           # Elman (15 hidden) on the same task
    python examples/reproductions/run.py adding --seeds 2          # 1997 exp. 4, T = 100 (long)
    python examples/reproductions/run.py latch --seeds 30          # random guessing, latch, 500-600 steps
    python examples/reproductions/run.py parity --seeds 10         # random guessing, parity, 500-600 steps

Options: ``--seeds N`` (trials, seeds 0..N-1; or ``--seed-list 3 7``),
``--budget S`` (override the experiment's budget of training sequences),
``--jobs J`` (trials in parallel processes; default 1), ``--runs-dir DIR`` (default
runs/reproductions), ``--data-seeds K`` (trial i uses the task's data set
i mod K: the paper's "3 different, randomly generated pairs of training and
test sets" for ``reber``/``elman``).  Each training trial writes a run
directory (metrics, curve, params; see docs/training.md); the script prints
one line per trial and then the table row: success fraction and the median
(and mean) number of training sequences to success, next to the paper's.
The trials run through graphrnn.train.trials (``run_trials`` for training,
``run_each`` for guessing; ``summarize`` gives the row).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

REPRODUCTIONS = {
    "reber": {"experiment": "experiments/reber_lstm1997_paper.yaml",
              "paper": "100% of 30 trials, 8,440 sequences on average (Table 1: 3 blocks x 2 cells, lr 0.5)"},
    "reber_main": {"experiment": "experiments/reber_lstm1997.yaml",
                   "paper": "(our closest variant that trains in minutes; see docs/training.md)"},
    "elman": {"experiment": "experiments/reber_elman.yaml",
              "paper": "0% of trials after 200,000 sequences (Table 1, ELM, 15 hidden units)"},
    "adding": {"experiment": "experiments/adding_lstm1997.yaml",
               "paper": "74,000 sequences on average (10 trials), 1 of 2560 test sequences wrong (Table 7, T=100)"},
    "latch": {"experiment": None, "network": "latch_unit.yaml", "max_trials": 10_000,
              "paper": "22 trials on average (latch variant II, one tanh unit, weights in [-100, 100])"},
    "parity": {"experiment": None, "network": "parity_a1.yaml", "max_trials": 30_000,
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
    net = load(HERE / REPRODUCTIONS[name]["network"])
    task = make_task(name)
    started = time.perf_counter()
    result = guess(net, task.criterion(), r=100.0, max_trials=max_trials, seed=seed)
    seconds = time.perf_counter() - started
    verdict = str(task.success(net, result.params)) if result.solved else ""
    return Guessed(seed, result.solved, result.trials if result.solved else None, result.trials, seconds, verdict)


def run_guessing(name: str, seeds, budget, jobs: int) -> list:
    from graphrnn.train.trials import run_each

    def report(outcome):
        print(f"  seed {outcome.seed}: {'solved' if outcome.solved else 'not solved'} after {outcome.trials:,} "
              f"trials ({outcome.seconds:.1f} s); {outcome.verdict}", flush=True)
    max_trials = budget or REPRODUCTIONS[name]["max_trials"]
    return run_each(partial(guess_trial, name, max_trials), [(seed,) for seed in seeds], jobs=jobs,
                    on_outcome=report)


def run_training(name: str, seeds, budget, jobs: int, runs_dir: Path, data_seeds: int | None) -> list:
    """One trial per seed (trial i on the task's data set i mod ``data_seeds``), ``jobs`` at a time."""
    from graphrnn.train.experiment import load_experiment
    from graphrnn.train.runs import new_run_dir
    from graphrnn.train.trials import Trial, run_trials
    exp = load_experiment(ROOT / REPRODUCTIONS[name]["experiment"], build=False)
    trials, data_seed_of = [], {}
    for i, seed in enumerate(seeds):
        data_seed = i % data_seeds if data_seeds else None
        variant = exp if data_seed is None else \
            dataclasses.replace(exp, task={**exp.task, "data_seed": data_seed}, _setup=None)
        trials.append(Trial(variant, seed, new_run_dir(runs_dir, exp.name, seed)))
        data_seed_of[trials[-1].run_dir] = data_seed

    def report(outcome):
        what = (f"solved after {outcome.solved_at:,} sequences" if outcome.solved
                else f"not solved in {outcome.sequences:,} sequences")
        data_seed = data_seed_of[outcome.run_dir]
        data = f", data set {data_seed}" if data_seed is not None else ""
        print(f"  seed {outcome.seed}{data}: {what} ({outcome.seconds:.0f} s); {outcome.verdict}  "
              f"[{outcome.run_dir}]", flush=True)
    return run_trials(trials, sequences=budget, progress=False, jobs=jobs, on_outcome=report)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("name", choices=sorted(REPRODUCTIONS))
    parser.add_argument("--seeds", type=int, default=5, help="number of trials, seeds 0..N-1 (default 5)")
    parser.add_argument("--seed-list", type=int, nargs="+", help="these seeds instead")
    parser.add_argument("--budget", type=int, help="training sequences per trial (latch, parity: guessing trials)")
    parser.add_argument("--jobs", type=int, default=1, help="trials in parallel (default 1)")
    parser.add_argument("--runs-dir", default=str(ROOT / "runs" / "reproductions"))
    parser.add_argument("--data-seeds", type=int, default=None,
                        help="trial i uses the task's data_seed i mod K (reber, elman)")
    args = parser.parse_args(argv)
    seeds = args.seed_list or list(range(args.seeds))
    info = REPRODUCTIONS[args.name]
    print(f"{args.name}: {len(seeds)} trial(s), seeds {seeds[0]}..{seeds[-1]}"
          + (f", budget {args.budget:,}" if args.budget else "")
          + (f" [{info['experiment']}]" if info["experiment"] else " [random guessing]"), flush=True)
    started = time.perf_counter()
    if REPRODUCTIONS[args.name]["experiment"] is None:
        outcomes = run_guessing(args.name, seeds, args.budget, args.jobs)
        unit = "trials"
    else:
        outcomes = run_training(args.name, seeds, args.budget, args.jobs, Path(args.runs_dir), args.data_seeds)
        unit = "sequences"
    wall = time.perf_counter() - started
    from graphrnn.train.trials import summarize
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


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")   # tiny matrices: BLAS threads only cost time
    sys.exit(main())
