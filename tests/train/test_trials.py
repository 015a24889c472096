"""The trials runner: one plain function per trial, run in order or in processes, resumed, summarised."""
import json
import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from graphrnn.errors import TrainError
from graphrnn.train.experiment import load_experiment
from graphrnn.train.runs import METRICS_CSV, run_trial
from graphrnn.train.trials import (SUMMARY_JSON, Trial, resumed_trials, run_each, run_experiment, run_trials,
                                   summarize)


@pytest.fixture
def exp(net_folder, latch_experiment):
    path = net_folder / "exp.yaml"
    path.write_text(latch_experiment(sequences=60, seed=0))
    return load_experiment(path).with_seeds([0, 1])


def test_a_trial_is_a_plain_function_with_a_picklable_outcome(exp, tmp_path):
    outcome = run_trial(*Trial(exp, 1, tmp_path / "one"))
    again = pickle.loads(pickle.dumps(outcome))
    assert again.run_dir == tmp_path / "one" and again.seed == 1 and again.sequences == 60
    assert all(np.array_equal(again.params[k], v) for k, v in outcome.params.items())
    assert pickle.loads(pickle.dumps(exp)).plan(1) == exp.plan(1)


def test_trials_in_processes_give_what_they_give_in_order(exp, tmp_path):
    seen = []
    serial, _ = run_experiment(exp, tmp_path / "serial", progress=False, on_outcome=lambda o: seen.append(o.seed))
    with ProcessPoolExecutor(2) as pool:       # any concurrent.futures executor (a Dask cluster's: tests/sweep)
        parallel, folder = run_experiment(exp, tmp_path / "parallel", progress=False, executor=pool)
    assert seen == [0, 1] and [o.seed for o in parallel] == [0, 1]
    for a, b in zip(serial, parallel):
        assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    summary = json.loads((folder / SUMMARY_JSON).read_text())
    assert summary["summary"]["trials"] == 2 and [t["seed"] for t in summary["trials"]] == [0, 1]


def test_resuming_a_several_trial_folder_continues_every_trial(exp, tmp_path):
    _, folder = run_experiment(exp, tmp_path / "runs", sequences=50, progress=False)   # at a test and a checkpoint
    trials = resumed_trials(folder)
    assert [(t.seed, t.run_dir.name, t.resume) for t in trials] == [(0, "s0", True), (1, "s1", True)]
    outcomes = run_trials(trials, folder, sequences=60, progress=False)   # extends the recorded 50
    assert [o.sequences for o in outcomes] == [60, 60]
    _, whole = run_experiment(exp, tmp_path / "whole", progress=False)
    for seed in (0, 1):
        assert (folder / f"s{seed}" / METRICS_CSV).read_bytes() == (whole / f"s{seed}" / METRICS_CSV).read_bytes()
    with pytest.raises(TrainError) as info:
        resumed_trials(folder, seed=5)
    assert info.value.code == "GR302"


def test_run_each_reports_every_outcome_as_it_comes():
    got = []
    assert run_each(lambda a, b: a * b, [(1, 2), (3, 4)], on_outcome=got.append) == [2, 12]
    assert got == [2, 12]


def divide(a, b):
    return a / b


@pytest.mark.parametrize("parallel", [False, True])
def test_run_each_hands_errors_to_on_error_and_goes_on_or_stops_at_the_first(parallel):
    arguments = [(1, 1), (1, 0), (4, 2)]
    with ThreadPoolExecutor(2) as pool:
        executor = pool if parallel else None
        recorded = run_each(divide, arguments, executor=executor,
                            on_error=lambda index, error: f"trial {index}: {type(error).__name__}")
        assert recorded == [1.0, "trial 1: ZeroDivisionError", 2.0]
        with pytest.raises(ZeroDivisionError):
            run_each(divide, arguments, executor=executor)


def test_summarize_reads_any_outcomes_with_solved_solved_at_and_seconds():
    outcomes = [SimpleNamespace(solved=True, solved_at=12, seconds=1.0),
                SimpleNamespace(solved=False, solved_at=None, seconds=2.0),
                SimpleNamespace(solved=True, solved_at=40, seconds=0.5)]
    assert summarize(outcomes) == {"trials": 3, "solved": 2, "success_fraction": 2 / 3,
                                   "median_sequences_to_success": 26.0, "mean_sequences_to_success": 26.0,
                                   "seconds": 3.5}
