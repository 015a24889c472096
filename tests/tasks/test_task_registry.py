"""The task registry and make_task: names, options, did-you-mean errors."""
import pytest

from graphrnn.ops.losses import LOSSES
from graphrnn.tasks import TASKS, Task, make_task, task_options


def test_every_task_is_registered_under_its_name(small):
    assert set(TASKS) == set(small)
    for name, cls in TASKS.items():
        assert cls.name == name and issubclass(cls, Task)
        assert cls.__doc__ and "Criterion" in cls.__doc__, f"{name}: docstring must state the criterion"


def test_sizes_and_loss(task):
    assert isinstance(task.input_size, int) and task.input_size >= 1
    assert isinstance(task.output_size, int) and task.output_size >= 1
    assert task.loss in LOSSES


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"unknown task `addin`.*did you mean `adding`"):
        make_task("addin")
    with pytest.raises(ValueError, match="unknown task"):
        make_task("nothing_like_it")


def test_unknown_option_suggests_the_closest():
    with pytest.raises(ValueError, match=r"no option `test_sise`.*did you mean `test_size`"):
        make_task("adding", test_sise=5)
    with pytest.raises(ValueError, match=r"no option `length`.*options: "):
        make_task("parity", length=5)


@pytest.mark.parametrize("name, options, word", [
    ("adding", {"T": 5}, "T"),
    ("adding", {"T": 100.5}, "T"),
    ("adding", {"error_measure": "rmse"}, "error_measure"),
    ("multiplication", {"n_seq": 50}, "max_wrong"),
    ("parity", {"min_length": 30, "max_length": 20}, "max_length"),
    ("parity", {"noise": -0.1}, "noise"),
    ("long_lag_2a", {"p": 1}, "p"),
    ("continual_embedded_reber", {"threshold": 0}, "threshold"),
    ("latch", {"targets": (1.0,)}, "targets"),
    ("latch", {"test_size": 252_147_483_648}, "test_size"),   # refused before any data is drawn
    ("latch", {"noise_std": -1.0}, "noise_std"),
    ("embedded_reber", {"train_size": 10 ** 8}, "train_size"),
])
def test_bad_values_name_the_option(name, options, word):
    with pytest.raises(ValueError, match=word):
        make_task(name, **options)


def test_options_round_trip(task):
    again = make_task(task.name, **task.options())
    assert again.options() == task.options()
    assert set(task.options()) <= set(task_options(task.name))
    assert task.name in repr(task) or type(task).__name__ in repr(task)


def test_defaults_are_the_papers():
    assert task_options("adding")["T"] == 100 and task_options("adding")["test_size"] == 2560
    assert task_options("embedded_reber")["train_size"] == 256
    assert task_options("long_lag_2a")["p"] == 100 and task_options("long_lag_2a")["test_size"] == 10_000
    assert task_options("parity")["min_length"] == 500 and task_options("parity")["max_length"] == 600
