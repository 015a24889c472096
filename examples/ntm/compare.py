"""Networks trained on the same task, side by side: the paper's Figures 13 and 16 (NTM against LSTM).

From the repository root, with run directories of `graphrnn train` or of a sweep's trials
(finished, or stopped at a checkpoint):

    python examples/ntm/compare.py NTM_RUN LSTM_RUN --metric test_cost_bits --optimal test_optimal_bits \\
        --out ngrams.png
    python examples/ntm/compare.py NTM_RUN LSTM_RUN --metric test_bit_errors --sort-ladder --out sort.png

With ``--ngram-ladder`` (dynamic N-grams) it also prints, and draws as
dotted lines, the cost of the Bayes predictor that looks at only the last
0-4 bits (the task's own Equation 10 over a shorter context) on 1,000
sequences of the task, which places a curve: a network at a line predicts
as well as counting after contexts of that many bits.  With
``--sort-ladder`` (priority sort) the lines are predictors that know the
input vectors but only part of their order: each output step says, bit by
bit, the fraction of ones among a group of vectors that holds its target:
all the inputs (priorities ignored), the 16 kept (selected by priority, not
ordered), or the sorted kept ones in consecutive groups of 8, 4 or 2; a
network at a line knows the order that well.

It draws the test metric of each run against sequences seen (with the
Bayes-optimal cost of the same test sequences, for dynamic N-grams, as a
dashed line) and prints a table of the metric every ``--every`` sequences,
at the counts where every run was tested.  An evaluation's fresh test
sequences are drawn from the run's seed and its update count, so runs of
the same seed and batch size meet the same test sequences at each count.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from graphrnn.tasks.ntm import PrioritySort, bit_errors, cost_bits  # noqa: E402
from graphrnn.tasks.ntm_ngrams import DynamicNGrams, bayes_optimal  # noqa: E402
from graphrnn.train.checkpoint import read_npz  # noqa: E402


def test_rows(run_dir: Path) -> list[dict]:
    """The run's evaluation rows (sequences and test metrics): metrics.csv of a finished run, else the
    history its checkpoint keeps."""
    if (run_dir / "metrics.csv").is_file():
        with open(run_dir / "metrics.csv", newline="") as f:
            rows = [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
    else:
        meta = json.loads(read_npz(run_dir / "checkpoint.npz")["meta"].tobytes().decode("utf-8"))
        rows = meta["history"]
    return [row for row in rows if any(k.startswith("test_") for k in row)]


def label(run_dir: Path) -> str:
    meta = run_dir / "run.json"
    network = json.loads(meta.read_text()).get("network") if meta.is_file() else None
    return Path(network).stem if network else run_dir.name


def labels(run_dirs: list[Path]) -> list[str]:
    """One column name a run: its network's name, followed by its sweep's name (a sweep's trial is
    SWEEP_DIR/POINT/sSEED) or else its directory's where two runs share a network."""
    networks = [label(r) for r in run_dirs]
    names = []
    for network, r in zip(networks, run_dirs):
        sweep = r.resolve().parents[1]
        where = sweep.name if (sweep / "sweep.yaml").is_file() else r.name
        names.append(f"{network} ({where})" if networks.count(network) > 1 else network)
    return names


def ngram_ladder(sequences: int = 1000, seed: int = 0) -> dict[int, float]:
    """{k: mean cost in bits per sequence of the Bayes predictor with a k-bit context} for k = 0..4, on
    ``sequences`` fresh dynamic N-gram sequences (k = 0: the running frequency of ones)."""
    task = DynamicNGrams()
    batch = task.sample(np.random.default_rng(seed), sequences)
    bits = task._bits(batch)

    def cost(p):   # p (B, L-1): P(next bit = 1)
        return float(np.mean(cost_bits(p.T[..., None], batch.target, batch.mask, eps=0.0)))

    seen = np.arange(1, bits.shape[1])
    ladder = {0: cost((np.cumsum(bits[:, :-1], axis=1) + 0.5) / (seen + 1.0))}
    ladder.update({k: cost(bayes_optimal(bits, k + 1)) for k in range(1, task.n - 1)})
    return ladder


def sort_ladder(sequences: int = 1000, seed: int = 0) -> dict[str, dict[str, float]]:
    """{group: {"test_cost_bits": mean cost, "test_bit_errors": mean bits wrong}} per sequence of the
    predictor that says, at each output step, the fraction of ones among the vectors of a group that
    holds the step's target: all the inputs, the ones kept, or the kept ones sorted and cut into
    consecutive groups of 8, 4 and 2; on ``sequences`` fresh priority-sort sequences."""
    task = PrioritySort()
    batch = task.sample(np.random.default_rng(seed), sequences)
    groups = {"all inputs": None, f"the {task.keep} kept": task.keep, "groups of 8": 8, "groups of 4": 4,
              "groups of 2": 2}
    kept = [vectors[np.argsort(-priorities, kind="stable")[:task.keep]]
            for vectors, priorities in zip(batch.info["vectors"], batch.info["priorities"])]
    ladder = {}
    for name, size in groups.items():
        y = np.zeros_like(batch.target)
        for i, (vectors, ordered) in enumerate(zip(batch.info["vectors"], kept)):
            for j in range(len(ordered)):
                group = vectors if size is None else ordered[j - j % size:j - j % size + size]
                y[len(vectors) + 1 + j, i] = group.mean(axis=0)
        ladder[name] = {"test_cost_bits": float(np.mean(cost_bits(y, batch.target, batch.mask, eps=0.0))),
                        "test_bit_errors": float(np.mean(bit_errors(y, batch.target, batch.mask)))}
    return ladder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories")
    parser.add_argument("--metric", default="test_cost_bits", help="the test metric to compare")
    parser.add_argument("--optimal", help="a test metric to draw dashed (test_optimal_bits for N-grams)")
    parser.add_argument("--ngram-ladder", action="store_true",
                        help="also the Bayes predictors with 0-4 bits of context (dynamic N-grams)")
    parser.add_argument("--sort-ladder", action="store_true",
                        help="also predictors that know the inputs and part of their order (priority sort)")
    parser.add_argument("--every", type=int, default=10_000, help="table rows every this many sequences")
    parser.add_argument("--out", type=Path, help="the picture (.png or .svg)")
    args = parser.parse_args(argv)
    names = labels(args.runs)
    if len(set(names)) < len(names):
        parser.error(f"two runs would share a column name: {', '.join(names)}")
    runs = {name: {int(row["sequences"]): row for row in test_rows(r)} for name, r in zip(names, args.runs)}
    for name, rows in runs.items():
        if not rows or args.metric not in next(iter(rows.values())):
            parser.error(f"{name}: no `{args.metric}` among its test rows")
    names = list(runs)
    header = ["sequences"] + names + ([args.optimal] if args.optimal else [])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    last = min(max(rows) for rows in runs.values())
    for seen in sorted(set.intersection(*(set(rows) for rows in runs.values()))):
        if seen % args.every == 0 or seen == last:
            cells = [f"{runs[n][seen][args.metric]:.1f}" for n in names]
            if args.optimal:
                cells.append(f"{runs[names[0]][seen].get(args.optimal, float('nan')):.1f}")
            print(f"| {seen:,} | " + " | ".join(cells) + " |")
    ladder = {}   # line label: its value of the metric
    if args.ngram_ladder:
        for k, cost in ngram_ladder().items():
            print(f"Bayes predictor with a {k}-bit context: {cost:.1f} bits per sequence")
            ladder[f"{k}-bit context"] = cost
    if args.sort_ladder:
        for name, values in sort_ladder().items():
            print(f"fraction of ones among {name}: cost {values['test_cost_bits']:.1f} bits, "
                  f"{values['test_bit_errors']:.1f} bits wrong per sequence")
            ladder[name] = values.get(args.metric, float("nan"))
    if args.out:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, rows in runs.items():
            seen = sorted(rows)
            ax.plot([s / 1000 for s in seen], [rows[s][args.metric] for s in seen], label=name)
        if args.optimal:
            rows = runs[names[0]]
            seen = sorted(s for s in rows if args.optimal in rows[s])
            ax.plot([s / 1000 for s in seen], [rows[s][args.optimal] for s in seen], "k--", label="optimal")
        for name, value in ladder.items():
            ax.axhline(value, color="grey", linestyle=":", linewidth=0.8)
            ax.annotate(name, (ax.get_xlim()[1], value), fontsize=7, color="grey", ha="right", va="bottom")
        ax.set_xlabel("sequence number (thousands)")
        ax.set_ylabel(args.metric.replace("test_", "test ").replace("_", " "))
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.out, dpi=100)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
