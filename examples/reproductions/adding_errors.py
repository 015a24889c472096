"""Which adding-problem sequences a trained network still gets wrong, by target value.

    python examples/reproductions/adding_errors.py RUN_DIR [RUN_DIR ...] [--sequences 25600]

For each run directory of the adding sweep (``sweeps/adding.yaml``): loads
its final parameters, judges fresh sequences as the paper does (wrong when
the absolute error at the end is 0.04 or more) and counts the wrong ones by
target band.  The targets are 0.5 + (X1 + X2) / 4, in [0, 1]; the output unit
is a logistic sigmoid, whose squared-error gradient carries a factor
y (1 - y) that shrinks toward both ends of that range, so sequences with
targets near 0 or 1 are learnt last.  Prints one line per run and a pooled
table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from graphrnn.train.experiment import load_experiment
from graphrnn.train.runs import EXPERIMENT_COPY, PARAMS, load_params

BANDS = [(0.0, 0.1), (0.1, 0.2), (0.2, 0.8), (0.8, 0.9), (0.9, 1.0)]


def wrong_by_band(run_dir: Path, sequences: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """(wrong, all): counts per band of BANDS over ``sequences`` fresh sequences."""
    setup = load_experiment(run_dir / EXPERIMENT_COPY).build()
    params = load_params(run_dir / PARAMS)
    batch = setup.task.sample(np.random.default_rng(seed), sequences)
    correct, _ = setup.task.sequence_results(batch, setup.task.outputs(setup.net, params, batch))
    target = batch.at_end(batch.target)[:, 0]
    band = np.digitize(target, [b[1] for b in BANDS[:-1]])
    return np.bincount(band[~correct], minlength=len(BANDS)), np.bincount(band, minlength=len(BANDS))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories of the adding sweep")
    parser.add_argument("--sequences", type=int, default=25_600, help="fresh sequences per run (default 25,600)")
    args = parser.parse_args(argv)
    total_wrong, total = np.zeros(len(BANDS), int), np.zeros(len(BANDS), int)
    for run_dir in args.runs:
        wrong, counted = wrong_by_band(run_dir, args.sequences)
        total_wrong, total = total_wrong + wrong, total + counted
        print(f"{run_dir}: {wrong.sum()} of {args.sequences} wrong; by target band: "
              + ", ".join(f"[{lo}, {hi}) {w}" for (lo, hi), w in zip(BANDS, wrong)))
    print("\n| target | sequences | wrong | wrong per 1,000 |\n|---|---|---|---|")
    for (lo, hi), w, n in zip(BANDS, total_wrong, total):
        print(f"| [{lo}, {hi}) | {n:,} | {w:,} | {1000 * w / max(n, 1):.1f} |")
    print(f"| all | {total.sum():,} | {total_wrong.sum():,} | {1000 * total_wrong.sum() / total.sum():.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
