"""Small instances of every registered task, shared by the task tests."""
import pytest

from graphrnn.tasks import make_task

#: options that keep every task small and fast
SMALL = {
    "embedded_reber": {"train_size": 16, "test_size": 16},
    "continual_embedded_reber": {"length": 40, "test_streams": 3, "max_symbols": 300, "chunk": 100},
    "long_lag_2a": {"p": 6, "test_size": 200},
    "long_lag_2b": {"p": 6, "test_size": 200},
    "long_lag_2c": {"p": 5, "q": 8, "test_size": 200},
    "adding": {"T": 20, "test_size": 100},
    "multiplication": {"T": 20, "test_size": 100, "max_wrong": 3},
    "temporal_order_6a": {"test_size": 100},
    "temporal_order_6b": {"test_size": 100},
    "delayed_xor": {"T": 20, "test_size": 100},
    "parity": {"min_length": 20, "max_length": 30, "train_size": 10, "test_size": 10},
    "latch": {"min_length": 20, "max_length": 30, "train_size": 10, "test_size": 10},
    "copy": {"max_length": 5, "test_size": 20},
    "repeat_copy": {"max_length": 4, "max_repeats": 3, "test_size": 20},
    "associative_recall": {"max_items": 4, "test_size": 20},
    "dynamic_ngrams": {"n": 3, "length": 40, "test_size": 20},
    "priority_sort": {"min_vectors": 4, "max_vectors": 6, "keep": 4, "test_size": 20},
    "history_lag": {"lag": 5},
}


@pytest.fixture(scope="session")
def small():
    return SMALL


@pytest.fixture(params=sorted(SMALL))
def task(request):
    """Each registered task, small."""
    return make_task(request.param, **SMALL[request.param])
