"""The memory step's hand-written backward pass against autograd's gradient of the same step
composed of autograd.numpy operations, and against central differences."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from graphrnn.ops import memory as mem


def case(reads, writes, seed, B=2, N=6, M=3, S=3):
    options = {**mem.OPTIONS, "slots": N, "width": M, "reads": reads, "writes": writes, "shifts": S}
    rng = np.random.default_rng(seed)
    ports = {p: rng.normal(size=(B, n)) for p, n in mem.port_sizes(options).items()}
    memory = rng.normal(size=(B, N, M))
    weightings = rng.dirichlet(np.ones(N), size=(B, reads + writes))
    probes = (rng.normal(size=(B, reads * M)), rng.normal(size=(B, N, M)), rng.normal(size=(B, reads + writes, N)))
    return options, ports, memory, weightings, probes


def scalar(step, options, probes):
    def f(ports, memory, weightings):
        value, (new_memory, new_weightings), _ = step(options, ports, (memory, weightings))
        return anp.sum(value * probes[0]) + anp.sum(new_memory * probes[1]) + anp.sum(new_weightings * probes[2])
    return f


@pytest.mark.parametrize("reads, writes, seed", [(1, 1, 0), (2, 1, 1), (1, 2, 2), (2, 3, 3), (1, 0, 4)])
def test_step_and_its_backward_pass_equal_the_composed_step(reads, writes, seed):
    options, ports, memory, weightings, probes = case(reads, writes, seed)
    fast, slow = scalar(mem.step, options, probes), scalar(mem.step_composed, options, probes)
    assert abs(fast(ports, memory, weightings) - slow(ports, memory, weightings)) < 1e-12
    for argnum in range(3):
        got = grad(fast, argnum)(ports, memory, weightings)
        want = grad(slow, argnum)(ports, memory, weightings)
        for a, b in (zip(got.values(), want.values()) if argnum == 0 else [(got, want)]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_backward_pass_matches_central_differences():
    options, ports, memory, weightings, probes = case(1, 1, 5)
    f = scalar(mem.step, options, probes)
    analytic = grad(f, 1)(ports, memory, weightings)
    numeric = np.zeros_like(memory)
    h = 1e-6
    for idx in np.ndindex(memory.shape):
        up, down = memory.copy(), memory.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (f(ports, up, weightings) - f(ports, down, weightings)) / (2 * h)
    assert np.abs(analytic - numeric).max() / np.abs(numeric).max() < 1e-6


def test_several_write_heads_erase_first_then_add_as_the_paper_does():
    """Graves et al. 2014, sec. 3.2: every erase, then every add.  One slot of width 1 at 0; head 1
    adds 1 and erases nothing, head 2 erases half and adds 0: the paper's memory is 1.0 (erasing
    one head at a time after the other's add would give 0.5), in either order of the heads."""
    from graphrnn.ops import ntm
    memory = np.zeros((1, 1, 1))
    one = np.ones((1, 1))
    first, second = (one, 0.0 * one, one), (one, 0.5 * one, 0.0 * one)
    assert ntm.write_heads(memory, [first, second])[0, 0, 0] == 1.0
    assert ntm.write_heads(memory, [second, first])[0, 0, 0] == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_the_order_of_the_write_heads_does_not_matter(seed):
    options, ports, memory, weightings, probes = case(1, 2, seed)
    swapped = {**ports, "write1": ports["write2"], "write2": ports["write1"]}
    swapped_w = weightings[:, [0, 2, 1]]
    _, (new, new_w), _ = mem.step(options, ports, (memory, weightings))
    _, (new_swapped, new_w_swapped), _ = mem.step(options, swapped, (memory, swapped_w))
    np.testing.assert_allclose(new, new_swapped, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(new_w[:, [0, 2, 1]], new_w_swapped, rtol=1e-13, atol=1e-13)
