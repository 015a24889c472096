"""The NTM memory arithmetic against direct loops of the paper's equations, its invariants
(weightings are distributions, shifts wrap around) and its safety at extreme inputs."""
import math

import autograd.numpy as anp
import numpy as np
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrnn.ops import ntm

N, M, S = 5, 3, 3


def raw_head(rng, write, scale=1.0, B=2):
    size = sum(ntm.head_sizes(M, S, write).values())
    return scale * rng.normal(size=(B, size))


def loop_address(memory, previous, raw, write=False):
    """Graves et al. 2014, equations (5)-(9), one row and one slot at a time."""
    out = []
    for b in range(memory.shape[0]):
        key, beta, g = raw[b, :M], math.log1p(math.exp(raw[b, M])), 1 / (1 + math.exp(-raw[b, M + 1]))
        s = np.exp(raw[b, M + 2:M + 2 + S] - raw[b, M + 2:M + 2 + S].max())
        s /= s.sum()
        gamma = 1 + math.log1p(math.exp(raw[b, M + 2 + S]))
        sims = []
        for i in range(N):
            row = memory[b, i]
            norm = math.sqrt(row @ row + ntm.EPS ** 2) * math.sqrt(key @ key + ntm.EPS ** 2)
            sims.append(beta * (key @ row) / norm)
        wc = np.exp(np.array(sims) - max(sims))
        wc /= wc.sum()
        wg = g * wc + (1 - g) * previous[b]
        shifted = np.zeros(N)
        for i in range(N):
            for j, k in enumerate(range(-(S // 2), S // 2 + 1)):
                shifted[i] += wg[(i - k) % N] * s[j]
        sharp = (shifted + ntm.EPS) ** gamma
        out.append(sharp / sharp.sum())
    return np.array(out)


def test_address_matches_the_papers_equations_written_as_loops():
    rng = np.random.default_rng(0)
    memory = rng.normal(size=(2, N, M))
    previous = rng.dirichlet(np.ones(N), size=2)
    raw = raw_head(rng, write=False)
    head = ntm.split_head(raw, M, S, write=False)
    np.testing.assert_allclose(ntm.address(memory, previous, head), loop_address(memory, previous, raw),
                               rtol=1e-12, atol=1e-15)


def test_read_and_write_match_loops():
    rng = np.random.default_rng(1)
    memory, w = rng.normal(size=(2, N, M)), rng.dirichlet(np.ones(N), size=2)
    erase, add = rng.uniform(size=(2, M)), rng.normal(size=(2, M))
    expected_read = np.array([[sum(w[b, i] * memory[b, i, j] for i in range(N)) for j in range(M)] for b in range(2)])
    np.testing.assert_allclose(ntm.read(memory, w), expected_read, rtol=1e-13)
    expected = memory.copy()
    for b in range(2):
        for i in range(N):
            for j in range(M):
                expected[b, i, j] = memory[b, i, j] * (1 - w[b, i] * erase[b, j]) + w[b, i] * add[b, j]
    np.testing.assert_allclose(ntm.write(memory, w, erase, add), expected, rtol=1e-13)


def test_shift_wraps_around_instead_of_padding_with_zeros():
    w = np.zeros((1, N))
    w[0, N - 1] = 1.0
    forward, backward = np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(ntm.circular_shift(w, forward), np.eye(N)[[0]])
    w0 = np.eye(N)[[0]]
    np.testing.assert_array_equal(ntm.circular_shift(w0, backward), np.eye(N)[[N - 1]])


def test_write_heads_split_erase_and_add_after_the_addressing_parameters():
    raw = np.arange(sum(ntm.head_sizes(M, S, True).values()), dtype=float)[None, :] / 10
    head = ntm.split_head(raw, M, S, write=True)
    np.testing.assert_allclose(head["add"], raw[:, -M:])
    np.testing.assert_allclose(head["erase"], 1 / (1 + np.exp(-raw[:, -2 * M:-M])))
    assert head["gamma"].item() >= 1 and head["beta"].item() >= 0


@settings(deadline=None)
@given(st.lists(st.sampled_from([-1e3, -30.0, -1.0, 0.0, 1.0, 30.0, 1e3]), min_size=M + 3 + S, max_size=M + 3 + S),
       st.booleans(), st.integers(0, 3))
def test_weightings_are_distributions_and_finite_at_extremes(raw, zero_memory, seed):
    rng = np.random.default_rng(seed)
    raw = np.array([raw])
    memory = np.zeros((1, N, M)) if zero_memory else rng.normal(size=(1, N, M))
    previous = rng.dirichlet(np.ones(N), size=1)

    def weighting(raw):
        return ntm.address(memory, previous, ntm.split_head(raw, M, S, write=False))

    w = weighting(raw)
    assert np.all(w >= 0) and np.all(np.isfinite(w))
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    g = grad(lambda r: anp.sum(weighting(r) * np.arange(N)))(raw)
    assert np.all(np.isfinite(g))


def test_gradient_through_address_write_read_matches_central_differences():
    rng = np.random.default_rng(2)
    memory = rng.normal(size=(2, N, M))
    previous = rng.dirichlet(np.ones(N), size=2)
    raws = np.concatenate([raw_head(rng, False), raw_head(rng, True)], axis=-1)
    read_size = sum(ntm.head_sizes(M, S, False).values())
    probe = rng.normal(size=(2, M))

    def f(raws):
        rh = ntm.split_head(raws[:, :read_size], M, S, write=False)
        wh = ntm.split_head(raws[:, read_size:], M, S, write=True)
        w_write = ntm.address(memory, previous, wh)
        new = ntm.write(memory, w_write, wh["erase"], wh["add"])
        return anp.sum(ntm.read(new, ntm.address(new, previous, rh)) * probe)

    analytic = grad(f)(raws)
    numeric = np.zeros_like(raws)
    h = 1e-6
    for idx in np.ndindex(raws.shape):
        up, down = raws.copy(), raws.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (f(up) - f(down)) / (2 * h)
    rel = np.abs(analytic - numeric).max() / max(np.abs(numeric).max(), 1e-12)
    assert rel < 1e-6, rel
