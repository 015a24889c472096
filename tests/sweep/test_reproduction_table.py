"""examples/reproductions/table.py: the docs' "ours" cells from a sweep directory's tables."""
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from graphrnn.sweep.file import GridPoint
from graphrnn.sweep.tables import wilson_interval, write_tables

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "reproductions" / "table.py"


def load_script():
    spec = importlib.util.spec_from_file_location("reproduction_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def record(point, seed, solved_at, status="finished"):
    return {"point": point, "seed": seed, "status": status, "solved": solved_at is not None, "solved_at": solved_at,
            "sequences": solved_at or 1000, "updates": 1, "budget": 1000, "seconds": 2.0}


def test_one_line_per_point_and_one_for_the_pooled_grid(tmp_path):
    points = [GridPoint("d=0", {"d": 0}, None), GridPoint("d=1", {"d": 1}, None), GridPoint("d=2", {"d": 2}, None)]
    sweep = SimpleNamespace(name="toy", grid={"d": [0, 1, 2]}, points=points, experiment_file="x.yaml",
                            seeds=[0, 1, 2], overrides={})
    records = [record("d=0", 0, 300), record("d=0", 1, None), record("d=0", 2, 500),
               record("d=1", 0, 800), record("d=1", 1, None), record("d=1", 2, None, status="failed")]
    write_tables(tmp_path, sweep, records)
    lines = load_script().rows(tmp_path)
    assert len(lines) == 4 and lines[2] == "toy [d=2]: no trials yet; 0 s of training"   # not run yet
    assert lines[0].startswith("toy [d=0]: **2 of 3** within 1,000 sequences (67%")
    assert "mean 400, median 400 (300 to 500)" in lines[0] and lines[0].endswith("6 s of training")
    assert lines[1].startswith("toy [d=1]: **1 of 2**")                  # the failed trial is not counted
    low, high = wilson_interval(3, 5)
    assert f"**3 of 5** within 1,000 sequences (60%, 95% interval {low:.0%}-{high:.0%}" in lines[3]
    assert f"median {np.median([300, 500, 800]):,.0f} (300 to 800)" in lines[3]
