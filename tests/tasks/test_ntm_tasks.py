"""The Neural Turing Machine tasks (Graves et al. 2014, Section 4): formats against hand-built examples,
the metrics against direct counts, the Bayes-optimal N-gram predictor against a brute-force posterior."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from graphrnn.tasks import TASKS, make_task
from graphrnn.tasks.ntm_ngrams import bayes_optimal

NTM_TASKS = ["copy", "repeat_copy", "associative_recall", "dynamic_ngrams", "priority_sort"]


def rows(*rs):
    return np.array(rs, dtype=float)


# -- formats, by hand ------------------------------------------------------------------------------

def test_copy_format_by_hand():
    task = make_task("copy", bits=2, min_length=2, max_length=2)
    assert (task.input_size, task.output_size, task.loss) == (3, 2, "bce")
    b = task.sample(0, 1)
    (a, c), (d, e) = b.info["vectors"][0]
    np.testing.assert_array_equal(b.x[:, 0], rows([a, c, 0], [d, e, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]))
    np.testing.assert_array_equal(b.target[:, 0], rows([0, 0], [0, 0], [0, 0], [a, c], [d, e]))
    np.testing.assert_array_equal(b.mask[:, 0], [0, 0, 0, 1, 1])
    assert b.lengths[0] == 5


def test_copy_defaults_are_the_papers():
    task = make_task("copy")
    assert (task.input_size, task.output_size) == (9, 8)
    b = task.sample(1, 400)
    assert set(b.lengths) == {2 * L + 1 for L in range(1, 21)}, "lengths 1..20, all of them"
    for col in range(0, 400, 37):
        L = (b.lengths[col] - 1) // 2
        np.testing.assert_array_equal(b.target[L + 1:2 * L + 1, col], b.x[:L, col, :8])
        assert b.x[L, col].tolist() == [0] * 8 + [1] and not b.x[L + 1:, col].any()
    bits = np.concatenate([v.ravel() for v in b.info["vectors"]])
    assert set(np.unique(bits)) == {0.0, 1.0} and abs(bits.mean() - 0.5) < 0.02


def test_repeat_copy_format_by_hand():
    task = make_task("repeat_copy", bits=2, min_length=2, max_length=2, min_repeats=3, max_repeats=3,
                     train_repeats=(1, 10))
    assert (task.input_size, task.output_size) == (4, 3)
    b = task.sample(0, 1)
    (a, c), (d, e) = b.info["vectors"][0]
    count = (3 - 5.5) / math.sqrt(99 / 12)
    np.testing.assert_allclose(b.x[:, 0], rows([a, c, 0, 0], [d, e, 0, 0], [0, 0, 1, 0], [0, 0, 0, count],
                                               *[[0, 0, 0, 0]] * 7))
    np.testing.assert_array_equal(b.target[:, 0], rows(*[[0, 0, 0]] * 4, [a, c, 0], [d, e, 0], [a, c, 0],
                                                      [d, e, 0], [a, c, 0], [d, e, 0], [0, 0, 1]))
    np.testing.assert_array_equal(b.mask[:, 0], [0] * 4 + [1] * 7)


def test_repeat_count_has_mean_zero_and_variance_one_over_training():
    task = make_task("repeat_copy")
    values = task.normalise(np.arange(1, 11))
    assert abs(np.mean(values)) < 1e-12 and abs(np.var(values) - 1.0) < 1e-12
    longer = make_task("repeat_copy", max_repeats=20, train_repeats=(1, 10))
    assert longer.normalise(10) == task.normalise(10), "test counts coded as in training"
    b = task.sample(2, 300)
    assert set(b.info["repeats"]) == set(range(1, 11)) and set(b.info["length"]) == set(range(1, 11))
    for col in range(0, 300, 29):
        L, R = b.info["length"][col], b.info["repeats"][col]
        assert b.lengths[col] == L + 3 + L * R and b.mask[:, col].sum() == L * R + 1
        assert b.x[L + 1, col, 9] == task.normalise(R)
        assert b.target[b.lengths[col] - 1, col].tolist() == [0] * 8 + [1], "the end marker last"


def test_associative_recall_format_by_hand():
    task = make_task("associative_recall", bits=2, item_length=2, min_items=3, max_items=3)
    b = task.sample(5, 1)
    items, q = b.info["vectors"][0], b.info["query"][0]
    assert q in (0, 1)
    (a1, a2), (b1, b2), (c1, c2) = [[list(v) for v in item] for item in items]
    d, z = [0, 0, 1, 0], [0, 0, 0, 0]
    Q = [[0, 0, 0, 1]]
    query = [v + [0, 0] for v in [list(v) for v in items[q]]]
    expected = rows(d, a1 + [0, 0], a2 + [0, 0], d, b1 + [0, 0], b2 + [0, 0], d, c1 + [0, 0], c2 + [0, 0],
                    *Q, *query, *Q, z, z)
    np.testing.assert_array_equal(b.x[:, 0], expected)
    np.testing.assert_array_equal(b.target[-2:, 0], items[q + 1])
    np.testing.assert_array_equal(b.mask[:, 0], [0] * 13 + [1, 1])


def parse_items(x):
    """An independent reading of an associative-recall input: the items, the query, the answer start."""
    items, query, current, in_query = [], None, None, False
    for t, step in enumerate(x):
        if step[6] == 1:
            current = []
            items.append(current)
        elif step[7] == 1:
            if in_query:
                return items, query, t + 1
            in_query, query = True, []
            current = query
        else:
            current.append(tuple(step[:6]))


def test_associative_recall_target_is_the_item_after_the_query():
    task = make_task("associative_recall")
    assert (task.input_size, task.output_size) == (8, 6)
    b = task.sample(3, 200)
    assert set(b.info["items"]) == {2, 3, 4, 5, 6}
    for col in range(b.size):
        L = b.lengths[col]
        items, query, start = parse_items(b.x[:L, col])
        assert len(items) == b.info["items"][col] and all(len(i) == 3 for i in items)
        where = [k for k, item in enumerate(items) if item == query]
        assert where and where[0] < len(items) - 1
        np.testing.assert_array_equal(b.target[start:L, col], np.array(items[where[0] + 1]))
        assert L - start == 3 and b.mask[start:L, col].all() and not b.mask[:start, col].any()
        assert not b.x[start:L, col].any()


def test_priority_sort_against_sorted():
    task = make_task("priority_sort")
    assert (task.input_size, task.output_size) == (10, 8)
    b = task.sample(4, 100)
    assert set(b.lengths) == {37}
    prios = []
    for col in range(b.size):
        x = b.x[:, col]
        delim = int(np.flatnonzero(x[:, 9])[0])
        pairs = [(float(x[t, 8]), tuple(x[t, :8])) for t in range(delim)]
        prios += [p for p, _ in pairs]
        best = [v for _, v in sorted(pairs, key=lambda pv: pv[0], reverse=True)[:16]]
        assert delim == 20
        np.testing.assert_array_equal(b.target[b.mask[:, col] > 0, col], np.array(best))
        assert not b.x[delim + 1:, col].any()
    prios = np.array(prios)
    assert prios.min() >= -1 and prios.max() <= 1 and abs(prios.mean()) < 0.05
    assert abs(prios.var() - 1 / 3) < 0.03, "uniform on [-1, 1]"


def test_priority_sort_keeps_at_most_the_input():
    task = make_task("priority_sort", min_vectors=3, max_vectors=5, keep=4)
    b = task.sample(0, 50)
    for col in range(b.size):
        L = len(b.info["vectors"][col])
        K = min(4, L)
        assert b.lengths[col] == L + 1 + K and b.mask[:, col].sum() == K


# -- the metrics, against direct counts -----------------------------------------------------------

@pytest.mark.parametrize("name", ["copy", "repeat_copy", "associative_recall", "priority_sort"])
def test_bits_of_error_by_direct_count(name, small):
    task = make_task(name, **small[name])
    b = task.sample(6, 9)
    rng = np.random.default_rng(0)
    y = np.clip(b.target + rng.normal(0, 0.35, b.target.shape), 0, 1)
    y[b.target.shape[0] // 2, 0, 0] = 0.5                       # exactly 0.5 counts as a 1
    count, cost = np.zeros(b.size), np.zeros(b.size)
    T, B, O = y.shape
    for col in range(B):
        for t in range(T):
            if b.mask[t, col] == 0:
                continue
            for o in range(O):
                out = 1 if y[t, col, o] >= 0.5 else 0
                count[col] += out != b.target[t, col, o]
                p = min(max(y[t, col, o], 1e-12), 1 - 1e-12)
                cost[col] -= math.log2(p if b.target[t, col, o] == 1 else 1 - p)
    correct, errors = task.sequence_results(b, y)
    np.testing.assert_array_equal(errors, count)
    np.testing.assert_array_equal(correct, count == 0)
    ev = task.evaluate_outputs(b, y)
    assert ev.metrics["bit_errors"] == pytest.approx(count.mean())
    assert ev.metrics["cost_bits"] == pytest.approx(cost.mean())
    assert ev.metrics["wrong"] == int((count > 0).sum()) and ev.solved == (count.mean() < 0.1)


@pytest.mark.parametrize("name", NTM_TASKS)
def test_outputs_outside_the_answer_do_not_count(name, small):
    task = make_task(name, **small[name])
    b = task.sample(3, 8)
    y = np.where(b.mask[..., None] > 0, b.target, 1.0 - b.target)   # certain and wrong everywhere else
    assert task.evaluate_outputs(b, y).metrics == task.evaluate_outputs(b, b.target).metrics
    assert task.evaluate_outputs(b, y).solved


def test_bits_threshold_is_max_bit_errors():
    task = make_task("copy", min_length=10, max_length=10)
    b = task.sample(0, 20)
    y = b.target.copy()
    y[11, 0, 0] = 1 - y[11, 0, 0]                               # 1 bit in 20 sequences: 0.05
    assert task.evaluate_outputs(b, y).solved
    y[12, 1, 0] = 1 - y[12, 1, 0]                               # 2 bits: 0.1, not below 0.1
    ev = task.evaluate_outputs(b, y)
    assert not ev.solved and ev.metrics["bit_errors"] == 0.1 and ev.metrics["wrong"] == 2


# -- dynamic N-grams --------------------------------------------------------------------------------

def test_bayes_predictor_by_hand():
    # n = 3: the context is the two bits before; bits 0 and 1 are i.i.d. 1/2
    p = bayes_optimal(np.array([[1, 1, 0, 1, 1, 0, 1]]), 3)
    np.testing.assert_allclose(p[0], [0.5, 0.5, 0.5, 0.5, 0.25, 0.75])


def brute_force_predictive(bits, n, nodes=40):
    """P(next bit = 1 | bits so far) by numerical integration over all 2**(n-1) table entries jointly.

    Beta(1/2, 1/2) is the law of sin(u)**2 with u uniform on (0, pi/2); the prior is integrated
    on a Gauss-Legendre grid in u, one axis per context (the likelihood is not factorised)."""
    u, w = np.polynomial.legendre.leggauss(nodes)
    u, w = (u + 1) * np.pi / 4, w * np.pi / 4 / (np.pi / 2)       # weights of the uniform law on (0, pi/2)
    K = 2 ** (n - 1)
    grid = np.meshgrid(*[np.sin(u) ** 2] * K, indexing="ij")
    weight = np.ones([nodes] * K)
    for k in range(K):
        weight = weight * w.reshape([-1 if j == k else 1 for j in range(K)])
    out = []
    like = weight.copy()
    for j in range(1, len(bits)):                 # predict bits[j] from bits[:j]
        if j < n - 1:
            out.append(0.5)
            continue
        if j - 1 >= n - 1:                        # bits[j-1] came from the table: into the likelihood
            c = int("".join(str(v) for v in bits[j - n:j - 1]), 2)
            like = like * (grid[c] if bits[j - 1] else 1 - grid[c])
        c = int("".join(str(v) for v in bits[j - n + 1:j]), 2)
        out.append(float(np.sum(like * grid[c]) / np.sum(like)))
    return np.array(out)


def test_bayes_predictor_against_brute_force_posterior():
    task = make_task("dynamic_ngrams", n=3, length=14)
    b = task.sample(11, 4)
    exact = bayes_optimal(b.info["bits"], 3)
    for col in range(4):
        np.testing.assert_allclose(exact[col], brute_force_predictive(b.info["bits"][col], 3), atol=1e-9)
    np.testing.assert_allclose(task.optimal_outputs(b)[..., 0].T, exact)


def test_ngram_generator():
    task = make_task("dynamic_ngrams")
    assert (task.input_size, task.output_size, task.loss) == (1, 1, "bce")
    b = task.sample(7, 400)
    bits, probs = b.info["bits"], b.info["probs"]
    assert bits.shape == (400, 200) and probs.shape == (400, 32)
    assert b.x.shape == (199, 400, 1) and b.mask.all() and set(b.lengths) == {199}
    np.testing.assert_array_equal(b.x[1:, :, 0], b.target[:-1, :, 0])
    np.testing.assert_array_equal(b.target[:, :, 0].T, bits[:, 1:])
    assert abs(probs.mean() - 0.5) < 0.01 and abs(probs.var() - 1 / 8) < 0.005, "Beta(1/2, 1/2)"
    assert abs(bits[:, :5].mean() - 0.5) < 0.03
    p = np.array([[probs[s, int("".join(map(str, bits[s, t - 5:t])), 2)] for t in range(5, 200)]
                  for s in range(400)])
    drawn = bits[:, 5:]
    assert abs((drawn - p).mean()) < 4 * math.sqrt(np.mean(p * (1 - p)) / p.size)
    for lo, hi in [(0, 0.1), (0.45, 0.55), (0.9, 1.0)]:
        sel = (p >= lo) & (p < hi)
        assert lo - 0.02 < drawn[sel].mean() < hi + 0.02


def test_optimal_cost_is_near_the_papers_133_bits():
    task = make_task("dynamic_ngrams")
    b = task.sample(0, 1000)
    ev = task.evaluate_outputs(b, task.optimal_outputs(b))
    assert ev.solved and ev.metrics["excess_bits"] == 0.0
    assert 130 < ev.metrics["optimal_bits"] < 135              # paper, Figure 13: about 133
    half = task.evaluate_outputs(b, np.full_like(b.target, 0.5))
    assert half.metrics["cost_bits"] == pytest.approx(199) and not half.solved


def test_ngram_criterion_margin():
    task = make_task("dynamic_ngrams", n=3, length=40)
    b = task.sample(1, 50)
    best = task.optimal_outputs(b)
    worse = np.clip(best + 0.02 * (0.5 - best), 0, 1)             # a little less sure: a small excess
    ev = task.evaluate_outputs(b, worse)
    assert 0 < ev.metrics["excess_bits"] < 1 and ev.solved
    tight = make_task("dynamic_ngrams", n=3, length=40, max_excess_bits=ev.metrics["excess_bits"] / 2)
    assert not tight.evaluate_outputs(b, worse).solved
    y = best.copy()
    y[5, 2, 0] = 1.0 - b.target[5, 2, 0]                          # certain and wrong: infinitely many bits
    ev = task.evaluate_outputs(b, y)
    assert ev.metrics["cost_bits"] == math.inf and not ev.solved
    correct, excess = task.sequence_results(b, y)
    assert not correct[2] and correct[np.arange(50) != 2].all() and excess[2] == math.inf


# -- determinism, registry, success() end to end ----------------------------------------------------

@pytest.mark.parametrize("name", NTM_TASKS)
def test_batches_are_deterministic(name, small):
    task = make_task(name, **small[name])
    a, b = task.sample(7, 5), task.sample(np.random.default_rng(7), 5)
    for field in ("x", "target", "mask", "lengths"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    rng = np.random.default_rng(7)
    first, second = task.sample(rng, 5), task.sample(rng, 5)
    assert first.x.shape != second.x.shape or not np.array_equal(first.x, second.x)
    assert name in TASKS and TASKS[name] is type(task)


@pytest.mark.parametrize("name", ["copy", "repeat_copy", "associative_recall", "priority_sort"])
def test_lengths_vary_within_a_batch(name, small):
    b = make_task(name, **small[name]).sample(0, 30)
    assert len(set(b.lengths)) > 1
    part = b.take(np.array([int(np.argmin(b.lengths))]))
    assert part.steps == b.lengths.min() and len(part.info["vectors"]) == 1


@pytest.mark.parametrize("name, options, word", [
    ("copy", {"min_length": 5, "max_length": 3}, "max_length"),
    ("copy", {"max_bit_errors": 0}, "max_bit_errors"),
    ("repeat_copy", {"train_repeats": (3,)}, "train_repeats"),
    ("associative_recall", {"min_items": 1}, "min_items"),
    ("priority_sort", {"keep": 0}, "keep"),
    ("dynamic_ngrams", {"n": 1}, "n"),
    ("dynamic_ngrams", {"n": 6, "length": 6}, "length"),
])
def test_bad_options_name_the_option(name, options, word):
    with pytest.raises(ValueError, match=word):
        make_task(name, **options)


class Oracle:
    """A stand-in network whose outputs are ``fn(x)``."""

    name = "oracle"

    def __init__(self, task, fn):
        self.input_size, self.output_size, self.fn = task.input_size, task.output_size, fn

    def run(self, params, x, state=None):
        return SimpleNamespace(y=self.fn(np.asarray(x)), state=None)


def copy_oracle(x):
    """Copies each column's vectors after its delimiter, read from the input alone."""
    y = np.zeros(x.shape[:2] + (x.shape[2] - 1,))
    for col in range(x.shape[1]):
        L = int(np.flatnonzero(x[:, col, -1])[0])
        y[L + 1:2 * L + 1, col] = x[:L, col, :-1]
    return y


def ngram_oracle(x):
    bits = np.concatenate([x[:, :, 0].T, np.zeros((x.shape[1], 1))], axis=1).astype(int)
    return bayes_optimal(bits, 6).T[..., None]           # prediction t uses bits 0..t only


def test_success_end_to_end():
    task = make_task("copy", test_size=300)
    ev = task.success(Oracle(task, copy_oracle), None, 0)
    assert ev.solved and ev.metrics["bit_errors"] == 0 and ev.metrics["of"] == 300
    bad = task.success(Oracle(task, lambda x: 1 - copy_oracle(x)), None, 0)
    assert not bad.solved and bad.metrics["bit_errors"] > 8
    ngrams = make_task("dynamic_ngrams", test_size=200)
    ev = ngrams.success(Oracle(ngrams, ngram_oracle), None, 1)
    assert ev.solved and abs(ev.metrics["excess_bits"]) < 1e-9
    assert not ngrams.success(Oracle(ngrams, lambda x: np.full(x.shape, 0.5)), None, 1).solved


def test_every_ntm_task_names_its_source_and_criterion():
    for name in NTM_TASKS:
        doc = TASKS[name].__doc__
        assert "Graves et al. 2014" in doc and "Criterion" in doc and "Verified" in doc
