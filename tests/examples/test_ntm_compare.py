"""examples/ntm/compare.py: the N-gram ladder against per-sequence loops written from the task's
definition, and the table and picture from a finished run beside one stopped at a checkpoint."""
from __future__ import annotations

import importlib.util
import json
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
