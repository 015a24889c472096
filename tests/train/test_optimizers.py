"""Optimizers, clipping and schedules against hand-computed numpy references."""
import io
import math

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.train.optimizers import (
    SGD, Adam, ClipNorm, ClipValue, Constant, ExponentialDecay, InverseTimeDecay, Momentum,
    Optimizer, RMSProp, RMSPropGraves, StepDecay, clip_by_global_norm, clip_by_value,
    from_config, global_norm,
)

# a tiny parameter dict and three fixed gradients for it
PARAMS = {"a": np.array([1.0, -2.0, 0.5]), "b": np.array([[0.3, -0.7]])}
GRADS = [
    {"a": np.array([0.5, -1.0, 2.0]), "b": np.array([[0.1, 0.0]])},
    {"a": np.array([0.4, 3.0, -1.5]), "b": np.array([[-0.2, 0.5]])},
    {"a": np.array([-0.1, 0.2, 0.3]), "b": np.array([[0.05, -4.0]])},
]


def copy(tree):
    return {k: np.array(v, copy=True) for k, v in tree.items()}


def run(opt, steps, params=PARAMS, grads=GRADS):
    state = opt.init(params)
    for step in range(steps):
        params, state = opt.update(params, grads[step], state, step)
    return params, state


# -- independent references: one plain loop per optimizer, written from the papers' formulas

def ref_sgd(lr, steps):
    w = copy(PARAMS)
    for t in range(steps):
        for k in w:
            w[k] = w[k] - lr * GRADS[t][k]
    return w


def ref_momentum(lr, mu, nesterov, steps):
    w, v = copy(PARAMS), {k: np.zeros_like(x) for k, x in PARAMS.items()}
    for t in range(steps):
        for k in w:
            g = GRADS[t][k]
            v[k] = mu * v[k] - lr * g
            w[k] = w[k] + (mu * v[k] - lr * g if nesterov else v[k])
    return w


def ref_rmsprop(lr, rho, eps, steps):
    w, ms = copy(PARAMS), {k: np.zeros_like(x) for k, x in PARAMS.items()}
    for t in range(steps):
        for k in w:
            g = GRADS[t][k]
            ms[k] = rho * ms[k] + (1 - rho) * g ** 2
            w[k] = w[k] - lr * g / (np.sqrt(ms[k]) + eps)
    return w


def ref_graves(aleph, beth, gimel, daleth, steps):
    """Graves 2013 eq. 38-41 with his letters."""
    w = copy(PARAMS)
    n, gbar, delta = ({k: np.zeros_like(x) for k, x in PARAMS.items()} for _ in range(3))
    for t in range(steps):
        for k in w:
            g = GRADS[t][k]
            n[k] = aleph * n[k] + (1 - aleph) * g ** 2
            gbar[k] = aleph * gbar[k] + (1 - aleph) * g
            delta[k] = beth * delta[k] - gimel * g / np.sqrt(n[k] - gbar[k] ** 2 + daleth)
            w[k] = w[k] + delta[k]
    return w


def ref_adam(alpha, b1, b2, eps, steps):
    """Kingma & Ba 2015, Algorithm 1."""
    w = copy(PARAMS)
    m, v = ({k: np.zeros_like(x) for k, x in PARAMS.items()} for _ in range(2))
    for t in range(1, steps + 1):
        for k in w:
            g = GRADS[t - 1][k]
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g ** 2
            m_hat = m[k] / (1 - b1 ** t)
            v_hat = v[k] / (1 - b2 ** t)
            w[k] = w[k] - alpha * m_hat / (np.sqrt(v_hat) + eps)
    return w


CASES = [
    (SGD(lr=0.1), lambda s: ref_sgd(0.1, s)),
    (Momentum(lr=0.1, momentum=0.9), lambda s: ref_momentum(0.1, 0.9, False, s)),
    (Momentum(lr=0.1, momentum=0.8, nesterov=True), lambda s: ref_momentum(0.1, 0.8, True, s)),
    (RMSProp(lr=0.01, decay=0.9, eps=1e-8), lambda s: ref_rmsprop(0.01, 0.9, 1e-8, s)),
    (RMSPropGraves(lr=1e-4), lambda s: ref_graves(0.95, 0.9, 1e-4, 1e-4, s)),
    (RMSPropGraves(lr=0.01, decay=0.9, momentum=0.5, eps=1e-3), lambda s: ref_graves(0.9, 0.5, 0.01, 1e-3, s)),
    (Adam(lr=1e-3), lambda s: ref_adam(1e-3, 0.9, 0.999, 1e-8, s)),
    (Adam(lr=0.05, b1=0.5, b2=0.9, eps=1e-6), lambda s: ref_adam(0.05, 0.5, 0.9, 1e-6, s)),
]


@pytest.mark.parametrize("opt, reference", CASES, ids=[repr(c[0]) for c in CASES])
@pytest.mark.parametrize("steps", [1, 3])
def test_updates_equal_the_reference(opt, reference, steps):
    params, _ = run(opt, steps)
    want = reference(steps)
    for k in PARAMS:
        np.testing.assert_allclose(params[k], want[k], rtol=1e-13, atol=1e-15, err_msg=k)


def test_first_steps_by_hand():
    """w = 1, g = 0.5: the numbers worked out on paper."""
    w, g = {"w": np.array([1.0])}, {"w": np.array([0.5])}

    def first(opt, steps=1):
        params, state = w, opt.init(w)
        for step in range(steps):
            params, state = opt.update(params, g, state, step)
        return params["w"][0]

    assert first(SGD(0.1)) == pytest.approx(0.95, abs=1e-15)
    assert first(Momentum(0.1, 0.9)) == pytest.approx(0.95, abs=1e-15)
    assert first(Momentum(0.1, 0.9), 2) == pytest.approx(1 - 0.05 - 0.095, abs=1e-15)     # v2 = 0.9·(-0.05) - 0.05
    assert first(Momentum(0.1, 0.9, nesterov=True)) == pytest.approx(1 - 0.045 - 0.05, abs=1e-15)
    assert first(RMSProp(0.01, 0.9, eps=0.0)) == pytest.approx(1 - 0.01 * 0.5 / math.sqrt(0.025), abs=1e-15)
    # Graves: n = 0.05·0.25, ḡ = 0.05·0.5, Δ = -1e-4·0.5 / sqrt(n - ḡ² + 1e-4)
    assert first(RMSPropGraves(1e-4)) == pytest.approx(1 - 1e-4 * 0.5 / math.sqrt(0.0125 - 0.025 ** 2 + 1e-4),
                                                        abs=1e-15)
    assert first(Adam(0.001, eps=0.0)) == pytest.approx(0.999, abs=1e-15)


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e4])
def test_adam_bias_correction_makes_constant_gradients_step_by_lr(scale):
    """With m̂ = m/(1-β1^t), v̂ = v/(1-β2^t), a constant gradient moves every weight by α·sign(g)
    at every step from the first; without the correction the first step would be
    α(1-β1)/sqrt(1-β2) ≈ 3.16α."""
    opt = Adam(lr=0.01, eps=0.0)
    params = {"w": np.array([0.0, 0.0])}
    grads = {"w": np.array([scale, -3 * scale])}
    state = opt.init(params)
    for step in range(3):
        new, state = opt.update(params, grads, state, step)
        np.testing.assert_allclose(new["w"] - params["w"], [-0.01, 0.01], rtol=1e-12)
        params = new
    np.testing.assert_allclose(state["m/w"], (1 - 0.9 ** 3) * grads["w"], rtol=1e-12)     # biased moments kept
    np.testing.assert_allclose(state["v/w"], (1 - 0.999 ** 3) * grads["w"] ** 2, rtol=1e-12)


# -- clipping ----------------------------------------------------------------------------------

def test_clip_by_value_is_elementwise():
    grads = {"a": np.array([-20.0, 5.0, 30.0]), "b": np.array([[-3.0, 10.5]])}
    out = clip_by_value(grads, 10.0)
    np.testing.assert_array_equal(out["a"], [-10.0, 5.0, 10.0])
    np.testing.assert_array_equal(out["b"], [[-3.0, 10.0]])
    np.testing.assert_array_equal(grads["a"], [-20.0, 5.0, 30.0])     # input untouched


def test_clip_by_global_norm_rescales_all_gradients_together():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(grads) == 5.0
    out = clip_by_global_norm(grads, 1.0)
    np.testing.assert_allclose(out["a"], [0.6, 0.0])
    np.testing.assert_allclose(out["b"], [[0.8]])
    same = clip_by_global_norm(grads, 10.0)                           # under the threshold: unchanged
    np.testing.assert_array_equal(same["a"], grads["a"])
    assert same["a"] is not grads["a"]
    bad = clip_by_global_norm({"a": np.array([np.nan, 1.0])}, 1.0)     # left for the loop to report
    assert np.isnan(bad["a"][0]) and bad["a"][1] == 1.0


def test_clipping_is_applied_before_the_update():
    params, grads = {"w": np.array([0.0, 0.0])}, {"w": np.array([50.0, -3.0])}
    new, _ = SGD(0.1, clip=ClipValue(10)).update(params, grads, {}, 0)
    np.testing.assert_allclose(new["w"], [-1.0, 0.3])
    new, _ = SGD(1.0, clip=ClipNorm(1.0)).update(params, {"w": np.array([3.0, 4.0])}, {}, 0)
    np.testing.assert_allclose(new["w"], [-0.6, -0.8])
    both = from_config({"name": "sgd", "lr": 1.0, "clip": {"value": 1.0, "norm": 1.0}})
    new, _ = both.update(params, {"w": np.array([3.0, 0.5])}, {}, 0)    # -> [1, 0.5] -> norm 1
    np.testing.assert_allclose(new["w"], -np.array([1.0, 0.5]) / math.sqrt(1.25))


# -- schedules -----------------------------------------------------------------------------------

def test_schedules():
    steps = range(6)
    assert [Constant()(0.1, s) for s in steps] == [0.1] * 6
    assert [StepDecay(0.5, every=2)(1.0, s) for s in steps] == [1, 1, 0.5, 0.5, 0.25, 0.25]
    np.testing.assert_allclose([ExponentialDecay(0.9)(2.0, s) for s in steps], 2.0 * 0.9 ** np.arange(6))
    np.testing.assert_allclose([InverseTimeDecay(0.5)(1.0, s) for s in steps], 1 / (1 + 0.5 * np.arange(6)))


def test_the_schedule_sets_the_lr_of_each_step():
    opt = from_config({"name": "sgd", "lr": 1.0, "schedule": {"step": {"factor": 0.1, "every": 2}}})
    params, state = {"w": np.array([0.0])}, {}
    moves = []
    for step in range(5):
        new, state = opt.update(params, {"w": np.array([1.0])}, state, step)
        moves.append(params["w"][0] - new["w"][0])
        params = new
    np.testing.assert_allclose(moves, [1, 1, 0.1, 0.1, 0.01])
    assert opt.learning_rate(4) == pytest.approx(0.01)


# -- the contract -------------------------------------------------------------------------------

@pytest.mark.parametrize("opt", [c[0] for c in CASES], ids=[repr(c[0]) for c in CASES])
def test_update_does_not_mutate_its_inputs(opt):
    params = {**copy(PARAMS), "fixed": np.array([7.0])}     # a parameter without a gradient
    state = opt.init(params, names=GRADS[0])
    params, state = opt.update(params, GRADS[0], state, 0)   # non-zero state
    before_p, before_s, before_g = copy(params), copy(state), copy(GRADS[1])
    new_p, new_s = opt.update(params, GRADS[1], state, 1)
    for tree, saved in ((params, before_p), (state, before_s), (GRADS[1], before_g)):
        assert tree.keys() == saved.keys()
        for k in tree:
            np.testing.assert_array_equal(tree[k], saved[k])
    assert new_p is not params and new_s is not state
    for k in GRADS[1]:
        assert not np.shares_memory(new_p[k], params[k])
    np.testing.assert_array_equal(new_p["fixed"], [7.0])    # not in grads: passed through
    assert set(new_s) == set(state)                          # the state's keys never change


@pytest.mark.parametrize("opt", [c[0] for c in CASES], ids=[repr(c[0]) for c in CASES])
def test_grouping_the_parameters_changes_no_number(opt):
    """update() runs small arrays concatenated and large ones alone (optimizers._groups); every
    parameter comes out bitwise as an update of that parameter on its own gives, and the inputs
    (the large ones passed as views) are left as they were."""
    from graphrnn.train.optimizers import GROUP_SIZE, _groups
    rng = np.random.default_rng(0)
    shapes = {"big": (GROUP_SIZE + 7,), "s1": (3,), "s2": (2, 5), "wide": (2, GROUP_SIZE), "s3": (1,)}
    params = {k: rng.normal(size=shape) for k, shape in shapes.items()}
    assert _groups(tuple(int(np.prod(v)) for v in shapes.values())) == ((0, 1), (1, 3), (3, 4), (4, 5))
    grads = [{k: rng.normal(size=shape) for k, shape in shapes.items()} for _ in range(2)]
    together, state = params, opt.init(params)
    saved = copy(params)
    for step, g in enumerate(grads):
        together, state = opt.update(together, g, state, step)
    for k in shapes:
        np.testing.assert_array_equal(params[k], saved[k])
        alone, alone_state = {k: params[k]}, opt.init({k: params[k]})
        for step, g in enumerate(grads):
            alone, alone_state = opt.update(alone, {k: g[k]}, alone_state, step)
        np.testing.assert_array_equal(together[k], alone[k], err_msg=k)
        for key in alone_state:
            np.testing.assert_array_equal(state[key], alone_state[key], err_msg=key)


@pytest.mark.parametrize("opt", [c[0] for c in CASES], ids=[repr(c[0]) for c in CASES])
def test_state_round_trips_through_npz(opt, tmp_path):
    params, state = run(opt, 2)
    path = tmp_path / "state.npz"
    np.savez(path, **state)
    with np.load(path, allow_pickle=False) as archive:
        loaded = dict(archive)
    assert loaded.keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(loaded[key], state[key])
    resumed, _ = opt.update(params, GRADS[2], loaded, 2)
    straight, _ = run(opt, 3)
    for k in PARAMS:
        np.testing.assert_array_equal(resumed[k], straight[k])


def test_state_keys_are_slot_slash_parameter():
    params = {"x->h": np.zeros((2, 3)), "h->h@1": np.zeros((3, 3)), "block1.in_gate.bias": np.zeros(3)}
    assert set(SGD(0.1).init(params)) == set()
    assert set(Momentum(0.1).init(params)) == {f"v/{k}" for k in params}
    assert set(RMSProp(0.1).init(params)) == {f"ms/{k}" for k in params}
    assert set(RMSPropGraves(0.1).init(params)) == {f"{s}/{k}" for s in ("n", "g", "delta") for k in params}
    assert set(Adam(0.1).init(params, names=["x->h"])) == {"m/x->h", "v/x->h"}
    buffer = io.BytesIO()
    np.savez(buffer, **Adam(0.1).init(params))
    buffer.seek(0)
    assert set(np.load(buffer, allow_pickle=False).files) == {f"{s}/{k}" for s in "mv" for k in params}


def test_bad_updates_are_refused():
    opt = Adam(0.1)
    params = {"w": np.zeros(2)}
    state = opt.init(params)
    with pytest.raises(ValueError, match="unknown parameters"):
        opt.update(params, {"u": np.zeros(2)}, state, 0)
    with pytest.raises(ValueError, match="shape"):
        opt.update(params, {"w": np.zeros(3)}, state, 0)
    with pytest.raises(ValueError, match="m/w"):
        opt.update(params, {"w": np.zeros(2)}, {}, 0)
    with pytest.raises(ValueError, match="step"):
        opt.update(params, {"w": np.zeros(2)}, state, -1)
    with pytest.raises(ValueError, match="no parameters named"):
        opt.init(params, names=["nope"])


# -- from_config ---------------------------------------------------------------------------------

def test_from_config_builds_each_optimizer():
    assert isinstance(from_config({"name": "sgd", "lr": 0.5}), SGD)
    m = from_config({"name": "momentum", "lr": 0.1, "momentum": 0.5, "nesterov": True})
    assert isinstance(m, Momentum) and m.momentum == 0.5 and m.nesterov
    r = from_config({"name": "rmsprop", "lr": 0.1, "decay": 0.99, "eps": 1e-6})
    assert isinstance(r, RMSProp) and (r.decay, r.eps) == (0.99, 1e-6)
    a = from_config({"name": "adam", "lr": "1e-3", "b2": 0.99})   # YAML 1.1 reads 1e-3 as a string
    assert isinstance(a, Adam) and a.lr == 1e-3 and (a.b1, a.b2, a.eps) == (0.9, 0.99, 1e-8)
    g = from_config({"name": "rmsprop_graves", "lr": 1e-4, "momentum": 0.9, "clip": {"value": 10},
                     "schedule": {"exponential": 0.999}})
    assert isinstance(g, RMSPropGraves) and (g.lr, g.decay, g.momentum, g.eps) == (1e-4, 0.95, 0.9, 1e-4)
    assert isinstance(g.clip, ClipValue) and g.clip.value == 10
    assert isinstance(g.schedule, ExponentialDecay) and g.schedule.rate == 0.999
    assert isinstance(Adam.from_config({"lr": 0.1}), Adam)
    assert isinstance(Optimizer.from_config({"name": "sgd", "lr": 0.1}), SGD)


@pytest.mark.parametrize("config", [
    {"name": "sgd", "lr": 0.1},
    {"name": "momentum", "lr": 0.1, "momentum": 0.5, "nesterov": True, "clip": {"norm": 5.0}},
    {"name": "rmsprop", "lr": 0.1, "schedule": {"inverse_time": 0.01}},
    {"name": "rmsprop_graves", "lr": 1e-4, "clip": {"value": 10.0, "norm": 1.0},
     "schedule": {"step": {"factor": 0.5, "every": 100}}},
    {"name": "adam", "lr": 1e-3, "b1": 0.8, "schedule": {"exponential": 0.99}},
])
def test_config_round_trips(config):
    opt = from_config(config)
    again = from_config(opt.config())
    assert again.config() == opt.config()
    for key, value in config.items():
        assert opt.config()[key] == value


@pytest.mark.parametrize("config, words", [
    ({"name": "adam", "lr": 1e-3, "beta1": 0.9}, ["`beta1`", "b1", "b2", "eps", "lr"]),
    ({"name": "sgd", "lr": 0.1, "momentum": 0.9}, ["`momentum`", "allowed keys"]),
    ({"name": "adam", "lr": 1e-3, "clip": {"max": 1}}, ["`max`", "value", "norm"]),
    ({"name": "adam", "lr": 1e-3, "schedule": {"cosine": 1}}, ["`cosine`", "exponential", "inverse_time"]),
    ({"name": "adam", "lr": 1e-3, "schedule": {"step": {"factor": 0.5, "each": 3}}}, ["`each`", "every"]),
    ({"name": "adamw", "lr": 1e-3}, ["`adamw`", "adam", "rmsprop_graves"]),
    ({"lr": 1e-3}, ["name"]),
    ({"name": "adam"}, ["lr"]),
])
def test_unknown_or_missing_keys_are_named(config, words):
    with pytest.raises(ValueError) as info:
        from_config(config)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("config", [
    {"name": "sgd", "lr": -1},
    {"name": "sgd", "lr": "fast"},
    {"name": "sgd", "lr": True},
    {"name": "rmsprop", "lr": 0.1, "decay": 1.0},
    {"name": "momentum", "lr": 0.1, "nesterov": "yes"},
    {"name": "sgd", "lr": 0.1, "clip": {"value": 0}},
    {"name": "sgd", "lr": 0.1, "schedule": {"step": {"factor": 0.5, "every": 0}}},
    {"name": "sgd", "lr": 0.1, "schedule": {"exponential": 0.9, "inverse_time": 0.1}},
    {"name": "sgd", "lr": 0.1, "schedule": "cosine"},
])
def test_bad_values_are_refused(config):
    with pytest.raises(ValueError):
        from_config(config)


# -- they optimize -------------------------------------------------------------------------------

DESCENT = [
    SGD(0.1), Momentum(0.05, 0.9), Momentum(0.05, 0.9, nesterov=True), RMSProp(0.01),
    RMSPropGraves(0.01), Adam(0.05), Adam(0.05, clip=ClipNorm(1.0), schedule=InverseTimeDecay(0.01)),
]


@pytest.mark.parametrize("opt", DESCENT, ids=repr)
def test_each_optimizer_decreases_a_convex_quadratic(opt):
    curvature = {"a": np.array([1.0, 3.0, 0.5]), "b": np.array([[2.0, 1.5]])}
    centre = {"a": np.array([0.5, -1.0, 2.0]), "b": np.array([[-1.0, 0.25]])}

    def f(p):
        return sum(0.5 * float(np.sum(curvature[k] * (p[k] - centre[k]) ** 2)) for k in p)

    params = copy(PARAMS)
    state = opt.init(params)
    start = f(params)
    for step in range(300):
        grads = {k: curvature[k] * (params[k] - centre[k]) for k in params}
        params, state = opt.update(params, grads, state, step)
    assert f(params) < 0.01 * start


@pytest.fixture(scope="module")
def elman_batch():
    net = gr.load("elman")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4, net.input_size))
    target = rng.uniform(0.1, 0.9, size=(8, 4, net.output_size))
    return net, x, target


@pytest.mark.parametrize("opt", [
    SGD(0.5), Momentum(0.1, 0.9), RMSProp(0.003), RMSPropGraves(1e-3, clip=ClipValue(10)), Adam(3e-3),
], ids=repr)
def test_each_optimizer_trains_elman_on_a_toy_batch(elman_batch, opt):
    net, x, target = elman_batch
    params = net.init(0)
    state = opt.init(params, names=net.trainable)
    before = net.loss(params, x, target, "mse")
    for step in range(50):
        _, grads = net.value_and_grad(params, x, target, "mse")
        params, state = opt.update(params, grads, state, step)
    after = net.loss(params, x, target, "mse")
    assert after < 0.9 * before
