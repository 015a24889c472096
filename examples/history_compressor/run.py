"""Schmidhuber's 1992 experiment: the history compressor vs a flat RNN on "a b1 .. b20 a" / "x b1 .. b20 x".

    nice -n 10 python examples/history_compressor/run.py            # 10 seeds, flat budget 100,000
    python examples/history_compressor/run.py --seeds 3 --budget 20000   # quicker
    python examples/history_compressor/run.py --workers 2                # seeds side by side (Dask)
    nice -n 10 python examples/history_compressor/run.py --joint    # the collapsed system trained jointly

For every seed:

- **compressor** (``lag20.yaml``): level 0 (``level0.yaml``) learns to predict
  its next symbol until it stops improving (the file's ``training:``) and is
  frozen; then the chunker (``level1.yaml``) learns on the symbols level 0
  passes up, with their time codes.  Solved when both sequences compress to
  their first symbol alone: every later symbol, the recall included, is
  predicted by level 0 or by the chunker (threshold 0.3).  Sequences counted:
  level 0's plus the chunker's.
- **flat RNN**: the same network as level 0 (``level0.yaml``), the same
  optimizer, batch and loss, trained by ``graphrnn.train.loop.train`` on the
  task ``history_lag`` until its criterion holds (every output within 0.3 of
  the next symbol at every step, recall included -- the same test: one event
  per sequence), or the budget is spent.
- **collapse**: for a solved compressor, the automatizer (``automatizer.yaml``)
  is trained on its next input and on the chunker's state; reported: how many
  symbols of each sequence the automatizer alone still fails to predict.

With ``--joint`` (``lag20_joint.yaml``), instead, per seed: the **collapsed system
trained jointly** (graphrnn.models.joint): automatizer and chunker learn together
from the start; the chunker reads only what the automatizer fails to predict at the
time of each batch.  Reported: when A + C first describe both sequences by their
first symbol (the compressor's criterion), and when A alone first does (the collapse
complete); training runs until A alone does or the budget is spent.  Writes
``joint.json``.

Otherwise writes ``results.json``, ``levels_before.png`` and ``levels_after.png`` (which
inputs each level receives) to ``--out`` and prints the table of docs/compressor.md.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial
from pathlib import Path

import numpy as np

import graphrnn as gr
from graphrnn.models import draw_level_inputs, events_per_sequence, load_hierarchy, train_automatizer
from graphrnn.models.joint import describe, joint_from_hierarchy, train_joint
from graphrnn.models.level_training import train_level
from graphrnn.tasks import make_task
from graphrnn.train.loop import TrainingPlan, train
from graphrnn.train.trials import run_each

HERE = Path(__file__).resolve().parent
NAMES = ["a", "x"] + [f"b{i}" for i in range(1, 21)]


def run_compressor(spec, task, seed: int, budget: int):
    hc = spec.build(seed)
    both = task.sequences(0, 0) + [np.eye(22)[task.symbols([f])[0]] for f in (0, 1)]
    opts = dict(spec.training)
    common = dict(batch=opts["batch"], evaluate_every=opts["evaluate_every"],
                  patience=opts["patience"], min_improvement=opts["min_improvement"], seed=seed)

    def solved(_seen=None):
        return all(len(c.top) == 1 for c in hc.compress(both))

    first = train_level(hc, 0, task.sequences, loss=spec.levels[0].loss, optimizer=spec.optimizer(0),
                        max_sequences=min(opts["max_sequences"], budget), **common)
    used = first.sequences
    second = None
    if not solved() and used < budget:
        second = train_level(hc, 1, task.sequences, loss=spec.levels[1].loss, max_sequences=budget - used,
                             optimizer=spec.optimizer(1), stop=solved, **dict(common, patience=10**9))
        used += second.sequences
    ok = solved()
    return hc, both, {"solved": ok, "sequences": used if ok else None, "level0_sequences": first.sequences,
                      "level0_stop": first.why, "level1_sequences": second.sequences if second else 0,
                      "events_at_level0": [len(c.levels[0]) for c in hc.compress(both)]}


def run_flat(task, seed: int, budget: int, lr: float, batch: int, every: int):
    from graphrnn.train import Adam
    net = gr.load(HERE / "level0.yaml")
    result = train(net, task, Adam(lr=lr), TrainingPlan(sequences=budget, batch=batch, seed=seed,
                                                         evaluate_every=every), params=net.init(seed))
    final = task.success(net, result.params)
    return {"solved": result.solved, "sequences": result.sequences if result.solved else None,
            "seen": result.sequences, "final_test": dict(final.metrics)}


def run_collapse(spec, hc, both, task, seed: int, sequences: int):
    params, history = train_automatizer(hc, spec.collapse, task.sequences,
                                        spec.collapse.optimizer(spec.training["optimizer"]),
                                        sequences=sequences, batch=spec.training["batch"], seed=seed,
                                        next_kind=spec.levels[0].loss)
    criterion = spec.levels[0].criterion
    return {"events": [events_per_sequence(spec.collapse.net, params, criterion, s) for s in both],
            "final_loss": history[-1][1]}


def median(values):
    """The median of the sequences of the solved runs (None when none solved)."""
    return statistics.median(values) if values else None


def compressor_trial(seed: int, budget: int, collapse: int, out: Path) -> dict:
    """One seed: the compressor (and its collapse, when solved) and the flat RNN; a picklable row."""
    spec = load_hierarchy(HERE / "lag20.yaml")
    task = make_task("history_lag")
    lr, batch, every = spec.training["optimizer"]["lr"], spec.training["batch"], spec.training["evaluate_every"]
    start = time.time()
    if seed == 0:
        untrained = spec.build(seed)
        both = [np.eye(22)[task.symbols([f])[0]] for f in (0, 1)]
        draw_level_inputs(untrained, both, out / "levels_before.png", NAMES,
                          ["untrained: a b1 .. b20 a", "untrained: x b1 .. b20 x"])
    hc, both, comp = run_compressor(spec, task, seed, budget)
    t_comp = time.time() - start
    if seed == 0:
        draw_level_inputs(hc, both, out / "levels_after.png", NAMES,
                          ["trained: a b1 .. b20 a", "trained: x b1 .. b20 x"])
    coll = run_collapse(spec, hc, both, task, seed, collapse) if comp["solved"] and collapse else None
    start = time.time()
    flat = run_flat(task, seed, budget, lr, batch, every)
    return {"seed": seed, "compressor": comp, "flat": flat, "collapse": coll,
            "seconds": {"compressor": round(t_comp, 1), "flat": round(time.time() - start, 1)}}


def joint_trial(seed: int, budget: int, automatizer_lr: float | None = None) -> dict:
    """One seed of the collapsed system trained jointly (``lag20_joint.yaml``; ``automatizer_lr``
    replaces the file's Adam learning rate of the automatizer); a picklable row."""
    spec = load_hierarchy(HERE / "lag20_joint.yaml")
    if automatizer_lr is not None:
        spec.collapse.optimizer_config = dict(spec.collapse.optimizer_config, lr=automatizer_lr)
    task = make_task("history_lag")
    both = [np.eye(22)[task.symbols([f])[0]] for f in (0, 1)]
    system = joint_from_hierarchy(spec, seed)
    start = time.time()
    result = train_joint(system, task.sequences, spec.collapse.optimizer(spec.training["optimizer"]),
                         spec.optimizer(1), probe=both, budget=budget, batch=spec.training["batch"],
                         evaluate_every=spec.training["evaluate_every"], seed=seed)
    return {"seed": seed, "joint": {
        "described": result.described_at is not None, "described_at": result.described_at,
        "absorbed": result.absorbed_at is not None, "absorbed_at": result.absorbed_at, "seen": result.sequences,
        "final_events": describe(system, both),          # per sequence: (A's events, C's events)
        "events_to_chunker": [[h[0], h[3]] for h in result.history]},   # mean per sequence, per test
        "seconds": round(time.time() - start, 1)}


def joint_summary(rows) -> dict:
    out = {"runs": len(rows)}
    for key in ("described", "absorbed"):
        wins = [r["joint"][f"{key}_at"] for r in rows if r["joint"][key]]
        out[key] = {"solved": len(wins), "median_sequences": median(wins),
                    "min": min(wins) if wins else None, "max": max(wins) if wins else None}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="trials (seeds 0 .. N-1)")
    parser.add_argument("--budget", type=int, default=100_000, help="sequences per trial, for both systems")
    parser.add_argument("--collapse", type=int, default=3200, help="automatizer training sequences (0: skip)")
    parser.add_argument("--workers", type=int, default=1,
                        help="trials side by side on a local Dask cluster of this many processes (default 1: here)")
    parser.add_argument("--joint", action="store_true",
                        help="run the collapsed system trained jointly instead (lag20_joint.yaml; writes joint.json)")
    parser.add_argument("--automatizer-lr", type=float, default=None,
                        help="with --joint: the automatizer's Adam learning rate (default: lag20_joint.yaml's, 0.01)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    trial = partial(joint_trial, budget=args.budget, automatizer_lr=args.automatizer_lr) if args.joint else \
        partial(compressor_trial, budget=args.budget, collapse=args.collapse, out=args.out)
    seeds = [(seed,) for seed in range(args.seeds)]
    show = lambda row: print(json.dumps(row), flush=True)    # noqa: E731
    if args.workers > 1:        # the runner of graphrnn train and graphrnn sweep, on a Dask cluster
        from graphrnn.sweep import open_cluster
        with open_cluster(workers=args.workers) as cluster:
            rows = run_each(trial, seeds, executor=cluster.executor, on_outcome=show)
    else:
        rows = run_each(trial, seeds, on_outcome=show)
    if args.joint:
        summary = joint_summary(rows)
        name = "joint.json" if args.automatizer_lr is None else f"joint_lr{args.automatizer_lr:g}.json"
        (args.out / name).write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                         "summary": summary, "runs": rows}, indent=1))
        print(f"\n| joint system | solved | median sequences (solved runs) | range |\n|---|---|---|---|")
        for key, what in (("described", "A + C describe both sequences"), ("absorbed", "A alone")):
            s = summary[key]
            print(f"| {what} | {s['solved']} of {summary['runs']} | {s['median_sequences']} | {s['min']} - {s['max']} |")
        return
    summary = {}
    for system in ("compressor", "flat"):
        wins = [r[system]["sequences"] for r in rows if r[system]["solved"]]
        summary[system] = {"solved": len(wins), "runs": len(rows), "median_sequences": median(wins),
                           "min": min(wins) if wins else None, "max": max(wins) if wins else None}
    summary["flat"]["final_wrong_recalls"] = [r["flat"]["final_test"]["wrong_recalls"] for r in rows]
    summary["flat"]["final_wrong_steps"] = [r["flat"]["final_test"]["wrong_steps"] for r in rows]
    collapsed = [r["collapse"]["events"] for r in rows if r["collapse"]]
    summary["collapse"] = {"trained": len(collapsed), "absorbed": sum(e == [1, 1] for e in collapsed)}
    (args.out / "results.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                       "summary": summary, "runs": rows}, indent=1))
    print(f"\n| system | solved | median sequences (solved runs) | range |\n|---|---|---|---|")
    for system in ("compressor", "flat"):
        s = summary[system]
        print(f"| {system} | {s['solved']} of {s['runs']} | {s['median_sequences']} | {s['min']} - {s['max']} |")
    print(f"flat RNN at the end of its budget: wrong steps (of 42) per run {summary['flat']['final_wrong_steps']}, "
          f"wrong recalls (of 2) {summary['flat']['final_wrong_recalls']}")
    print(f"collapse: the automatizer alone predicted all but the first symbol of both sequences in "
          f"{summary['collapse']['absorbed']} of {summary['collapse']['trained']} solved runs")


if __name__ == "__main__":
    main()
