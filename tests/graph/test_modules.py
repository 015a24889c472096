"""Modules: library and relative-path `use:`, parameters, nesting, ports, qualified names, errors.

User modules are written into ``tmp_path`` by each test; expected values are
computed by hand in numpy from the parameter dict (time-major arrays,
``y[B, dst] = x[B, src] @ W``).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import graphrnn as gr

T, B = 3, 2


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text))
    return path


def network(body: str, inputs: str = "{x: 2}", outputs: str = "{y: 2}") -> str:
    return f"graphrnn: 1\ninputs: {inputs}\noutputs: {outputs}\n" + dedent(body)


def xs(size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(T, B, size))


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12)


def at(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def srn(x, W, U, b, act=np.tanh):
    """h_t = act(x_t W + h_{t-1} U + b), h_{-1} = 0."""
    h, out = np.zeros((x.shape[1], W.shape[1])), []
    for t in range(x.shape[0]):
        h = act(x[t] @ W + h @ U + b)
        out.append(h)
    return np.stack(out)


# A small user module: a two-node cell with parameters for its sizes and activation.
CELL = """
    graphrnn: 1
    module: cell
    doc: a -> b, b recurrent; `in` feeds a, `out` is b.
    params: {n: 2, act: tanh, r: 0.5}
    ports: {in: a, out: b, both: [a, b]}
    nodes:
      a: {size: $n, bias: false}
      b: {size: $n, activation: $act}
    edges:
      - {from: a, to: b, init: {uniform: $r}}
      - {from: b, to: b, delay: 1, share: loop}
    """


# -- where modules come from ----------------------------------------------------------------

def test_library_module_by_name():
    net = gr.loads(network("""
        nodes:
          layer: {use: srn_layer, size: 3}
          y: {size: 2, bias: false}
        edges:
          - {from: x, to: layer}
          - {from: layer, to: y}
        """))
    p = net.init(0)
    assert set(p) == {"x->layer.h", "layer.h->layer.h@1", "layer.h.bias", "layer.h->y"}
    assert p["layer.h->layer.h@1"].shape == (3, 3)
    close(p["layer.h->layer.h@1"] @ p["layer.h->layer.h@1"].T, np.eye(3))   # the module's orthogonal init
    x = xs(2)
    h = srn(x, p["x->layer.h"], p["layer.h->layer.h@1"], p["layer.h.bias"])
    trace = net.run(p, x)
    close(trace["layer.h"], h)
    close(trace.y, h @ p["layer.h->y"])


def test_library_module_from_graphrnn_path(tmp_path, monkeypatch):
    write(tmp_path / "lib" / "my_cell.yaml", CELL)
    monkeypatch.setenv("GRAPHRNN_PATH", str(tmp_path / "lib"))
    assert "my_cell" in gr.library_names()
    net = gr.loads(network("""
        nodes:
          c: {use: my_cell}
        edges:
          - {from: x, to: c}
        """, outputs="{c.out: 2}"))
    assert "c.loop" in net.init(0)


def test_user_module_by_relative_path(tmp_path):
    write(tmp_path / "mods" / "cell.yaml", CELL)
    text = network("""
        nodes:
          c: {use: mods/cell.yaml}
        edges:
          - {from: x, to: c}
        """, outputs="{c: 2}")
    path = write(tmp_path / "net.yaml", text)
    for net in (gr.load(path), gr.loads(text, str(path))):
        p = net.init(0)
        assert set(p) == {"x->c.a", "c.a->c.b", "c.loop", "c.b.bias"}
        x = xs(2)
        a = x @ p["x->c.a"]
        close(net.run(p, x).y, srn(a, p["c.a->c.b"], p["c.loop"], p["c.b.bias"]))


def test_relative_path_with_dot_slash_and_yml(tmp_path):
    write(tmp_path / "cell.yml", CELL)
    text = network("""
        nodes:
          c: {use: ./cell.yml}
        edges:
          - {from: x, to: c}
        """, outputs="{c: 2}")
    assert "c.loop" in gr.loads(text, str(tmp_path / "net.yaml")).init(0)


# -- parameters -----------------------------------------------------------------------------

def test_module_params_default_and_override():
    default = gr.loads(network("""
        nodes:
          layer: {use: srn_layer}
        edges:
          - {from: x, to: layer}
        """, outputs="{layer: 8}"))
    assert default.ir.nodes["layer.h"].size == 8 and default.ir.nodes["layer.h"].activation == "tanh"
    custom = gr.loads(network("""
        nodes:
          layer: {use: srn_layer, size: 2, activation: relu}
        edges:
          - {from: x, to: layer}
        """, outputs="{layer: 2}"))
    assert custom.ir.nodes["layer.h"].size == 2 and custom.ir.nodes["layer.h"].activation == "relu"
    p = custom.init(0)
    x = xs(2)
    close(custom.run(p, x).y, srn(x, p["x->layer.h"], p["layer.h->layer.h@1"], p["layer.h.bias"],
                                  act=lambda a: np.maximum(a, 0)))


def test_param_substitution_everywhere(tmp_path):
    write(tmp_path / "knobs.yaml", """
        graphrnn: 1
        module: knobs
        params: {n: 1, act: identity, start: 0.0, d: 1, w: 1.0, r: 0.1, biased: true, cut: false}
        ports: {in: h, out: h}
        nodes:
          h: {size: $n, activation: $act, initial: $start, bias: $biased, bias_init: {uniform: $r}}
        edges:
          - {from: h, to: h, kind: fixed, weights: $w, delay: $d, truncate: $cut}
        """)
    text = network("""
        nodes:
          k: {use: knobs.yaml, n: 1, act: tanh, start: 0.5, d: 2, w: 0.25, biased: false, cut: true}
        edges:
          - {from: x, to: k, kind: identity}
        """, inputs="{x: 1}", outputs="{k: 1}")
    net = gr.loads(text, str(tmp_path / "net.yaml"))
    assert net.init(0) == {}   # no bias, fixed recurrent weight
    edge = next(e for e in net.ir.edges if e.src == "k.h" and e.dst == "k.h")
    assert (edge.delay, edge.weights, edge.truncate) == (2, 0.25, True)
    x = xs(1)
    h = np.zeros_like(x)
    for t in range(T):
        h[t] = np.tanh(x[t] + 0.25 * (h[t - 2] if t >= 2 else 0.5))
    close(net.run({}, x).y, h)


def test_param_in_a_nested_init(tmp_path):
    write(tmp_path / "cell.yaml", CELL)
    text = network("""
        nodes:
          c: {use: cell.yaml, r: 0.01, n: 3}
        edges:
          - {from: x, to: c}
        """, outputs="{c: 3}")
    p = gr.loads(text, str(tmp_path / "net.yaml")).init(0)
    assert p["c.a->c.b"].shape == (3, 3) and np.all(np.abs(p["c.a->c.b"]) <= 0.01)


# -- nesting and names ----------------------------------------------------------------------

def test_nested_modules_are_qualified_and_resolve_relative_to_their_file(tmp_path):
    write(tmp_path / "mods" / "cell.yaml", CELL)
    write(tmp_path / "mods" / "pair.yaml", """
        graphrnn: 1
        module: pair
        params: {width: 2}
        ports: {in: first.in, out: second.out}
        nodes:
          first: {use: cell.yaml, n: $width}
          second: {use: srn_layer, size: $width}
        edges:
          - {from: first, to: second}
        """)
    text = network("""
        nodes:
          p: {use: mods/pair.yaml, width: 3}
          y: {size: 2, bias: false}
        edges:
          - {from: x, to: p}
          - {from: p, to: y}
        """)
    net = gr.loads(text, str(tmp_path / "net.yaml"))
    prm = net.init(0)
    assert set(prm) == {"x->p.first.a", "p.first.a->p.first.b", "p.first.loop", "p.first.b.bias",
                        "p.first.b->p.second.h", "p.second.h->p.second.h@1", "p.second.h.bias",
                        "p.second.h->y"}
    assert net.ir.nodes["p.first.b"].size == 3 and net.ir.nodes["p.second.h"].size == 3
    x = xs(2)
    b = srn(x @ prm["x->p.first.a"], prm["p.first.a->p.first.b"], prm["p.first.loop"],
            prm["p.first.b.bias"])
    h = srn(b, prm["p.first.b->p.second.h"], prm["p.second.h->p.second.h@1"], prm["p.second.h.bias"])
    trace = net.run(prm, x)
    close(trace["p.first.b"], b)
    close(trace.y, h @ prm["p.second.h->y"])


def test_ports_bare_names_and_members(tmp_path):
    write(tmp_path / "cell.yaml", CELL)
    text = network("""
        nodes:
          c: {use: cell.yaml}
          y: {size: 2, bias: false}
          z: {size: 2, bias: false}
        edges:
          - {from: x, to: c.in}
          - {from: c.out, to: y}
          - {from: c, to: z}
          - {from: x, to: c.b}
          - {from: c.a, to: z, delay: 1}
        """, outputs="{y: 2, z: 2}")
    net = gr.loads(text, str(tmp_path / "net.yaml"))
    pairs = {(e.src, e.dst, e.delay) for e in net.ir.edges}
    assert {("x", "c.a", 0), ("c.b", "y", 0), ("c.b", "z", 0), ("x", "c.b", 0), ("c.a", "z", 1)} <= pairs
    p = net.init(0)
    x = xs(2)
    a = x @ p["x->c.a"]
    b = srn(a @ p["c.a->c.b"] + x @ p["x->c.b"], np.eye(2), p["c.loop"], p["c.b.bias"])
    trace = net.run(p, x)
    close(trace["c.b"], b)
    close(trace.outputs["y"], b @ p["c.b->y"])
    a_prev = np.concatenate([np.zeros((1, B, 2)), a[:-1]])
    close(trace.outputs["z"], b @ p["c.b->z"] + a_prev @ p["c.a->z@1"])


def test_a_port_must_name_a_port_of_a_nested_instance(tmp_path):
    """In `ports:` a bare instance name is ambiguous (in or out?), so it is refused."""
    write(tmp_path / "cell.yaml", CELL)
    err = module_error(tmp_path, """
        graphrnn: 1
        module: broken
        ports: {in: inner.in, out: inner}
        nodes:
          inner: {use: cell.yaml}
        """, "GR105", "inner}")
    assert "inner.<port>" in err.fix


def test_a_port_naming_several_nodes_makes_an_edge_to_each(tmp_path):
    write(tmp_path / "cell.yaml", CELL)
    text = network("""
        nodes:
          c: {use: cell.yaml}
        edges:
          - {from: x, to: c.both}
        """, outputs="{c.b: 2}")
    p = gr.loads(text, str(tmp_path / "net.yaml")).init(0)
    assert {"x->c.a", "x->c.b"} <= set(p)


def test_an_output_may_name_a_port_or_a_member(tmp_path):
    write(tmp_path / "cell.yaml", CELL)
    body = """
        nodes:
          c: {use: cell.yaml}
        edges:
          - {from: x, to: c}
        """
    for out in ("c", "c.out", "c.b"):
        net = gr.loads(network(body, outputs=f"{{{out}: 2}}"), str(tmp_path / "net.yaml"))
        assert net.outputs == {out: "c.b"}


def test_the_same_module_twice_has_separate_parameters(tmp_path):
    write(tmp_path / "cell.yaml", CELL)
    text = network("""
        nodes:
          one: {use: cell.yaml}
          two: {use: cell.yaml}
          y: {size: 2, bias: false}
        edges:
          - {from: x, to: [one, two]}
          - {from: [one, two], to: y}
        """)
    net = gr.loads(text, str(tmp_path / "net.yaml"))
    p = net.init(0)
    for inst in ("one", "two"):
        assert {f"{inst}.a->{inst}.b", f"{inst}.loop", f"{inst}.b.bias", f"x->{inst}.a"} <= set(p)
    assert not np.array_equal(p["one.loop"], p["two.loop"])
    assert not np.array_equal(p["one.a->one.b"], p["two.a->two.b"])
    p["two.loop"] = p["one.loop"] + 1.0   # changing one instance leaves the other alone
    x = xs(2)
    trace = net.run(p, x)
    close(trace["one.b"], srn(x @ p["x->one.a"], p["one.a->one.b"], p["one.loop"], p["one.b.bias"]))
    close(trace["two.b"], srn(x @ p["x->two.a"], p["two.a->two.b"], p["two.loop"], p["two.b.bias"]))
    g = net.grad(p, x, xs(2, seed=1))
    assert np.any(g["one.loop"] != g["two.loop"])


# -- errors inside modules -----------------------------------------------------------------

def module_error(tmp_path, module_text: str, code: str, needle: str) -> gr.GraphRNNError:
    module = dedent(module_text)
    path = write(tmp_path / "broken.yaml", module)
    text = network("""
        nodes:
          m: {use: broken.yaml}
        edges:
          - {from: x, to: m}
        """, outputs="{m: 2}")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, str(tmp_path / "net.yaml"))
    err = info.value
    line, col = at(module, needle)
    assert err.code == code, str(err)
    assert str(err).startswith(f"{path.resolve()}:{line}:{col}: error {code} "), str(err)
    assert err.fix
    return err


def test_unknown_activation_is_located_in_the_module(tmp_path):
    err = module_error(tmp_path, """
        graphrnn: 1
        module: broken
        ports: {in: h, out: h}
        nodes:
          h: {size: 2, activation: sigmod}
        """, "GR113", "sigmod")
    assert "did you mean `sigmoid`?" in err.message


def test_schema_error_is_located_in_the_module(tmp_path):
    err = module_error(tmp_path, """
        graphrnn: 1
        module: broken
        ports: {in: h, out: h}
        nodes:
          h: {size: 2}
        edges:
          - {from: h, to: h, dely: 1}
        """, "GR103", "dely")
    assert "did you mean `delay`?" in err.message


def test_unknown_member_in_a_module_edge(tmp_path):
    err = module_error(tmp_path, """
        graphrnn: 1
        module: broken
        ports: {in: h, out: h}
        nodes:
          h: {size: 2}
        edges:
          - {from: hh, to: h, delay: 1}
        """, "GR105", "hh")
    assert "did you mean `h`?" in err.message


def test_unknown_port_target_in_a_module(tmp_path):
    module_error(tmp_path, """
        graphrnn: 1
        module: broken
        ports: {in: h, out: g}
        nodes:
          h: {size: 2}
        """, "GR105", "g}")


def test_instantaneous_cycle_inside_a_module(tmp_path):
    err = module_error(tmp_path, """
        graphrnn: 1
        module: broken
        ports: {in: a, out: b}
        nodes:
          a: {size: 2}
          b: {size: 2}
        edges:
          - {from: a, to: b}
          - {from: b, to: a}
        """, "GR102", "{from: a, to: b}")
    assert "m.a -> m.b -> m.a" in err.message
    assert len(err.notes) == 2 and all("broken.yaml" in note for note in err.notes)


def test_size_mismatch_inside_a_module(tmp_path):
    module_error(tmp_path, """
        graphrnn: 1
        module: broken
        ports: {in: a, out: b}
        nodes:
          a: {size: 3}
          b: {size: 2}
        edges:
          - {from: a, to: b, kind: identity}
        """, "GR106", "{from: a, to: b, kind: identity}")


def test_unknown_port_of_an_instance_did_you_mean(tmp_path):
    write(tmp_path / "cell.yaml", CELL)
    text = network("""
        nodes:
          c: {use: cell.yaml}
        edges:
          - {from: x, to: c.inn}
        """, outputs="{c: 2}")
    with pytest.raises(gr.GraphError) as info:
        gr.loads(text, str(tmp_path / "net.yaml"))
    err = info.value
    line, col = at(text, "c.inn")
    assert err.code == "GR105" and str(err).startswith(f"{tmp_path / 'net.yaml'}:{line}:{col}: ")
    assert "did you mean `in`?" in err.message


def test_bare_instance_without_the_needed_port(tmp_path):
    write(tmp_path / "cell.yaml", CELL.replace("ports: {in: a, out: b, both: [a, b]}",
                                               "ports: {feed: a, state: b}"))
    text = network("""
        nodes:
          c: {use: cell.yaml}
        edges:
          - {from: x, to: c}
        """, outputs="{c.state: 2}")
    with pytest.raises(gr.GraphError) as info:
        gr.loads(text, str(tmp_path / "net.yaml"))
    assert info.value.code == "GR105" and "`in`" in info.value.message
    assert "feed" in info.value.fix


def test_unknown_module_parameter_is_gr103_at_the_instance(tmp_path):
    write(tmp_path / "cell.yaml", CELL)
    text = network("""
        nodes:
          c: {use: cell.yaml, nn: 3}
        edges:
          - {from: x, to: c}
        """, outputs="{c: 2}")
    with pytest.raises(gr.GraphError) as info:
        gr.loads(text, str(tmp_path / "net.yaml"))
    line, col = at(text, "nn: 3")
    assert info.value.code == "GR103"
    assert str(info.value).startswith(f"{tmp_path / 'net.yaml'}:{line}:{col}: ")
    assert "did you mean `n`?" in info.value.message


@pytest.mark.parametrize("arg, needle", [("size: two", "two"), ("activation: tanhh", "tanhh")],
                         ids=["size", "activation"])
def test_a_bad_module_argument_is_located_at_the_instance(tmp_path, arg, needle):
    text = network(f"""
        nodes:
          layer: {{use: srn_layer, {arg}}}
        edges:
          - {{from: x, to: layer}}
        """, outputs="{layer: 8}")
    path = str(tmp_path / "net.yaml")
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, path)
    line, col = at(text, needle)
    where = f"{path}:{line}:{col}"
    assert str(info.value).startswith(where) or any(where in note for note in info.value.notes), str(info.value)


def test_a_module_bias_parameter_takes_a_draw():
    """Module parameters used as initialisations take {uniform: r} (the 1997 papers draw their gate
    biases), so each seed draws them anew inside [-r, r]."""
    text = ("graphrnn: 1\nname: drawn\ninputs: {x: 2}\noutputs: {y: 1}\nnodes:\n"
            "  b: {use: lstm1997_block, cells: 2, in_gate_bias: {uniform: 0.2}, cell_in_bias: false}\n"
            "  y: {size: 1}\nedges:\n  - {from: x, to: b}\n  - {from: b, to: y}\n")
    net = gr.loads(text)
    assert "b.cell_in.bias" not in net.params
    draws = [float(net.init(seed)["b.in_gate.bias"][0]) for seed in range(6)]
    assert all(-0.2 <= d <= 0.2 for d in draws) and len(set(draws)) == 6


def test_the_1997_networks_start_as_the_papers_do():
    reber = gr.load("lstm1997_reber")
    assert reber.num_params == 276   # the paper's count: no cell-input biases
    p = reber.init(3)
    assert [float(p[f"block{k}.out_gate.bias"][0]) for k in (1, 2, 3)] == [-1.0, -2.0, -3.0]
    assert all(abs(float(p[f"block{k}.in_gate.bias"][0])) <= 0.2 for k in (1, 2, 3))
    four = gr.load("lstm1997_reber_4x1")
    assert four.num_params == 264   # Table 1's count for 4 blocks of 1 cell
    assert [float(four.init(3)[f"block{k}.out_gate.bias"][0]) for k in (1, 2, 3, 4)] == [-1.0, -2.0, -3.0, -4.0]
    adding = gr.load("lstm1997_adding").init(3)
    assert [float(adding[f"block{k}.in_gate.bias"][0]) for k in (1, 2)] == [-3.0, -6.0]
    drawn = [adding[f"block{k}.{n}.bias"] for k in (1, 2) for n in ("out_gate", "cell_in")]
    assert all(np.all(np.abs(d) <= 0.1) for d in drawn) and np.any(np.concatenate(drawn) != 0)
