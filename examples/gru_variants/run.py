"""GRU gate variants (Dey & Salem 2017) on scikit-learn's handwritten digits, row-wise and pixel-wise.

From the repository root (needs scikit-learn: ``pip install -e ".[examples]"``):

    python examples/gru_variants/run.py                          # the whole study (8 variants x 2 forms x 5 seeds)
    python examples/gru_variants/run.py --workers 1              # on one worker process
    python examples/gru_variants/run.py --forms rows --seeds 2 --epochs 3 --out /tmp/gru_quick
    python examples/gru_variants/run.py --resume                 # run only the trials not yet in its CSV
    python examples/gru_variants/run.py --from runs/gru_variants  # table and picture from its CSV again

The variants, one hidden layer of ``--hidden`` units each, read by a 10-way softmax:

- Dey & Salem's own form (reset gate before the hidden matmul):
  ``gru_cho`` (their GRU0), ``gru1_cho``, ``gru2_cho``, ``gru3_cho``;
- PyTorch's form (reset gate after it): ``gru``, ``gru1``, ``gru2``, ``gru3``.

GRU1: the gates read the previous state and a bias; GRU2: the previous state
only; GRU3: a bias only.  Each trial (variant, form, seed) trains with
graphrnn.train.loop.train (RMSProp, full BPTT, cross-entropy at the last
step), records the test accuracy after every epoch (and before the first)
and is one task of graphrnn.train.trials.run_each on the local Dask cluster of
graphrnn.sweep.open_cluster.  Written to ``--out`` (default runs/gru_variants):
``accuracy.csv`` (one row per trial and epoch), ``summary.md`` (the table:
parameters, final test accuracy mean ± std over the seeds) and
``accuracy.png`` (mean test accuracy per epoch, one panel per form).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from functools import partial
from pathlib import Path

# small matrices: extra BLAS threads only fight over the cores (set before numpy loads BLAS)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

PAPER_FORM = ("gru_cho", "gru1_cho", "gru2_cho", "gru3_cho")
PYTORCH_FORM = ("gru", "gru1", "gru2", "gru3")
VARIANTS = PAPER_FORM + PYTORCH_FORM
LABELS = {"gru_cho": "GRU", "gru1_cho": "GRU1", "gru2_cho": "GRU2", "gru3_cho": "GRU3",
          "gru": "GRU", "gru1": "GRU1", "gru2": "GRU2", "gru3": "GRU3"}
FIELDS = ("variant", "form", "seed", "epoch", "sequences", "test_accuracy", "parameters", "cell_parameters",
          "hidden", "lr", "batch", "seconds")


def network_text(variant: str, inputs: int, hidden: int) -> str:
    """The study's network: x -> one `variant` layer of `hidden` units -> 10-way softmax."""
    return f"""\
graphrnn: 1
name: digits_{variant}
inputs: {{x: {inputs}}}
outputs: {{y: 10}}
nodes:
  h: {{use: {variant}, size: {hidden}}}
  y: {{size: 10, activation: softmax}}
edges:
  - {{from: x, to: h}}
  - {{from: h, to: y}}
"""


def digits_trial(variant: str, form: str, seed: int, *, epochs: int, hidden: int, lr: float, batch: int) -> list:
    """One trial: rows of FIELDS, epoch 0 (untrained) to ``epochs``."""
    if str(HERE) not in sys.path:        # a Dask worker imports the task from this folder
        sys.path.insert(0, str(HERE))
    import graphrnn as gr
    from digits import Digits, load_digits_split
    from graphrnn.train import RMSProp
    from graphrnn.train.loop import TrainingPlan, train

    task = Digits(*load_digits_split(), form=form)
    net = gr.loads(network_text(variant, task.input_size, hidden))
    params = net.init(seed)
    count = sum(int(v.size) for v in params.values())
    cell = sum(int(v.size) for k, v in params.items() if not k.endswith("->y") and k != "y.bias")
    started = time.perf_counter()
    plan = TrainingPlan(sequences=epochs * task.train_size, batch=batch, seed=seed,
                        evaluate_every=task.train_size, stop_when_solved=False)
    result = train(net, task, RMSProp(lr), plan, params=params)
    seconds = time.perf_counter() - started
    tests = [(0, 0, task.success(net, params).metrics["accuracy"])]
    tests += [(k + 1, row["sequences"], row["test_accuracy"])
              for k, row in enumerate(r for r in result.history if "test_accuracy" in r)]
    return [dict(variant=variant, form=form, seed=seed, epoch=epoch, sequences=seen, test_accuracy=accuracy,
                 parameters=count, cell_parameters=cell, hidden=hidden, lr=lr, batch=batch,
                 seconds=round(seconds, 2)) for epoch, seen, accuracy in tests]


def write_csv(path: Path, rows: list) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key in ("seed", "epoch", "sequences", "parameters", "cell_parameters", "hidden", "batch"):
            row[key] = int(row[key])
        for key in ("test_accuracy", "lr", "seconds"):
            row[key] = float(row[key])
    return rows


def finished_rows(args) -> list:
    """The rows of --out's accuracy.csv from trials run with these settings to the last epoch."""
    path = args.out / "accuracy.csv"
    if not path.is_file():
        return []
    rows = [r for r in read_csv(path) if (r["hidden"], r["lr"], r["batch"]) == (args.hidden, args.lr, args.batch)
            and r["variant"] in args.variants and r["form"] in args.forms and r["seed"] < args.seeds]
    last: dict = {}
    for r in rows:
        key = (r["variant"], r["form"], r["seed"])
        last[key] = max(last.get(key, 0), r["epoch"])
    return [r for r in rows if last[r["variant"], r["form"], r["seed"]] == args.epochs]


def curves(rows: list) -> dict:
    """(variant, form) -> accuracy array (seeds, epochs + 1), seeds in order."""
    table: dict = {}
    for row in rows:
        table.setdefault((row["variant"], row["form"]), {}).setdefault(row["seed"], {})[row["epoch"]] = \
            row["test_accuracy"]
    return {key: np.array([[by_epoch[e] for e in sorted(by_epoch)] for _, by_epoch in sorted(seeds.items())])
            for key, seeds in table.items()}


def summary_table(rows: list) -> str:
    """The markdown table: variant, form, parameters, final test accuracy mean ± std, seeds, epochs."""
    acc = curves(rows)
    info = {(r["variant"], r["form"]): r for r in rows}
    lines = ["| variant | module | form | parameters (cell + softmax) | final test accuracy | seeds | epochs |",
             "|---|---|---|---|---|---|---|"]
    for form in ("rows", "pixels"):
        for variant in VARIANTS:
            if (variant, form) not in acc:
                continue
            a, r = acc[variant, form], info[variant, form]
            final = a[:, -1]
            style = "Dey & Salem" if variant in PAPER_FORM else "PyTorch"
            lines.append(f"| {LABELS[variant]} ({style}) | `{variant}` | {form} | "
                         f"{r['cell_parameters']:,} + {r['parameters'] - r['cell_parameters']:,} | "
                         f"{100 * final.mean():.1f} ± {100 * final.std(ddof=1) if len(final) > 1 else 0:.1f} % | "
                         f"{len(final)} | {a.shape[1] - 1} |")
    return "\n".join(lines)


def plot(rows: list, path: Path) -> None:
    """Mean test accuracy per epoch (band: ± one std over the seeds), one panel per form."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    acc = curves(rows)
    forms = [f for f in ("rows", "pixels") if any(k[1] == f for k in acc)]
    fig, axes = plt.subplots(1, len(forms), figsize=(5.2 * len(forms), 3.8), squeeze=False, sharey=True)
    colors = {"GRU": "C0", "GRU1": "C1", "GRU2": "C2", "GRU3": "C3"}
    for ax, form in zip(axes[0], forms):
        for variant in VARIANTS:
            if (variant, form) not in acc:
                continue
            a = acc[variant, form]
            mean, std = a.mean(axis=0), a.std(axis=0)
            epochs = np.arange(a.shape[1])
            paper = variant in PAPER_FORM
            ax.plot(epochs, mean, color=colors[LABELS[variant]], ls="-" if paper else "--", lw=1.6 if paper else 1.1,
                    label=f"{LABELS[variant]} ({'Dey & Salem' if paper else 'PyTorch'}: {variant})")
            if paper:
                ax.fill_between(epochs, mean - std, mean + std, color=colors[LABELS[variant]], alpha=0.12, lw=0)
        steps = "8 steps x 8 pixels" if form == "rows" else "64 steps x 1 pixel"
        counts = sorted({v.shape[0] for k, v in acc.items() if k[1] == form})
        seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        ax.set_title(f"digits, {form} ({steps}), {seeds} seeds")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (mean over seeds)")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def report(rows: list, out: Path) -> None:
    table = summary_table(rows)
    (out / "summary.md").write_text(table + "\n", encoding="utf-8")
    plot(rows, out / "accuracy.png")
    print(table)
    print(f"written: {out / 'accuracy.csv'}, {out / 'summary.md'}, {out / 'accuracy.png'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--forms", nargs="+", choices=("rows", "pixels"), default=["rows", "pixels"])
    parser.add_argument("--seeds", type=int, default=5, help="trials per variant and form, seeds 0..N-1 (default 5)")
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training images (default 15)")
    parser.add_argument("--hidden", type=int, default=16, help="units of the GRU layer (default 16)")
    parser.add_argument("--lr", type=float, default=1e-2, help="RMSProp learning rate (default 1e-2)")
    parser.add_argument("--batch", type=int, default=64, help="sequences per update (default 64)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gru_variants", help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="keep the finished trials of --out's accuracy.csv (same settings), run the rest")
    parser.add_argument("--from", dest="source", type=Path, help="a finished study's folder: report it again")
    args = parser.parse_args(argv)
    if args.source is not None:
        report(read_csv(args.source / "accuracy.csv"), args.source)
        return 0
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("This study needs scikit-learn (its handwritten digits ship with it, nothing is downloaded).\n"
              "Install it with:  pip install -e \".[examples]\"   (or: pip install \"scikit-learn>=1.3,<2\")",
              file=sys.stderr)
        return 2
    from graphrnn.sweep import open_cluster
    from graphrnn.train.trials import run_each

    args.out.mkdir(parents=True, exist_ok=True)
    # seed by seed: a study stopped early has whole seeds of every variant in its CSV
    trials = [(v, f, s) for s in range(args.seeds) for f in args.forms for v in args.variants]
    trial = partial(digits_trial, epochs=args.epochs, hidden=args.hidden, lr=args.lr, batch=args.batch)
    print(f"{len(trials)} trials: {len(args.variants)} variants x {len(args.forms)} forms x {args.seeds} seeds; "
          f"{args.hidden} units, RMSProp lr {args.lr:g}, batch {args.batch}, {args.epochs} epochs", flush=True)
    rows: list = finished_rows(args) if args.resume else []
    if rows:
        finished = {(r["variant"], r["form"], r["seed"]) for r in rows}
        trials = [key for key in trials if key not in finished]
        print(f"resumed: {len(finished)} trials already in {args.out / 'accuracy.csv'}, {len(trials)} to run",
              flush=True)

    def done(outcome):
        rows.extend(outcome)
        last = outcome[-1]
        print(f"  {last['variant']:>8} {last['form']:>6} seed {last['seed']}: test accuracy "
              f"{100 * last['test_accuracy']:.1f} % after {last['epoch']} epochs ({last['seconds']:.0f} s)", flush=True)
        write_csv(args.out / "accuracy.csv", rows)
    started = time.perf_counter()
    with open_cluster(workers=args.workers) as cluster:
        print(f"on {cluster.where}", flush=True)
        run_each(trial, trials, executor=cluster.executor, on_outcome=done)
    wall = time.perf_counter() - started
    rows.sort(key=lambda r: (r["form"], VARIANTS.index(r["variant"]), r["seed"], r["epoch"]))
    write_csv(args.out / "accuracy.csv", rows)
    report(rows, args.out)
    print(f"wall time {wall / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
