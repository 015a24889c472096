"""graphrnn.train.history: which row of a run's history counts as the success."""
from graphrnn.train.history import first_solved_row

TESTED = {"test_solved": 1.0}


def test_the_training_stop_counts_even_after_an_earlier_passed_test():
    # the 1997 experiments count sequences until the training stop; a periodic test may pass first
    history = [{"sequences": 10_000, **TESTED}, {"sequences": 15_000},
               {"sequences": 17_385, "history_criterion": 1.0, **TESTED}]
    assert first_solved_row(history)["sequences"] == 17_385


def test_without_a_training_stop_the_first_passed_test_counts():
    history = [{"sequences": 100, "test_solved": 0.0}, {"sequences": 200, **TESTED}, {"sequences": 300, **TESTED}]
    assert first_solved_row(history)["sequences"] == 200
    assert first_solved_row([{"sequences": 100, "test_solved": 0.0}]) is None
