"""``graphrnn sweep``: the trials of a sweep file on a Dask cluster, into one sweep directory.

    graphrnn sweep examples/reproductions/sweeps/reber_short.yaml                 # every core of this machine
    graphrnn sweep SWEEP.yaml --workers 2 --out runs/sweeps/mine
    graphrnn sweep SWEEP.yaml --scheduler tcp://host:8786                  # an existing Dask cluster
    graphrnn sweep --resume runs/sweeps/reber_short                        # continue it

Exit status: 0 when every trial ran (solved or not; a trial that failed is
in trials.csv and the exit status is 1), 2 for an error (a located message:
a bad sweep file, a sweep directory of another sweep, no scheduler), 130 when
interrupted (the trials done are recorded; the command to resume is printed).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import GraphRNNError, TrainError
from ..train.arguments import positive_int
from .file import load_sweep, loads_sweep
from .run import SWEEP_COPY, SWEEP_META, run_sweep
from .tables import SUMMARY_MD

EXIT_OK, EXIT_FAILED_TRIALS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
Run the trials of a sweep file (an experiment, seeds, a grid of settings; see
docs/training.md, Sweeps) on an embedded Dask LocalCluster (one worker process
per core, one thread each) or, with --scheduler, on an existing Dask cluster.
Writes SWEEP_DIR (default runs/sweeps/<sweep>): trials.csv, summary.csv,
summary.json, summary.md, solved.png, curves.png and a run directory per
trial.  Running it again, or --resume SWEEP_DIR, skips the trials done and
continues interrupted ones from their checkpoints."""


def add_sweep_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``sweep`` to ``subparsers`` (from ``parser.add_subparsers()``); returns its parser."""
    p = subparsers.add_parser("sweep", help="run the trials of a sweep file on a Dask cluster",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                              epilog="Example: graphrnn sweep examples/reproductions/sweeps/reber_short.yaml "
                                     "--workers 2")
    p.add_argument("sweep", nargs="?", metavar="SWEEP.yaml",
                   help="a sweep file; with --resume, default: the copy in SWEEP_DIR")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="submit to the Dask scheduler at ADDRESS (tcp://host:8786) instead of a local cluster")
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--out", metavar="SWEEP_DIR", help="the sweep directory (default: runs/sweeps/<sweep>)")
    p.add_argument("--resume", metavar="SWEEP_DIR",
                   help="continue the sweep in SWEEP_DIR (the same as --out SWEEP_DIR)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_sweep)
    return p


def _sweep_and_folder(args):
    if args.scheduler and args.workers:
        raise TrainError("GR310", "--workers sets the local cluster's size; with --scheduler the cluster has its own",
                         fix="drop --workers (start more workers on the cluster), or drop --scheduler")
    if args.resume and args.out and Path(args.resume) != Path(args.out):
        raise TrainError("GR310", "--resume and --out name different folders",
                         fix="give one of them: --resume SWEEP_DIR continues the sweep there")
    folder = args.resume or args.out
    if args.sweep is not None:
        sweep = load_sweep(args.sweep)
    elif args.resume:
        copy = Path(args.resume) / SWEEP_COPY
        if not copy.is_file():
            raise TrainError("GR302", f"{args.resume} holds no sweep ({SWEEP_COPY})",
                             fix="resume a folder that `graphrnn sweep` wrote, or name the sweep file")
        meta = Path(args.resume) / SWEEP_META
        base = json.loads(meta.read_text(encoding="utf-8"))["relative_to"] if meta.is_file() else None
        sweep = loads_sweep(copy.read_text(encoding="utf-8"), str(copy), base_dir=base)
    else:
        raise TrainError("GR310", "name a sweep file, or --resume SWEEP_DIR",
                         fix="graphrnn sweep examples/reproductions/sweeps/reber_short.yaml")
    return sweep, Path(folder) if folder else Path("runs") / "sweeps" / sweep.name


def cmd_sweep(args) -> int:
    """Run ``graphrnn sweep`` with parsed ``args``; returns the exit status."""
    from .cluster import open_cluster
    out = sys.stdout
    folder = None
    try:
        sweep, folder = _sweep_and_folder(args)
        trials = len(sweep.trials)
        print(f"sweep {sweep.name}: {len(sweep.points)} grid point{'s' if len(sweep.points) != 1 else ''} x "
              f"{len(sweep.seeds)} seed{'s' if len(sweep.seeds) != 1 else ''} = {trials} trials of "
              f"{sweep.experiment_file}; sweep directory {folder}", file=out, flush=True)
        with open_cluster(args.scheduler, args.workers) as cluster:
            print(f"running on {cluster.where}; dashboard: "
                  f"{cluster.dashboard or 'none (install bokeh for the Dask dashboard)'}", file=out, flush=True)
            result = run_sweep(sweep, folder, executor=cluster.executor, slots=cluster.slots,
                               progress=not args.quiet)
    except GraphRNNError as err:
        print(str(err), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        if folder is not None:
            print(f"\ninterrupted; the trials done are recorded in {folder}; continue with: "
                  f"graphrnn sweep --resume {folder}", file=sys.stderr)
        else:
            print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:
        what = f"{err.filename}: {err.strerror}" if err.filename and err.strerror else str(err)
        print(f"graphrnn sweep: error: {what}", file=sys.stderr)
        return EXIT_ERROR
    print((folder / SUMMARY_MD).read_text(encoding="utf-8"), file=out)
    failed = [r for r in result.records if r is not None and r["status"] == "failed"]
    for record in failed:
        print(f"trial {record['point']} s{record['seed']} failed: {record['error']}", file=sys.stderr)
    print(f"{result.ran} trials run now, {len(result.records) - result.ran} done before; tables and pictures in "
          f"{folder}", file=out)
    return EXIT_FAILED_TRIALS if failed else EXIT_OK
