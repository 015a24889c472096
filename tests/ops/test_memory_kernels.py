"""ops/memory_kernels.py, the memory step compiled by numba, against memory_step.py's numpy step (itself
held to autograd and to central differences in test_memory_step.py): the three outputs and the three
gradients, for one to five heads of each kind, several rows, shifts of 1, 3 and 5, float64 and
float32.  Skipped where numba is not installed."""
import numpy as np
import pytest

pytest.importorskip("numba")

from graphrnn.ops import memory as mem  # noqa: E402
from graphrnn.ops import memory_kernels, memory_step  # noqa: E402


def case(reads, writes, B, N, M, S, seed, dtype=np.float64):
    options = tuple(sorted({**mem.OPTIONS, "slots": N, "width": M, "reads": reads, "writes": writes,
                            "shifts": S}.items()))
    rng = np.random.default_rng(seed)
    P = sum(mem.port_sizes(dict(options)).values())
    raw = (2 * rng.normal(size=(B, P))).astype(dtype)
    memory = rng.normal(size=(B, N, M)).astype(dtype)
    weightings = rng.dirichlet(np.ones(N), size=(B, reads + writes)).astype(dtype)
    cotangents = tuple(rng.normal(size=shape).astype(dtype) for shape in ((B, reads * M), (B, N, M), (B, reads + writes, N)))
    return options, raw, memory, weightings, cotangents


@pytest.mark.parametrize("reads, writes, B, N, M, S", [(1, 1, 1, 128, 20, 3), (2, 3, 2, 7, 3, 3), (5, 5, 1, 16, 4, 3),
                                                       (1, 0, 3, 6, 4, 5), (1, 2, 2, 9, 2, 1)])
def test_the_compiled_step_equals_the_numpy_step(reads, writes, B, N, M, S):
    options, raw, memory, weightings, g = case(reads, writes, B, N, M, S, seed=reads * 10 + writes)
    want, want_cache = memory_step.step_forward(raw, memory, weightings, options)
    got, got_cache = memory_kernels.step_forward(raw, memory, weightings, options)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    grads_want = memory_step.step_backward(raw, memory, weightings, options, want, want_cache, g)
    grads_got = memory_kernels.step_backward(raw, memory, weightings, options, got, got_cache, g)
    for a, b in zip(grads_got, grads_want):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_missing_cotangents_are_zero_and_float32_stays_float32():
    options, raw, memory, weightings, g = case(1, 1, 2, 8, 3, 3, seed=7, dtype=np.float32)
    got, cache = memory_kernels.step_forward(raw, memory, weightings, options)
    assert all(a.dtype == np.float32 for a in got)
    want, want_cache = memory_step.step_forward(raw, memory, weightings, options)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    only_memory = (None, g[1], None)
    grads = memory_kernels.step_backward(raw, memory, weightings, options, got, cache, only_memory)
    grads_want = memory_step.step_backward(raw, memory, weightings, options, want, want_cache, only_memory)
    for a, b in zip(grads, grads_want):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
