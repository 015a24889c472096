"""Experiment files: the schema, located errors with did-you-mean, task/optimizer/size checks."""
from pathlib import Path

import pytest

from graphrnn.errors import SpecError, TrainError
from graphrnn.train.experiment import experiment_schema, load_experiment, loads_experiment
from graphrnn.train.loop import TrainingPlan

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
graphrnn: 1
experiment: tiny_latch
doc: A tiny latch problem.
network: net.yaml
task: {name: latch, min_length: 5, max_length: 8, train_size: 20, test_size: 20}
optimizer: {name: adam, lr: 0.05, clip: {norm: 1.0}}
train: {sequences: 400, batch: 10, seed: 3, evaluate_every: 100, checkpoint_every: 100}
"""


def load(folder, text, name="exp.yaml"):
    path = folder / name
    path.write_text(text)
    return load_experiment(path)


def error_of(folder, text, kind=TrainError):
    with pytest.raises(kind) as info:
        load(folder, text)
    return info.value


def line_col(err):
    return err.loc.line, err.loc.col


def where(text, needle, nth=1):
    """(line, col), 1-based, of the nth occurrence of ``needle`` in ``text``."""
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


def test_a_good_experiment_builds_its_network_task_optimizer_and_plan(net_folder):
    exp = load(net_folder, GOOD)
    assert exp.name == "tiny_latch" and exp.doc == "A tiny latch problem."
    assert exp.seeds == (3,)
    assert Path(exp.network_path) == (net_folder / "net.yaml").resolve()
    setup = exp.build()
    assert setup.net.input_size == setup.task.input_size == 1
    assert setup.optimizer.name == "adam"
    assert exp.plan() == TrainingPlan(sequences=400, batch=10, seed=3, evaluate_every=100,
                                      checkpoint_every=100)
    assert exp.plan(7, sequences=50).seed == 7


def test_runs_and_seeds(net_folder):
    assert load(net_folder, GOOD + "runs: 3\n").seeds == (3, 4, 5)
    assert load(net_folder, GOOD + "seeds: [9, 1]\n").seeds == (9, 1)
    text = GOOD + "runs: 3\nseeds: [9, 1]\n"
    err = error_of(net_folder, text)
    assert err.code == "GR300" and line_col(err) == where(text, "3\nseeds")


def test_the_schema_is_draft_2020_12_and_shipped():
    schema = experiment_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) >= {"graphrnn", "experiment", "network", "task", "optimizer", "train"}


def test_a_misspelt_key_is_located_with_did_you_mean(net_folder):
    text = GOOD.replace("evaluate_every", "evalute_every")
    err = error_of(net_folder, text, SpecError)
    assert err.code == "GR103"
    assert "unknown key `evalute_every` in train (did you mean `evaluate_every`?)" in err.message
    assert str(err.loc).endswith("exp.yaml:%d:%d" % where(text, "evalute_every"))
    assert where(text, "evalute_every")[0] == 7
    err = error_of(net_folder, GOOD.replace("optimizer:", "optimiser:"), SpecError)
    assert err.code == "GR103" and "did you mean `optimizer`?" in err.message
    assert line_col(err) == (6, 1)


def test_a_bad_value_is_located(net_folder):
    text = GOOD.replace("batch: 10", "batch: 0")
    err = error_of(net_folder, text, SpecError)
    assert err.code == "GR104" and line_col(err) == where(text, "0, seed")
    assert "train.batch" in err.message
    err = error_of(net_folder, GOOD.replace("graphrnn: 1", "graphrnn: 2"), SpecError)
    assert err.code == "GR111"


def test_an_unknown_task_is_located_with_did_you_mean(net_folder):
    text = GOOD.replace("name: latch", "name: lacth")
    err = error_of(net_folder, text)
    assert err.code == "GR300"
    assert "unknown task `lacth` (did you mean `latch`?)" in err.message
    assert line_col(err) == where(text, "lacth")
    assert "embedded_reber" in err.fix


def test_an_unknown_task_option_and_a_bad_option_value_are_located(net_folder):
    text = GOOD.replace("train_size", "trian_size")
    err = error_of(net_folder, text)
    assert err.code == "GR300" and "no option `trian_size` (did you mean `train_size`?)" in err.message
    assert line_col(err) == where(text, "trian_size")
    text = GOOD.replace("max_length: 8", "max_length: 2")
    err = error_of(net_folder, text)
    assert err.code == "GR300" and "max_length" in err.message
    assert line_col(err) == where(text, "2, train_size")


def test_an_unknown_optimizer_and_option_are_located(net_folder):
    text = GOOD.replace("name: adam", "name: adma")
    err = error_of(net_folder, text)
    assert err.code == "GR300" and "unknown optimizer `adma` (did you mean `adam`?)" in err.message
    assert line_col(err) == where(text, "adma")
    text = GOOD.replace("clip:", "clipp:")
    err = error_of(net_folder, text)
    assert err.code == "GR300" and "`clipp`" in err.message and "did you mean `clip`?" in err.message
    assert line_col(err) == where(text, "clipp")
    text = GOOD.replace("lr: 0.05", "lr: -1")
    err = error_of(net_folder, text)
    assert err.code == "GR300" and line_col(err) == where(text, "-1")


def test_a_bad_clip_or_schedule_is_located_at_its_nested_key(net_folder):
    text = GOOD.replace("clip: {norm: 1.0}", "clip: {norm: -1.0}")
    err = error_of(net_folder, text)
    assert err.code == "GR300" and "clip norm must be > 0" in err.message
    assert line_col(err) == where(text, "-1.0")
    text = GOOD.replace("clip: {norm: 1.0}", "clip: {nrom: 1.0}")
    err = error_of(net_folder, text)
    assert "unknown key `nrom` in clip" in err.message and line_col(err) == where(text, "nrom")
    text = GOOD.replace("clip: {norm: 1.0}", "schedule: {step: {factor: 0.5, every: 0}}")
    err = error_of(net_folder, text)
    assert "step decay `every` must be a whole number" in err.message and line_col(err) == where(text, "0}}")
    text = GOOD.replace("clip: {norm: 1.0}", "schedule: {exponential: -2}")
    err = error_of(net_folder, text)
    assert "exponential decay rate" in err.message and line_col(err) == where(text, "-2")


def test_config_errors_carry_the_key_and_its_path():
    from graphrnn.errors import ConfigError
    from graphrnn.tasks import make_task
    from graphrnn.train.optimizers import from_config
    with pytest.raises(ConfigError) as info:
        from_config({"name": "sgd", "lr": 0.1, "schedule": {"step": {"factor": 0.5, "every": 0}}})
    assert info.value.path == ("schedule", "step", "every") and info.value.key == "every"
    assert not info.value.unknown
    with pytest.raises(ConfigError) as info:
        from_config({"name": "adam", "lr": 0.1, "b3": 0.5})
    assert info.value.path == ("b3",) and info.value.unknown
    with pytest.raises(ConfigError) as info:
        make_task("latch", min_length=9, max_length=3)
    assert info.value.key == "max_length" and isinstance(info.value, ValueError)


def test_a_network_that_does_not_fit_the_task_is_located_with_the_fix(net_folder):
    text = GOOD.replace("net.yaml", "elman")   # the library's elman: 4 inputs, 2 outputs
    err = error_of(net_folder, text)
    assert err.code == "GR300"
    assert "has 4 inputs and 2 outputs; task `latch` needs 1 inputs and 1 outputs" in err.message
    assert line_col(err) == where(text, "elman")
    assert "`inputs:` add up to 1" in err.fix


def test_a_missing_network_is_located(net_folder):
    text = GOOD.replace("net.yaml", "nett.yaml")
    err = error_of(net_folder, text, SpecError)
    assert err.code == "GR114" and line_col(err) == where(text, "nett.yaml")


def test_tbptt_needs_k1_and_sse_needs_a_squared_error_task(net_folder):
    err = error_of(net_folder, GOOD.replace("seed: 3", "seed: 3, method: tbptt"))
    assert err.code == "GR300" and "k1" in err.message
    exp = load(net_folder, GOOD.replace("seed: 3", "seed: 3, loss: sse"))
    assert exp.plan().loss == "sse" and exp.plan(5).loss == "sse"


def test_a_missing_experiment_file_is_gr114(tmp_path):
    with pytest.raises(SpecError) as info:
        load_experiment(tmp_path / "nope.yaml")
    assert info.value.code == "GR114"


def test_unsafe_yaml_is_refused(net_folder):
    with pytest.raises(SpecError) as info:
        loads_experiment("!!python/object/apply:os.system [ls]\n", str(net_folder / "x.yaml"))
    assert info.value.code == "GR101"


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name)
def test_the_shipped_experiments_load(path):
    exp = load_experiment(path)
    assert exp.seeds and exp.name


def test_a_task_asking_for_a_million_strings_is_checked_without_drawing_them(net_folder):
    """Reading an experiment checks its task's options; the data sets are drawn when training
    first asks for them (a million Reber strings take a minute)."""
    (net_folder / "reber.yaml").write_text(
        "graphrnn: 1\nname: r\ninputs: {x: 7}\noutputs: {y: 7}\nnodes:\n  h: {size: 3}\n  y: {size: 7}\n"
        "edges:\n  - {from: x, to: h}\n  - {from: h, to: h, delay: 1}\n  - {from: h, to: y}\n")
    text = GOOD.replace("net.yaml", "reber.yaml").replace(
        "{name: latch, min_length: 5, max_length: 8, train_size: 20, test_size: 20}",
        "{name: embedded_reber, train_size: 1000000, test_size: 1000000}")
    task = load(net_folder, text).build().task
    assert task.train_size == task.test_size == 1_000_000 and task._sets is None
    too_many = error_of(net_folder, text.replace("train_size: 1000000", "train_size: 10000001"))
    assert too_many.code == "GR300" and "train_size" in too_many.message
