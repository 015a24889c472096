"""1997 Experiment 2a with the paper's sequential construction: the cell is added once the error stops decreasing.

Hochreiter & Schmidhuber 1997, Section 5.2, on the LSTM of Task 2a: "Memory
cell and input gate are added once the error has stopped decreasing (see
abuse problem: solution (1) in Section 4)."  An experiment file cannot grow
a network, so this script trains in two phases with graphrnn's loop:

1. the output layer alone (the 101 x 101 input -> output weights of
   specs/lstm1997_long_lag.yaml, drawn as that network draws them), online
   SGD lr 1.0 on the paper's error, until the mean training loss of the last
   ``--window`` sequences is not ``--min-decrease`` (relative) below that of
   the window before -- our reading of "the error has stopped decreasing";
2. the whole network (specs/lstm1997_long_lag.yaml): the trained output
   weights, the cell's and the gate's weights as the spec draws them, until
   the paper's test passes (both sequences right at every step, tested
   every 50 sequences) or the budget is spent.

Sequences to success count both phases.  Paper (Table 2): 100% of 18
trials, 5,040 sequences on average.  Usage:

    python examples/reproductions/long_lag_staged.py --seeds 5 [--start 0] [--budget 50000] [--out DIR]

Prints a line per trial and the summary; writes DIR/trials.csv,
summary.csv, summary.json and summary.md (a sweep's tables) and a run
directory per trial (phase 2's checkpoints).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import graphrnn as gr
from graphrnn.tasks import make_task
from graphrnn.train import SGD
from graphrnn.train.loop import TrainingPlan, train

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "specs" / "lstm1997_long_lag.yaml"
OUTPUT_LAYER = """graphrnn: 1
name: lstm1997_long_lag_outputs
doc: specs/lstm1997_long_lag.yaml before its memory cell and input gate are added.
inputs: {x: 101}
outputs: {y: 101}
nodes:
  y: {size: 101, activation: sigmoid, bias: false}
edges:
  - {from: x, to: y, init: {uniform: 0.2}}
"""
LR = 1.0


def one_trial(seed, budget, window, min_decrease, out):
    """Phase 1, then phase 2 (the module docstring); (sequences of phase 1, phase 2's TrainResult)."""
    task = make_task("long_lag_2a", p=100)
    full, outputs = gr.load(SPEC), gr.loads(OUTPUT_LAYER)
    start = full.init(seed)
    used, last, params = 0, None, {"x->y": start["x->y"]}
    while used + 2 * window <= budget:    # phase 1, leaving phase 2 a window at least
        plan = TrainingPlan(sequences=window, seed=seed * 1_000_003 + used, evaluate_every=0,
                            stop_when_solved=False, loss="sse")
        result = train(outputs, task, SGD(lr=LR), plan, params=params)
        params, used = result.params, used + window
        loss = float(np.mean([row["loss"] for row in result.history]))
        if last is not None and loss > last * (1.0 - min_decrease):
            break
        last = loss
    grown = dict(start, **{"x->y": params["x->y"]})
    plan = TrainingPlan(sequences=budget - used, seed=seed, evaluate_every=50, checkpoint_every=5000,
                        loss="sse")
    result = train(full, task, SGD(lr=LR), plan, params=grown, run_dir=out / f"s{seed}")
    return used, result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--budget", type=int, default=50_000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--min-decrease", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=Path("runs/long_lag_staged"))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in range(args.start, args.start + args.seeds):
        t0 = time.perf_counter()
        grown_at, result = one_trial(seed, args.budget, args.window, args.min_decrease, args.out)
        total = grown_at + result.sequences
        rows.append({"point": "base", "seed": seed, "status": "finished", "solved": result.solved,
                     "solved_at": total if result.solved else None, "sequences": total, "updates": total,
                     "budget": args.budget, "cell_added_at": grown_at,
                     "seconds": round(time.perf_counter() - t0, 1)})
        print(f"seed {seed}: cell added after {grown_at}; "
              + (f"solved after {total}" if result.solved else f"not solved in {total}")
              + f" ({rows[-1]['seconds']} s)", flush=True)
        write_tables(args.out, rows, args)
    solved = [r["sequences"] for r in rows if r["solved"]]
    print(f"{len(solved)} of {len(rows)} solved within {args.budget}"
          + (f"; mean {statistics.mean(solved):,.0f}, median {statistics.median(solved):,.0f} "
             f"({min(solved):,} to {max(solved):,}) sequences" if solved else "")
          + "; paper: 100% of 18 trials, 5,040 on average")


def write_tables(out: Path, rows: list[dict], args) -> None:
    """The sweep's tables (trials.csv, summary.csv/json/md: graphrnn.sweep.tables) of the trials so
    far, so examples/reproductions/table.py reads them like a sweep's."""
    from types import SimpleNamespace

    from graphrnn.sweep.file import GridPoint
    from graphrnn.sweep.tables import write_tables as write
    sweep = SimpleNamespace(name="long_lag_staged", grid={}, points=[GridPoint("base", {}, None)],
                            seeds=[r["seed"] for r in rows], experiment_file=f"{SPEC} grown by {Path(__file__).name}",
                            overrides={"budget": args.budget, "window": args.window,
                                       "min_decrease": args.min_decrease})
    write(out, sweep, rows)


if __name__ == "__main__":
    main()
