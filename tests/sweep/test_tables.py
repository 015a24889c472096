"""The summaries: the Wilson interval against its definition, success fractions and spreads per grid point."""
import math
from types import SimpleNamespace

import pytest

from graphrnn.sweep.tables import Z95, summarize_points, summary_markdown, trials_csv, wilson_interval


def score_interval_by_bisection(k: int, n: int, z: float = Z95):
    """The p with |k/n - p| <= z sqrt(p (1 - p) / n), found by bisection on each side of k/n."""
    p_hat = k / n

    def inside(p):
        return abs(p_hat - p) <= z * math.sqrt(p * (1 - p) / n) + 1e-15

    def edge(lo, hi, lo_inside):
        for _ in range(200):
            mid = (lo + hi) / 2
            if inside(mid) == lo_inside:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    low = 0.0 if inside(0.0) else edge(0.0, p_hat, False)
    high = 1.0 if inside(1.0) else edge(p_hat, 1.0, True)
    return low, high


@pytest.mark.parametrize("k, n", [(0, 10), (10, 10), (3, 10), (1, 30), (29, 30), (15, 30), (7, 8), (0, 1)])
def test_wilson_interval_is_the_score_tests_acceptance_region(k, n):
    assert wilson_interval(k, n) == pytest.approx(score_interval_by_bisection(k, n), abs=1e-9)


def test_wilson_interval_known_values():
    # 0 of 10 -> [0, 0.2775] and 5 of 10 -> [0.2366, 0.7634] (tables of the Wilson interval)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def record(point, seed, status="finished", solved=False, at=None, **more):
    return {"point": point, "values": {"lr": point}, "seed": seed, "status": status, "solved": solved,
            "solved_at": at, "sequences": at or 100, "budget": 100, "seconds": 1.0, **more}


def test_summaries_count_finished_and_diverged_trials_and_list_failed_ones():
    points = [SimpleNamespace(label="a", values={"lr": "a"}), SimpleNamespace(label="b", values={"lr": "b"})]
    records = [record("a", 0, solved=True, at=40), record("a", 1, solved=True, at=80), record("a", 2),
               record("a", 3, status="diverged"), record("a", 4, status="failed", error="boom"),
               record("b", 0)]
    a, b = summarize_points(points, records)
    assert (a["trials"], a["solved"], a["failed"], a["success_fraction"]) == (4, 2, 1, 0.5)
    assert (a["interval_low"], a["interval_high"]) == pytest.approx(wilson_interval(2, 4))
    assert (a["mean_sequences_to_success"], a["median_sequences_to_success"]) == (60.0, 60.0)
    assert (a["min_sequences_to_success"], a["max_sequences_to_success"], a["budget"]) == (40, 80, 100)
    assert (b["solved"], b["mean_sequences_to_success"], b["min_sequences_to_success"]) == (0, None, None)
    table = summary_markdown("s", [a, b], ["lr"])
    assert "| lr = a | 4 | 2 of 4 (1 failed) | 50% (15%-85%) | 60 | 60 | 40-80 | 100 |" in table
    assert "| lr = b | 1 | 0 of 1 | 0% (0%-79%) | - | - | - | 100 |" in table
    assert "mean sequences to success" in table.splitlines()[0]
    guessed = summary_markdown("s", [a], ["lr"], unit="weight sets")    # random guessing counts weight sets
    assert "mean weight sets to success" in guessed.splitlines()[0] and "sequences" not in guessed
    csv_text = trials_csv(records, ["lr"])
    assert csv_text.splitlines()[0].startswith("point,lr,seed,status,solved,solved_at")
    assert csv_text.splitlines()[5].endswith(",boom,") and csv_text.count("\n") == 7
