"""Each feature of the spec language does what docs/spec.md says, checked by hand in numpy.

Tiny nets (sizes 1-3, T 2-4); every expected value is computed here from the
parameters with plain numpy, never by the code under test.  Arrays are
time-major: x is (T, B, inputs), outputs (T, B, O); dense weights are
(source, destination) so that ``y[B, dst] = x[B, src] @ W``.
"""
from __future__ import annotations

import textwrap

import networkx as nx
import numpy as np
import pytest
from autograd import grad as ag_grad

import graphrnn as gr

FILE = "features.yaml"
T, B = 4, 2


def net_of(body: str, inputs: str = "{x: 2}", outputs: str = "{y: 3}") -> gr.Network:
    text = f"graphrnn: 1\ninputs: {inputs}\noutputs: {outputs}\n" + textwrap.dedent(body).lstrip("\n")
    return gr.loads(text, FILE)


def xs(size: int, seed: int = 0, steps: int = T) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(steps, B, size))


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


# -- edge kinds -------------------------------------------------------------------------

def test_dense_edge_is_source_by_destination():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y}
        """)
    p = net.init(0)
    assert set(p) == {"x->y"} and p["x->y"].shape == (2, 3)
    x = xs(2)
    close(net.run(p, x).y, x @ p["x->y"])


def test_dense_edge_with_bias_and_activation():
    net = net_of("""
        nodes:
          y: {size: 3, activation: tanh, bias_init: {uniform: 1}}
        edges:
          - {from: x, to: y}
        """)
    p = net.init(1)
    assert np.any(p["y.bias"] != 0)
    x = xs(2)
    close(net.run(p, x).y, np.tanh(x @ p["x->y"] + p["y.bias"]))


def test_diagonal_edge():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, kind: diagonal}
        """, inputs="{x: 3}")
    p = net.init(0)
    w = p["x->y"]
    assert w.shape == (3,) and np.all(np.abs(w) <= 0.1) and np.any(w != 0)   # default {uniform: 0.1}
    x = xs(3)
    close(net.run(p, x).y, x * w)


def test_identity_edge_has_no_parameter():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, kind: identity}
        """, inputs="{x: 3}")
    p = net.init(0)
    assert p == {}
    x = xs(3)
    close(net.run(p, x).y, x)


def test_broadcast_edge_feeds_every_unit():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: s, to: y, kind: broadcast}
        """, inputs="{s: 1}")
    assert net.init(0) == {}
    s = xs(1)
    close(net.run({}, s).y, np.repeat(s, 3, axis=-1))


@pytest.mark.parametrize("weights, src", [("0.5", 3), ("[1, -2, 3]", 3), ("[[1, 2, 3], [4, 5, 6]]", 2)],
                         ids=["scalar", "vector", "matrix"])
def test_fixed_edge(weights, src):
    net = net_of(f"""
        nodes:
          y: {{size: 3, bias: false}}
        edges:
          - {{from: x, to: y, kind: fixed, weights: {weights}}}
        """, inputs=f"{{x: {src}}}")
    assert net.init(0) == {}   # not a parameter unless trainable
    x = xs(src)
    w = np.array(eval(weights), dtype=float)  # noqa: S307  (our own literal)
    expected = x @ w if w.ndim == 2 else x * w
    close(net.run({}, x).y, expected)


def test_fixed_edge_trainable_becomes_a_parameter():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, kind: fixed, weights: [[1, 2, 3], [4, 5, 6]], trainable: true}
        """)
    p = net.init(0)
    close(p["x->y"], [[1, 2, 3], [4, 5, 6]])
    x, target = xs(2), xs(3, seed=1)
    g = net.grad(p, x, target)
    # loss = mean over T, B, units of (x W - target)^2
    err = x @ p["x->y"] - target
    close(g["x->y"], 2 * np.einsum("tbi,tbj->ij", x, err) / err.size)


@pytest.mark.parametrize("weights", ["0.5", "[1, -2, 3]"], ids=["scalar", "vector"])
def test_fixed_trainable_scalar_and_vector_gradients(weights):
    net = net_of(f"""
        nodes:
          y: {{size: 3, bias: false}}
        edges:
          - {{from: x, to: y, kind: fixed, weights: {weights}, trainable: true}}
        """, inputs="{x: 3}")
    p = net.init(0)
    w = np.array(eval(weights), dtype=float)  # noqa: S307  (our own literal)
    assert p["x->y"].shape == w.shape
    x, target = xs(3), xs(3, seed=1)
    err = x * w - target
    per_entry = 2 * err * x / err.size          # d loss / d (weight applied to each entry)
    expected = per_entry.sum() if w.ndim == 0 else per_entry.sum(axis=(0, 1))
    close(net.grad(p, x, target)["x->y"], expected)


def test_explicit_weights_on_a_diagonal_edge():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, kind: diagonal, weights: [1, -2, 3]}
        """, inputs="{x: 3}")
    p = net.init(0)
    close(p["x->y"], [1, -2, 3])
    x = xs(3)
    close(net.run(p, x).y, x * np.array([1.0, -2.0, 3.0]))


# -- masks, density, trainable --------------------------------------------------------------

MASK = np.array([[1, 0, 1], [0, 1, 0]], dtype=float)


def test_mask_zeroes_init_hides_entries_and_their_gradient():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, init: ones, mask: [[1, 0, 1], [0, 1, 0]]}
        """)
    p = net.init(0)
    close(p["x->y"], MASK)
    x, target = xs(2), xs(3, seed=1)
    p["x->y"] = np.array([[2.0, 100.0, 3.0], [-50.0, 4.0, 7.0]])   # junk where the mask is 0
    close(net.run(p, x).y, x @ (p["x->y"] * MASK))
    g = net.grad(p, x, target)["x->y"]
    assert np.all(g[MASK == 0] == 0) and np.all(g[MASK == 1] != 0)


def test_density_mask_is_structural_not_seeded():
    body = """
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, density: 0.5, init: ones}
        """
    a, b = net_of(body, inputs="{x: 3}"), net_of(body, inputs="{x: 3}")
    mask = np.asarray(a.params["x->y"].mask)
    close(mask, np.asarray(b.params["x->y"].mask))
    assert set(np.unique(mask)) == {0.0, 1.0}   # this spec's pattern has both
    for seed in (0, 1, 7):
        close(a.init(seed)["x->y"], mask)
        close(b.init(seed)["x->y"], mask)
    x = xs(3)
    p = {"x->y": np.full((3, 3), 9.0)}
    close(a.run(p, x).y, x @ (9.0 * mask))


def test_density_with_random_init_keeps_the_pattern_across_seeds():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, density: 0.5}
        """, inputs="{x: 3}")
    zero0, zero1 = net.init(0)["x->y"] == 0, net.init(1)["x->y"] == 0
    assert np.array_equal(zero0, zero1) and zero0.any() and not zero0.all()


def test_trainable_false_is_in_init_but_not_in_grad():
    net = net_of("""
        nodes:
          y: {size: 3}
        edges:
          - {from: x, to: y, trainable: false}
        """)
    p = net.init(0)
    assert set(p) == {"x->y", "y.bias"}
    g = net.grad(p, xs(2), xs(3, seed=1))
    assert set(g) == {"y.bias"}


# -- init schemes -----------------------------------------------------------------------------

def weight(init: str, src: int = 2, dst: int = 3, seed: int = 0) -> np.ndarray:
    net = net_of(f"""
        nodes:
          y: {{size: {dst}, bias: false}}
        edges:
          - {{from: x, to: y, init: {init}}}
        """, inputs=f"{{x: {src}}}", outputs=f"{{y: {dst}}}")
    return net.init(seed)["x->y"]


def test_init_constants():
    close(weight("zeros"), np.zeros((2, 3)))
    close(weight("ones"), np.ones((2, 3)))
    close(weight("0.25"), np.full((2, 3), 0.25))
    close(weight("-2"), np.full((2, 3), -2.0))


def test_init_uniform_bounds():
    w = weight("{uniform: 0.3}", 3, 3)
    assert np.all(np.abs(w) <= 0.3) and len(np.unique(w)) == 9


def test_init_normal_scale():
    w = weight("{normal: 0.2}", 3, 3)
    assert len(np.unique(w)) == 9 and np.all(np.abs(w) < 0.2 * 6)
    big = weight("{normal: 0.2}", 40, 40)
    assert abs(big.mean()) < 0.02 and abs(big.std() - 0.2) < 0.02


def test_init_glorot_bounds_is_the_default():
    limit = np.sqrt(6.0 / (2 + 3))
    for seed in range(5):
        w = weight("glorot", seed=seed)
        assert np.all(np.abs(w) <= limit) and len(np.unique(w)) == 6
    net = net_of("""
        nodes:
          y: {size: 3}
        edges:
          - {from: x, to: y}
        """)
    assert np.all(np.abs(net.init(0)["x->y"]) <= limit)
    close(net.init(0)["y.bias"], np.zeros(3))   # biases start at zero


@pytest.mark.parametrize("src, dst", [(3, 3), (3, 2), (2, 3)])
def test_init_orthogonal(src, dst):
    w = weight("orthogonal", src, dst)
    assert w.shape == (src, dst)
    small = w.T @ w if src >= dst else w @ w.T
    np.testing.assert_allclose(small, np.eye(min(src, dst)), atol=1e-12)
    if src == dst:
        np.testing.assert_allclose(w @ w.T, np.eye(src), atol=1e-12)


def test_bias_init():
    net = net_of("""
        nodes:
          y: {size: 3, bias_init: 0.5}
        edges:
          - {from: x, to: y}
        """)
    close(net.init(0)["y.bias"], np.full(3, 0.5))


def test_explicit_weights_on_a_dense_edge():
    net = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, weights: [[1, 2, 3], [4, 5, 6]]}
        """)
    p = net.init(0)
    close(p["x->y"], [[1, 2, 3], [4, 5, 6]])
    assert "x->y" in net.grad(p, xs(2), xs(3, seed=1))   # still learned
    scalar = net_of("""
        nodes:
          y: {size: 3, bias: false}
        edges:
          - {from: x, to: y, weights: 0.5}
        """)
    close(scalar.init(3)["x->y"], np.full((2, 3), 0.5))


# -- sharing ----------------------------------------------------------------------------------

def test_share_ties_two_edges_and_sums_their_gradients():
    body = """
        nodes:
          h: {size: 3, activation: tanh}
        edges:
          - {from: a, to: h, SHARE}
          - {from: b, to: h, SHARE}
        """
    shared = net_of(body.replace("SHARE", "share: w"), inputs="{a: 2, b: 2}", outputs="{h: 3}")
    split = net_of(body.replace(", SHARE", ""), inputs="{a: 2, b: 2}", outputs="{h: 3}")
    ps = shared.init(0)
    assert set(ps) == {"w", "h.bias"} and ps["w"].shape == (2, 3)
    ps["h.bias"] = np.array([0.1, -0.2, 0.3])
    x, target = xs(4), xs(3, seed=1)
    a, b = x[..., :2], x[..., 2:]
    close(shared.run(ps, x).y, np.tanh(a @ ps["w"] + b @ ps["w"] + ps["h.bias"]))
    pu = {"a->h": ps["w"], "b->h": ps["w"], "h.bias": ps["h.bias"]}
    gs, gu = shared.grad(ps, x, target), split.grad(pu, x, target)
    close(gs["w"], gu["a->h"] + gu["b->h"])
    assert np.any(gu["a->h"] != gu["b->h"])


# -- delays and initial values ----------------------------------------------------------------

def test_delay_two_on_a_feed_forward_edge_reads_initial_before_the_start():
    net = net_of("""
        nodes:
          h: {size: 1, bias: false, initial: 0.5}
          y: {size: 1, bias: false}
        edges:
          - {from: x, to: h, kind: identity}
          - {from: h, to: y, kind: identity, delay: 2}
        """, inputs="{x: 1}", outputs="{y: 1}")
    x = xs(1)
    expected = np.concatenate([np.full((2, B, 1), 0.5), x[:-2]])
    close(net.run({}, x).y, expected)


@pytest.mark.parametrize("initial, c", [("zeros", 0.0), ("0.5", 0.5), ("-3", -3.0)])
def test_delay_two_in_a_loop(initial, c):
    net = net_of(f"""
        nodes:
          h: {{size: 1, bias: false, initial: {initial}}}
        edges:
          - {{from: x, to: h, kind: identity}}
          - {{from: h, to: h, kind: fixed, weights: 1, delay: 2}}
        """, inputs="{x: 1}", outputs="{h: 1}")
    x = xs(1)
    h = np.zeros_like(x)
    for t in range(T):
        h[t] = x[t] + (h[t - 2] if t >= 2 else c)
    close(net.run({}, x).y, h)


def test_delayed_edge_from_an_input_reads_zeros_before_the_start():
    net = net_of("""
        nodes:
          y: {size: 1, bias: false}
        edges:
          - {from: x, to: y, kind: identity, delay: 1}
          - {from: x, to: y, kind: fixed, weights: 10, delay: 3}
        """, inputs="{x: 1}", outputs="{y: 1}")
    x = xs(1)
    expected = np.zeros_like(x)
    expected[1:] += x[:-1]
    expected[3:] += 10 * x[:-3]
    close(net.run({}, x).y, expected)


def test_delay_one_recurrence_by_hand():
    net = net_of("""
        nodes:
          h: {size: 2, activation: tanh}
        edges:
          - {from: x, to: h}
          - {from: h, to: h, delay: 1}
        """, inputs="{x: 3}", outputs="{h: 2}")
    p = net.init(0)
    assert set(p) == {"x->h", "h->h@1", "h.bias"}
    x = xs(3)
    h, prev = [], np.zeros((B, 2))
    for t in range(T):
        prev = np.tanh(x[t] @ p["x->h"] + prev @ p["h->h@1"] + p["h.bias"])
        h.append(prev)
    close(net.run(p, x).y, np.stack(h))


def test_learned_initial_is_a_parameter_with_a_gradient():
    net = net_of("""
        nodes:
          h: {size: 2, activation: tanh, initial: learned}
        edges:
          - {from: x, to: h}
          - {from: h, to: h, delay: 1}
        """, inputs="{x: 1}", outputs="{h: 2}")
    p = net.init(0)
    assert "h.initial" in p and p["h.initial"].shape == (2,)
    close(p["h.initial"], np.zeros(2))
    p["h.initial"] = np.array([0.3, -0.7])
    x = xs(1)
    h0 = np.tanh(x[0] @ p["x->h"] + p["h.initial"] @ p["h->h@1"] + p["h.bias"])
    close(net.run(p, x).y[0], h0)
    g = net.grad(p, x, xs(2, seed=1))
    assert "h.initial" in g and np.all(g["h.initial"] != 0)


def test_bias_false_has_no_bias_parameter():
    net = net_of("""
        nodes:
          h: {size: 3, bias: false}
          y: {size: 3}
        edges:
          - {from: x, to: h}
          - {from: h, to: y}
        """)
    assert set(net.init(0)) == {"x->h", "h->y", "y.bias"}


# -- ops and activations ----------------------------------------------------------------------

def test_product_multiplies_factors_elementwise():
    net = net_of("""
        nodes:
          p: {size: 2, op: product}
        edges:
          - {from: a, to: p, kind: identity}
          - {from: b, to: p, kind: identity}
        """, inputs="{a: 2, b: 2}", outputs="{p: 2}")
    assert net.init(0) == {}   # a product node has no bias
    x = xs(4)
    close(net.run({}, x).y, x[..., :2] * x[..., 2:])


def test_product_of_weighted_factors_with_activation():
    net = net_of("""
        nodes:
          p: {size: 3, op: product, activation: sigmoid}
        edges:
          - {from: a, to: p}
          - {from: b, to: p}
        """, inputs="{a: 2, b: 1}", outputs="{p: 3}")
    q = net.init(0)
    x = xs(3)
    close(net.run(q, x).y, sigmoid((x[..., :2] @ q["a->p"]) * (x[..., 2:] @ q["b->p"])))


ACTIVATIONS = {
    "identity": lambda a: a,
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "relu": lambda a: np.maximum(a, 0),
    "softplus": lambda a: np.log1p(np.exp(a)),
    "g1997": lambda a: 4 * sigmoid(a) - 2,
    "h1997": lambda a: 2 * sigmoid(a) - 1,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation(name):
    net = net_of(f"""
        nodes:
          y: {{size: 3, bias: false, activation: {name}}}
        edges:
          - {{from: x, to: y, kind: identity}}
        """, inputs="{x: 3}")
    x = 3 * xs(3)
    close(net.run({}, x).y, ACTIVATIONS[name](x))


@pytest.mark.parametrize("name, low, high", [("g1997", -2, 2), ("h1997", -1, 1), ("sigmoid", 0, 1)])
def test_squasher_ranges(name, low, high):
    net = net_of(f"""
        nodes:
          y: {{size: 3, bias: false, activation: {name}}}
        edges:
          - {{from: x, to: y, kind: identity}}
        """, inputs="{x: 3}")
    x = np.linspace(-30, 30, T * B * 3).reshape(T, B, 3)
    y = net.run({}, x).y
    assert np.all(y >= low) and np.all(y <= high)
    assert y.min() < low + 1e-6 and y.max() > high - 1e-6
    mid = net.run({}, np.zeros((1, 1, 3))).y
    close(mid, np.full((1, 1, 3), (low + high) / 2))


def test_softmax_is_per_node():
    net = net_of("""
        nodes:
          p: {size: 2, activation: softmax, bias: false}
          q: {size: 3, activation: softmax, bias: false}
        edges:
          - {from: x, to: [p, q]}
        """, outputs="{p: 2, q: 3}")
    w = net.init(0)
    x = xs(2)
    trace = net.run(w, x)

    def softmax(a):
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    close(trace["p"], softmax(x @ w["x->p"]))
    close(trace["q"], softmax(x @ w["x->q"]))
    close(trace["p"].sum(-1), np.ones((T, B)))
    close(trace["q"].sum(-1), np.ones((T, B)))


# -- truncation -------------------------------------------------------------------------------

TRUNC = """
    nodes:
      h: {size: 1, bias: false}
    edges:
      - {from: x, to: h}
      - {from: h, to: h, delay: 1, TRUNC}
    """


def test_truncate_keeps_values_and_stops_the_gradient_through_the_edge():
    full = net_of(TRUNC.replace(", TRUNC", ""), inputs="{x: 1}", outputs="{h: 1}")
    cut = net_of(TRUNC.replace("TRUNC", "truncate: true"), inputs="{x: 1}", outputs="{h: 1}")
    p = {"x->h": np.array([[0.7]]), "h->h@1": np.array([[0.9]])}
    w, u = 0.7, 0.9
    x = xs(1, steps=3)[:, :1]                     # T=3, B=1
    target = np.zeros((3, 1, 1))
    mask = np.array([[0.0], [0.0], [1.0]])        # the loss reads only the last step
    close(cut.run(p, x).y, full.run(p, x).y)      # values are unchanged

    h = full.run(p, x).y[:, 0, 0]
    e = 2 * (h[2] - 0.0)                          # d loss / d h_2
    g_full, g_cut = full.grad(p, x, target, mask=mask), cut.grad(p, x, target, mask=mask)
    # through the loop: dh2/dw = x2 + u (x1 + u x0);  truncated: only the direct term x2
    close(g_full["x->h"], [[e * (x[2, 0, 0] + u * (x[1, 0, 0] + u * x[0, 0, 0]))]])
    close(g_cut["x->h"], [[e * x[2, 0, 0]]])
    # the truncated edge's own weight still learns: dh2/du = h1 (h1 treated as a constant)
    close(g_cut["h->h@1"], [[e * h[1]]])
    assert g_cut["h->h@1"][0, 0] != 0
    assert not np.allclose(g_cut["x->h"], g_full["x->h"])

    # nothing flows back to earlier inputs through the truncated edge
    def loss_of_x(net):
        return lambda xx: net.loss(p, xx, target, mask=mask)
    gx_cut, gx_full = ag_grad(loss_of_x(cut))(x), ag_grad(loss_of_x(full))(x)
    close(gx_cut[:2], np.zeros((2, 1, 1)))
    close(gx_cut[2], [[e * w]])
    assert np.all(gx_full[:2] != 0)


def test_truncate_on_a_feed_forward_edge():
    body = """
        nodes:
          h: {size: 1, bias: false, activation: tanh}
          y: {size: 1, bias: false}
        edges:
          - {from: x, to: h}
          - {from: h, to: y, TRUNC}
        """
    full = net_of(body.replace(", TRUNC", ""), inputs="{x: 1}", outputs="{y: 1}")
    cut = net_of(body.replace("TRUNC", "truncate: true"), inputs="{x: 1}", outputs="{y: 1}")
    p = full.init(0)
    x, target = xs(1), xs(1, seed=1)
    close(cut.run(p, x).y, full.run(p, x).y)
    g_cut, g_full = cut.grad(p, x, target), full.grad(p, x, target)
    close(g_cut["x->h"], [[0.0]])
    assert g_full["x->h"][0, 0] != 0
    close(g_cut["h->y"], g_full["h->y"])


# -- endpoints, outputs, inputs, names --------------------------------------------------------

def test_lists_in_from_and_to_make_every_pair():
    net = net_of("""
        nodes:
          h: {size: 2, bias: false}
          g: {size: 3, bias: false}
        edges:
          - {from: [a, b], to: [h, g]}
        """, inputs="{a: 1, b: 2}", outputs="{h: 2, g: 3}")
    p = net.init(0)
    assert set(p) == {"a->h", "a->g", "b->h", "b->g"}
    assert p["b->g"].shape == (2, 3) and p["a->h"].shape == (1, 2)
    x = xs(3)
    a, b = x[..., :1], x[..., 1:]
    trace = net.run(p, x)
    close(trace["h"], a @ p["a->h"] + b @ p["b->h"])
    close(trace["g"], a @ p["a->g"] + b @ p["b->g"])


def test_outputs_in_declaration_order_and_trace_of_every_node():
    net = net_of("""
        nodes:
          h: {size: 3, activation: tanh}
          z: {size: 1}
          a: {size: 2}
        edges:
          - {from: x, to: h}
          - {from: h, to: [z, a]}
        """, outputs="{z: 1, a: 2}")
    p = net.init(0)
    x = xs(2)
    trace = net.run(p, x)
    h = np.tanh(x @ p["x->h"] + p["h.bias"])
    z, a = h @ p["h->z"] + p["z.bias"], h @ p["h->a"] + p["a.bias"]
    close(trace["h"], h)
    close(trace["x"], x)
    close(trace.outputs["z"], z)
    close(trace.outputs["a"], a)
    close(trace.y, np.concatenate([z, a], axis=-1))   # declared order, not alphabetical
    assert set(trace.nodes) == {"x", "h", "z", "a"}
    with pytest.raises(KeyError):
        trace["nope"]


def test_input_given_as_a_dict_of_ports():
    net = net_of("""
        nodes:
          y: {size: 3}
        edges:
          - {from: b, to: y}
          - {from: a, to: y}
        """, inputs="{b: 2, a: 1}")
    p = net.init(0)
    a, b = xs(1, seed=1), xs(2, seed=2)
    by_dict = net.run(p, {"a": a, "b": b}).y
    close(by_dict, net.run(p, np.concatenate([b, a], axis=-1)).y)   # declaration order: b, a
    close(by_dict, a @ p["a->y"] + b @ p["b->y"] + p["y.bias"])


def test_parameter_names_as_documented():
    net = net_of("""
        nodes:
          layer: {use: srn_layer, size: 2}
          h: {size: 3, initial: learned}
          y: {size: 3}
        edges:
          - {from: x, to: [h, layer]}
          - {from: h, to: h, delay: 1}
          - {from: h, to: h, delay: 2, kind: diagonal}
          - {from: [h, layer], to: y}
        """)
    assert set(net.init(0)) == {
        "x->h", "h->h@1", "h->h@2", "h.bias", "h.initial", "h->y", "y.bias",
        "x->layer.h", "layer.h->layer.h@1", "layer.h.bias", "layer.h->y"}


def test_init_is_reproducible_and_per_parameter():
    body = """
        nodes:
          h: {size: 3, activation: tanh}
          EXTRA
        edges:
          - {from: x, to: h}
          - {from: h, to: h, delay: 1}
          EXTRA_EDGE
        """
    plain = net_of(body.replace("EXTRA_EDGE", "").replace("EXTRA", ""), outputs="{h: 3}")
    more = net_of(body.replace("EXTRA_EDGE", "- {from: x, to: z}").replace("EXTRA", "z: {size: 3}"),
                  outputs="{h: 3}")
    a, b = plain.init(5), plain.init(5)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    c = plain.init(6)
    assert not np.array_equal(a["x->h"], c["x->h"])
    m = more.init(5)
    assert set(m) - set(a) == {"x->z", "z.bias"}
    for name in a:
        close(m[name], a[name])
    assert not np.array_equal(m["x->z"], m["x->h"])   # equal shapes, independent streams


def test_graph_is_a_multidigraph_with_every_node():
    net = net_of("""
        nodes:
          h: {size: 3, activation: tanh}
          y: {size: 3}
        edges:
          - {from: x, to: h}
          - {from: h, to: h, delay: 1}
          - {from: h, to: h, delay: 2}
          - {from: h, to: y}
        """)
    g = net.graph
    assert isinstance(g, nx.MultiDiGraph)
    assert set(g.nodes) == {"x", "h", "y"}
    assert g.number_of_edges("h", "h") == 2
    assert sorted(d["delay"] for d in g.get_edge_data("h", "h").values()) == [1, 2]
    assert g.number_of_edges() == 4
    assert g.nodes["x"]["node"].is_input and g.nodes["h"]["node"].size == 3


def test_results_do_not_depend_on_yaml_order():
    a = net_of("""
        nodes:
          h: {size: 3, activation: tanh}
          y: {size: 3}
        edges:
          - {from: x, to: h}
          - {from: h, to: h, delay: 1}
          - {from: h, to: y}
        """)
    b = net_of("""
        edges:
          - {from: h, to: y}
          - {from: h, to: h, delay: 1}
          - {from: x, to: h}
        nodes:
          y: {size: 3}
          h: {size: 3, activation: tanh}
        """)
    pa, pb = a.init(2), b.init(2)
    assert pa.keys() == pb.keys()
    x = xs(2)
    close(a.run(pa, x).y, b.run(pb, x).y)
