"""examples/history_compressor/run.py runs end to end on a tiny budget (guards the example from rot)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "examples" / "history_compressor" / "run.py"


def test_the_example_runs_and_writes_its_results(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("history_compressor_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--seeds", "1", "--budget", "640", "--collapse", "32", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"]["flat"]["runs"] == 1
    assert results["runs"][0]["flat"]["seen"] == 640
    assert (tmp_path / "levels_before.png").is_file() and (tmp_path / "levels_after.png").is_file()
    assert "| compressor |" in capsys.readouterr().out


def test_the_joint_mode_runs_and_writes_its_results(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("history_compressor_run_joint", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--joint", "--seeds", "1", "--budget", "320", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "joint.json").read_text())
    assert results["summary"]["runs"] == 1 and results["runs"][0]["joint"]["seen"] == 320
    assert len(results["runs"][0]["joint"]["final_events"]) == 2
    assert "| A alone |" in capsys.readouterr().out
