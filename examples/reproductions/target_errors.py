"""Which adding- or multiplication-problem sequences a trained network still gets wrong, by target.

    python examples/reproductions/target_errors.py RUN_DIR [RUN_DIR ...] [--sequences 25600]

For each run directory of the adding or multiplication sweep
(``sweeps/adding.yaml``, ``sweeps/multiplication.yaml``): loads its final
parameters, judges fresh sequences with the task's own criterion (wrong when
the absolute error at the end exceeds 0.04, Experiments 4 and 5) and counts
the wrong ones by target, in the ten bands [0, 0.1), ..., [0.9, 1].  Both
tasks' targets lie in [0, 1] (adding: 0.5 + (X1 + X2) / 4, centred on 0.5;
multiplication: X1 * X2, crowded toward 0) and both output units are
logistic sigmoids, whose squared-error gradient carries a factor y (1 - y)
that shrinks toward either end of that range.  Prints one line per run and
a pooled table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from graphrnn.train.experiment import load_experiment
from graphrnn.train.runs import EXPERIMENT_COPY, PARAMS, load_params

EDGES = np.round(np.arange(0.1, 1.0, 0.1), 1)         # the inner edges of the ten bands
BANDS = list(zip(np.r_[0.0, EDGES], np.r_[EDGES, 1.0]))


def wrong_by_band(run_dir: Path, sequences: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """(wrong, all): counts per band of BANDS over ``sequences`` fresh sequences, each (10,)."""
    setup = load_experiment(run_dir / EXPERIMENT_COPY).build()
    params = load_params(run_dir / PARAMS)
    batch = setup.task.sample(np.random.default_rng(seed), sequences)
    correct, _ = setup.task.sequence_results(batch, setup.task.outputs(setup.net, params, batch))
    band = np.digitize(batch.at_end(batch.target)[:, 0], EDGES)
    return np.bincount(band[~correct], minlength=len(BANDS)), np.bincount(band, minlength=len(BANDS))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path,
                        help="run directories of the adding or multiplication sweep")
    parser.add_argument("--sequences", type=int, default=25_600, help="fresh sequences per run (default 25,600)")
    args = parser.parse_args(argv)
    total_wrong, total = np.zeros(len(BANDS), int), np.zeros(len(BANDS), int)
    for run_dir in args.runs:
        wrong, counted = wrong_by_band(run_dir, args.sequences)
        total_wrong, total = total_wrong + wrong, total + counted
        print(f"{run_dir}: {wrong.sum()} of {args.sequences} wrong; by target band: "
              + ", ".join(f"[{lo:.1f}, {hi:.1f}) {w}" for (lo, hi), w in zip(BANDS, wrong)))
    print("\n| target | sequences | wrong | wrong per 1,000 |\n|---|---|---|---|")
    for (lo, hi), w, n in zip(BANDS, total_wrong, total):
        print(f"| [{lo:.1f}, {hi:.1f}{']' if hi == 1.0 else ')'} | {n:,} | {w:,} | {1000 * w / max(n, 1):.1f} |")
    print(f"| all | {total.sum():,} | {total_wrong.sum():,} | {1000 * total_wrong.sum() / total.sum():.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
