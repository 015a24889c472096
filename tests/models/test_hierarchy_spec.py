"""Hierarchy files: loading, and every located error (GR103/104/111/114 and GR130-GR133)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.errors import CODES
from graphrnn.models import ArgmaxSurprise, ThresholdSurprise, load_hierarchy, loads_hierarchy

from .helpers import compressor, elman, elman_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "history_compressor" / "lag20.yaml"

GOOD = textwrap.dedent("""\
    graphrnn: 1
    hierarchy: small
    time_codes: 6
    levels:
      - {predictor: p0.yaml, surprise: argmax}
      - {predictor: p1.yaml, surprise: {threshold: 0.25}, loss: bce}
    training: {optimizer: {name: adam, lr: 0.01}, batch: 4}
    collapse: {automatizer: auto.yaml, chunker_state: h, distill: 0.5}
    """)

AUTOMATIZER = """
graphrnn: 1
name: auto
inputs: {x: 3}
outputs: {next: 3, chunker: 5}
nodes:
  h: {size: 4, activation: tanh}
  next: {size: 3, activation: sigmoid}
  chunker: {size: 5, activation: tanh}
edges:
  - {from: x, to: h}
  - {from: h, to: h, delay: 1}
  - {from: h, to: [next, chunker]}
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "p0.yaml").write_text(elman_text("p0", 3, 3))
    (tmp_path / "p1.yaml").write_text(elman_text("p1", 9, 3))
    (tmp_path / "wide.yaml").write_text(elman_text("wide", 4, 3))
    (tmp_path / "auto.yaml").write_text(AUTOMATIZER)
    return tmp_path


def at(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def fails(folder, text: str, code: str, needle: str):
    """Loading ``text`` as folder/h.yaml fails with ``code`` at ``needle``."""
    path = folder / "h.yaml"
    path.write_text(text)
    with pytest.raises(gr.GraphRNNError) as info:
        load_hierarchy(path)
    line, col = at(text, needle)
    err = info.value
    assert err.code == code, str(err)
    assert str(err).startswith(f"{path}:{line}:{col}: error {code} ({CODES[code]}): "), str(err)
    assert err.fix
    return err


def test_loads_a_good_file(folder):
    (folder / "h.yaml").write_text(GOOD)
    spec = load_hierarchy(folder / "h.yaml")
    assert [ls.net.name for ls in spec.levels] == ["p0", "p1"]
    assert isinstance(spec.levels[0].criterion, ArgmaxSurprise)
    assert spec.levels[1].criterion.threshold == 0.25 and spec.levels[1].loss == "bce"
    assert spec.training["batch"] == 4 and spec.training["patience"] == 5      # defaults fill the rest
    assert spec.collapse.distill == 0.5 and spec.collapse.next == 1.0
    hc = spec.build(seed=3)
    assert hc.time_codes == 6
    assert np.array_equal(hc.levels[1].params["x->h"], spec.levels[1].net.init(4)["x->h"])


def test_the_example_loads():
    spec = load_hierarchy(EXAMPLE)
    assert len(spec.levels) == 2 and spec.time_codes == 22 and spec.collapse is not None


def test_unknown_key_with_did_you_mean(folder):
    err = fails(folder, GOOD.replace("time_codes", "time_code"), "GR103", "time_code")
    assert "did you mean `time_codes`" in err.message


def test_unknown_key_in_a_level(folder):
    fails(folder, GOOD.replace("loss: bce", "los: bce"), "GR103", "los: bce")


def test_bad_threshold_is_located(folder):
    err = fails(folder, GOOD.replace("0.25", "0.7"), "GR104", "0.7}")
    assert "between 0 and 0.5" in err.fix


def test_missing_levels(folder):
    fails(folder, "graphrnn: 1\nhierarchy: x\n", "GR104", "graphrnn")


def test_version(folder):
    fails(folder, GOOD.replace("graphrnn: 1", "graphrnn: 2"), "GR111", "2")


def test_missing_predictor_file(folder):
    fails(folder, GOOD.replace("p0.yaml", "nope.yaml"), "GR114", "nope.yaml")


def test_gr130_level_sizes_do_not_fit(folder):
    err = fails(folder, GOOD.replace("p1.yaml", "wide.yaml"), "GR130", "wide.yaml")
    assert "9 units" in err.message


def test_gr130_python_construction():
    with pytest.raises(gr.RunError) as info:
        compressor([elman(3, 3), elman(3, 3, name="q")], 0, 1.0, "argmax", 6)
    assert info.value.code == "GR130"


def test_gr131_sequence_not_one_hot():
    hc = compressor([elman(3, 3)], 0, 1.0, "argmax", 0)
    with pytest.raises(gr.RunError) as info:
        hc.compress([np.array([[1.0, 1.0, 0.0]])])
    assert info.value.code == "GR131" and "one-hot" in info.value.message and info.value.fix


def test_gr131_sequence_longer_than_the_time_code():
    hc = compressor([elman(3, 3), elman(9, 3, name="q")], 0, 1.0, "threshold", 6)
    with pytest.raises(gr.RunError) as info:
        hc.compress([np.zeros((7, 3))])
    assert info.value.code == "GR131" and "time_codes: 7" in info.value.fix


def test_gr131_wrong_shape():
    hc = compressor([elman(3, 3)], 0, 1.0, "threshold", 0)
    with pytest.raises(gr.RunError) as info:
        hc.compress([np.zeros((4, 2))])
    assert info.value.code == "GR131"


def test_gr132_tampered_events():
    hc = compressor([elman(3, 3)], 0, 1.0, "argmax", 0)
    packed = hc.compress_one(np.eye(3)[[0, 1, 2, 1]])
    bad = type(packed)(packed.length, (type(packed.top)(packed.top.steps + 1, packed.top.times,
                                                         packed.top.values),))
    with pytest.raises(gr.RunError) as info:
        hc.reconstruct(bad)
    assert info.value.code == "GR132" and info.value.fix


def test_gr133_chunker_state_is_not_a_node(folder):
    err = fails(folder, GOOD.replace("chunker_state: h", "chunker_state: hh"), "GR133", "hh")
    assert "did you mean `h`" in err.message


def test_gr133_automatizer_outputs_do_not_fit(folder):
    fails(folder, GOOD.replace("auto.yaml", "p0.yaml"), "GR133", "p0.yaml, chunker_state")


def test_gr133_collapse_needs_two_levels(folder):
    text = GOOD.replace("  - {predictor: p1.yaml, surprise: {threshold: 0.25}, loss: bce}\n", "")
    fails(folder, text, "GR133", "{automatizer")


def test_bad_optimizer_is_gr300(folder):
    fails(folder, GOOD.replace("name: adam", "name: adma"), "GR300", "{name: adma")


def test_loads_from_text_anchors_paths(folder):
    spec = loads_hierarchy(GOOD, "<text>", base_dir=folder)
    assert isinstance(spec.levels[1].criterion, ThresholdSurprise)


def test_a_level_optimizer_overrides_training(folder):
    text = GOOD.replace("loss: bce}", "loss: bce, optimizer: {name: sgd, lr: 0.5}}")
    spec = loads_hierarchy(text, "<text>", base_dir=folder)
    assert type(spec.optimizer(1)).__name__ == "SGD" and type(spec.optimizer(0)).__name__ == "Adam"
    fails(folder, text.replace("name: sgd", "name: sdg"), "GR300", "{name: sdg")


def test_collapse_optimizer_is_checked(folder):
    text = GOOD.replace("distill: 0.5}", "distill: 0.5, optimizer: {name: adam, lr: -1}}")
    fails(folder, text, "GR300", "{name: adam, lr: -1}")


def test_unknown_surprise_criterion(folder):
    err = fails(folder, GOOD.replace("surprise: argmax", "surprise: argmx"), "GR104", "argmx")
    assert "surprise: argmax" in err.fix
