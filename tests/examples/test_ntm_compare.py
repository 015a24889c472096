"""examples/ntm/compare.py: the N-gram ladder against per-sequence loops written from the task's
definition, the sort ladder against its expectation worked out from the task's definition, and the
table and picture from a finished run beside one stopped at a checkpoint."""
from __future__ import annotations

import importlib.util
import json
from math import comb, log2
from pathlib import Path

import numpy as np
import pytest

from graphrnn.tasks.ntm_ngrams import DynamicNGrams
from graphrnn.train.checkpoint import save_checkpoint
from graphrnn.train.history import metrics_csv

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "ntm" / "compare.py"
spec = importlib.util.spec_from_file_location("ntm_compare", SCRIPT)
compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare)


def loop_cost(bits: np.ndarray, k: int) -> float:
    """Mean bits per sequence of the Bayes predictor with a k-bit context (Beta(1/2, 1/2) prior), one
    sequence and one position at a time: bit t (t >= 1) is predicted, and counted after its context
    once t >= k; before that it is predicted with 1/2."""
    total = 0.0
    for row in bits:
        counts = {}
        for t in range(len(row)):
            p = 0.5
            if t >= k:
                context = tuple(row[t - k:t])
                ones, zeros = counts.get(context, (0, 0))
                p = (ones + 0.5) / (ones + zeros + 1.0)
                counts[context] = (ones + row[t], zeros + 1 - row[t])
            if t >= 1:
                total -= np.log2(p if row[t] else 1.0 - p)
    return total / len(bits)


def test_the_ladder_is_the_bayes_predictor_over_each_shorter_context():
    ladder = compare.ngram_ladder(sequences=20, seed=3)
    task = DynamicNGrams()
    bits = task._bits(task.sample(np.random.default_rng(3), 20))
    assert sorted(ladder) == [0, 1, 2, 3, 4]
    for k, cost in ladder.items():
        assert cost == pytest.approx(loop_cost(bits, k), rel=1e-12), k


def group_expectation(size: int, bits: int = 128) -> tuple[float, float]:
    """(cost, bits wrong) per sequence expected of saying the fraction of ones among ``size`` random
    vectors that hold the target: the target's bit is matched by 1 + J of them, J ~ Binomial(size - 1,
    1/2); a 1 is called 0 when (1 + J) / size < 1/2, a 0 is called 1 when its J ones reach 1/2."""
    p = [comb(size - 1, j) / 2 ** (size - 1) for j in range(size)]
    cost = bits * sum(pj * -log2((j + 1) / size) for j, pj in enumerate(p))
    ones_missed = sum(pj for j, pj in enumerate(p) if j + 1 < size / 2)
    zeros_missed = sum(pj for j, pj in enumerate(p) if j >= size / 2)
    return cost, bits * (ones_missed + zeros_missed) / 2


def test_the_sort_ladder_is_the_expected_cost_of_knowing_the_order_to_within_a_group():
    n = 200
    ladder = compare.sort_ladder(sequences=n, seed=1)
    # per-sequence standard deviations measured over 1,000 sequences, rounded up: five standard
    # errors of the mean
    spread = {"all inputs": (20, 3.0), "the 16 kept": (16, 3.0), "groups of 8": (8, 5.0),
              "groups of 4": (4, 7.5), "groups of 2": (2, 8.5)}
    assert list(ladder) == list(spread)
    for name, (size, sd) in spread.items():
        cost, wrong = group_expectation(size)
        assert abs(ladder[name]["test_cost_bits"] - cost) < 5 * sd / n ** 0.5, name
        assert abs(ladder[name]["test_bit_errors"] - wrong) < 5 * 4.2 / n ** 0.5, name


def history(values, optimal):
    return [{"update": s, "sequences": s, "loss": 0.5, "test_cost_bits": v, "test_optimal_bits": o}
            for s, v, o in zip((1000, 2000, 3000), values, optimal)]


def test_a_finished_run_and_a_stopped_one_side_by_side(tmp_path, capsys):
    finished, stopped = tmp_path / "a", tmp_path / "b"
    finished.mkdir()
    (finished / "metrics.csv").write_text(metrics_csv(history([180.0, 170.0, 160.0], [130.0, 131.0, 132.0])))
    (finished / "run.json").write_text(json.dumps({"network": "specs/ntm_ngrams.yaml"}))
    stopped.mkdir()
    save_checkpoint(stopped, {"w": np.zeros(2)}, {}, 2000, 2000, history([185.0, 175.0], [130.0, 131.0]), {})
    picture = tmp_path / "ngrams.png"
    assert compare.main([str(finished), str(stopped), "--optimal", "test_optimal_bits", "--every", "1000",
                         "--out", str(picture)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| sequences | ntm_ngrams | b | test_optimal_bits |"
    assert lines[2:4] == ["| 1,000 | 180.0 | 185.0 | 130.0 |", "| 2,000 | 170.0 | 175.0 | 131.0 |"]
    assert picture.stat().st_size > 0


def test_a_metric_no_run_has_is_refused(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / "metrics.csv").write_text(metrics_csv(history([180.0], [130.0])))
    with pytest.raises(SystemExit):
        compare.main([str(run), "--metric", "test_bit_errors"])


def test_runs_of_one_network_are_told_apart_by_their_sweeps(tmp_path, capsys):
    runs = []
    for sweep in ("ntm_sort", "ntm_sort_lr1e4"):
        run = tmp_path / sweep / "base" / "s0"
        run.mkdir(parents=True)
        (tmp_path / sweep / "sweep.yaml").write_text("")
        (run / "metrics.csv").write_text(metrics_csv(history([180.0], [130.0])))
        (run / "run.json").write_text(json.dumps({"network": "specs/ntm_sort.yaml"}))
        runs.append(str(run))
    assert compare.main(runs) == 0
    assert capsys.readouterr().out.splitlines()[0] == \
        "| sequences | ntm_sort (ntm_sort) | ntm_sort (ntm_sort_lr1e4) |"


def test_runs_that_cannot_be_told_apart_are_refused(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / "metrics.csv").write_text(metrics_csv(history([180.0], [130.0])))
    with pytest.raises(SystemExit):
        compare.main([str(run), str(run)])
