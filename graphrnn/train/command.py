"""``graphrnn train``: run an experiment file, with a progress bar, a run directory and resume.

    graphrnn train experiments/reber_lstm1997.yaml
    graphrnn train experiments/reber_lstm1997.yaml --seed 3 --runs-dir runs --quiet
    graphrnn train --resume runs/reber_lstm1997-s0-20250101-120000

A thin layer over :mod:`graphrnn.train.trials` (``run_experiment``;
``resumed_trials`` and ``run_trials`` for --resume), which does the work.
The command line wires in two functions: :func:`add_train_parser` adds the
``train`` sub-command to an ``argparse`` sub-parser set and
:func:`cmd_train` runs it and returns the exit status: 0 when every trial
finished (solved or not: the verdict is printed), 2 for an error (a located
message, no traceback: a bad experiment, a diverged run -- GR301, the last
checkpoint is intact --, a run directory that cannot be resumed), 130 when
interrupted (Ctrl-C; the metrics so far are written, resume continues from
the last checkpoint).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import GraphRNNError, TrainError
from .arguments import non_negative_int, positive_int
from .experiment import load_experiment
from .history import first_solved_row, solved_words
from .runs import resume_budget
from .trials import SUMMARY_JSON, resumed_trials, run_experiment, run_trials, summarize

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130

DESCRIPTION = """\
Train the network of an experiment file on its task (see docs/training.md):
every trial writes a run directory RUNS_DIR/<experiment>-s<seed>-<time>/ with
metrics.csv, metrics.json (history, verdict, timing), curve.png (the learning
curve), params.npz (the final parameters), checkpoint.npz and a copy of the
experiment.  A progress bar on stderr shows the sequences seen, the loss and
the last test's success rate.  --resume RUN_DIR continues an interrupted run
from its checkpoint to the same result as an uninterrupted run.  Exit status:
0 trained (solved or not), 2 error (bad experiment, NaN/inf loss, cannot
resume), 130 interrupted."""


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``train`` to ``subparsers`` (from ``parser.add_subparsers()``); returns its parser."""
    p = subparsers.add_parser("train", help="train a network on a task from an experiment file",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
                              epilog="Example: graphrnn train experiments/reber_lstm1997.yaml")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT",
                   help="an experiment file (experiments/*.yaml); with --resume, default: the copy in RUN_DIR")
    p.add_argument("--runs-dir", default="runs", metavar="DIR",
                   help="where new run directories go (default: runs)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its checkpoint (a several-trial folder: every trial)")
    p.add_argument("--seed", type=non_negative_int, metavar="S",
                   help="run one trial with this seed instead of the experiment's seeds")
    p.add_argument("--sequences", type=positive_int, metavar="N",
                   help="override the budget of training sequences (train.sequences); with --resume, extend "
                        "the budget the run recorded (without it, a resumed run keeps that budget)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar; print only the verdict")
    p.set_defaults(func=cmd_train)
    return p


def _report(outcome, out) -> None:
    where = outcome.run_dir
    if outcome.status != "finished":
        print(f"{where}: {outcome.status}", file=out)
        return
    if outcome.solved:
        head = f"{solved_words(first_solved_row(outcome.history))} after {outcome.solved_at:,} sequences"
    else:
        head = f"not solved after {outcome.sequences:,} sequences"
    print(f"seed {outcome.seed}: {head} ({outcome.seconds:.1f} s of training); {outcome.verdict}", file=out)
    print(f"  run directory: {where}", file=out)


def _summary(outcomes, out) -> None:
    s = summarize(outcomes)
    median = s["median_sequences_to_success"]
    print(f"{s['solved']} of {s['trials']} trials solved ({s['success_fraction']:.0%})"
          + (f"; median {median:,.0f} sequences to success" if median is not None else ""), file=out)


def cmd_train(args) -> int:
    """Run ``graphrnn train`` with parsed ``args``; returns the exit status (0, 2 or 130)."""
    out = sys.stdout
    report = lambda outcome: _report(outcome, out)   # noqa: E731
    try:
        if args.resume is None and args.experiment is None:
            raise TrainError("GR300", "name an experiment file, or --resume RUN_DIR",
                             fix="graphrnn train experiments/reber_lstm1997.yaml")
        if args.resume is not None:
            trials = resumed_trials(args.resume, None if args.experiment is None else
                                    load_experiment(args.experiment), args.seed)
            if not args.quiet:
                for trial in trials:
                    start = "from its checkpoint" if trial.resume else "from the start (it has no checkpoint yet)"
                    budget = resume_budget(trial.run_dir, trial.experiment, args.sequences)[1]
                    print(f"resuming {trial.run_dir} (seed {trial.seed}) {start}; {budget}", file=out)
            outcomes = run_trials(trials, Path(args.resume), sequences=args.sequences, progress=not args.quiet,
                                  on_outcome=report)
            if len(outcomes) > 1:
                _summary(outcomes, out)
            return EXIT_OK
        exp = load_experiment(args.experiment)
        seeds = [args.seed] if args.seed is not None else list(exp.seeds)
        if not args.quiet:
            print(f"{exp.name}: {Path(exp.network_path).name} on {exp.task['name']}, "
                  f"{len(seeds)} trial{'s' if len(seeds) != 1 else ''} (seed{'s' if len(seeds) != 1 else ''} "
                  f"{', '.join(map(str, seeds))})", file=out)
        outcomes, folder = run_experiment(exp, args.runs_dir, seeds, sequences=args.sequences,
                                          progress=not args.quiet, on_outcome=report)
        if len(outcomes) > 1:
            _summary(outcomes, out)
            print(f"summary: {folder / SUMMARY_JSON}", file=out)
        return EXIT_OK
    except GraphRNNError as err:
        print(str(err), file=sys.stderr)
        run_dir = getattr(err, "run_dir", None)
        if run_dir is not None:
            print(f"  run directory: {run_dir} (resume with: graphrnn train --resume {run_dir})", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as interrupt:
        run_dir = getattr(interrupt, "run_dir", None)
        if run_dir is not None:
            print(f"\ninterrupted; the metrics so far are in {run_dir}; continue with: "
                  f"graphrnn train --resume {run_dir}", file=sys.stderr)
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:
        what = f"{err.filename}: {err.strerror}" if err.filename and err.strerror else str(err)
        print(f"graphrnn train: error: {what}", file=sys.stderr)
        return EXIT_ERROR
