"""Resource limits decided from the plan before allocation (issue 17 item 2), each a located GR108
with a default the user can raise; delays longer than the run cost nothing."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import graphrnn as gr
from graphrnn.plan import limits
from graphrnn.trees import TreeBatch, Vocabulary, parse_sexprs


def spec(size="3", delay="1", extra=""):
    return (f"graphrnn: 1\ninputs: {{x: 2}}\noutputs: {{y: 2}}\nnodes:\n  h: {{size: {size}, activation: tanh}}\n"
            f"  y: {{size: 2}}\nedges:\n  - {{from: x, to: h}}\n  - {{from: h, to: h, delay: {delay}{extra}}}\n"
            "  - {from: h, to: y}\n")


@pytest.fixture(autouse=True)
def default_limit(monkeypatch):
    monkeypatch.delenv("GRAPHRNN_MEMORY_LIMIT", raising=False)
    limits.set_memory_limit(None)
    yield
    limits.set_memory_limit(None)


def test_a_delay_past_a_billion_steps_is_refused_where_written():
    text = spec(delay=str(10 ** 12))
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, "d.yaml")
    assert info.value.code == "GR108" and str(info.value).startswith("d.yaml:9:29:")


def test_a_delay_far_beyond_the_run_allocates_nothing():
    net = gr.loads(spec(delay=str(10 ** 9)), "d.yaml")
    params = net.init(0)
    x = np.ones((4, 2, 2))
    tracemalloc.start()
    trace = net.run(params, x)
    grads = net.grad(params, x, np.zeros((4, 2, 2)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2 ** 20
    # the delayed edge reads only the initial value (zeros): the same as a network without it
    plain = gr.loads(spec(delay="1", extra=", init: 0.0").replace("{from: h, to: h, delay: 1, init: 0.0}",
                                                                   "{from: h, to: h, delay: 1, weights: 0.0, kind: fixed}"))
    same = {k: v for k, v in params.items() if k in plain.params}
    assert np.allclose(trace.y, plain.run(same, x).y)
    assert set(grads) == set(params)
    with pytest.raises(gr.GraphRNNError) as info:    # continuing needs the whole delay: refused, not allocated
        trace.state
    assert info.value.code == "GR108" and "GRAPHRNN_MEMORY_LIMIT" in info.value.fix


def test_a_node_of_a_million_units_is_refused_at_its_edge_before_allocating():
    tracemalloc.start()
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(spec(size="1000000"), "big.yaml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert info.value.code == "GR108" and peak < 200 * 2 ** 20
    assert str(info.value).startswith("big.yaml:")
    assert "h->h@1" in info.value.message or "h" in info.value.message


def test_a_memory_of_a_billion_slots_is_refused_before_allocating():
    text = ("graphrnn: 1\ninputs: {x: 3}\noutputs: {y: 3}\nnodes:\n"
            "  mem: {op: memory, memory: {slots: 1000000000, width: 4}}\n  y: {size: 3}\nedges:\n"
            "  - {from: x, to: mem.read1}\n  - {from: x, to: mem.write1}\n  - {from: mem, to: y}\n")
    tracemalloc.start()
    with pytest.raises(gr.GraphRNNError) as info:
        gr.loads(text, "mem.yaml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert info.value.code == "GR108" and peak < 200 * 2 ** 20, str(info.value)
    assert str(info.value).startswith("mem.yaml:5:") and "`mem`" in info.value.message


def test_a_run_over_the_budget_names_the_block_and_how_to_raise_it(monkeypatch):
    net = gr.loads(spec(size="64"), "r.yaml")
    need, culprit = limits.run_bytes(net.plan, 1000, 100)
    assert "`h`" in culprit
    monkeypatch.setenv("GRAPHRNN_MEMORY_LIMIT", str(need // 2))
    x = np.zeros((1000, 100, 2))
    with pytest.raises(gr.GraphRNNError) as info:
        net.run(net.init(0), x)
    assert info.value.code == "GR108" and "`h`" in info.value.message and "GRAPHRNN_MEMORY_LIMIT" in info.value.fix
    limits.set_memory_limit(need * 2)                  # raised: the same run goes ahead
    assert net.run(net.init(0), x).y.shape == (1000, 100, 2)


@pytest.mark.parametrize("text, value", [("16G", 16 * 2 ** 30), ("512M", 512 * 2 ** 20), ("1000", 1000),
                                         ("2GiB", 2 * 2 ** 30), ("nonsense", limits.DEFAULT_MEMORY_LIMIT)])
def test_the_limit_reads_the_environment(monkeypatch, text, value):
    monkeypatch.setenv("GRAPHRNN_MEMORY_LIMIT", text)
    assert limits.memory_limit() == value


def test_the_estimate_counts_every_block_at_every_step():
    net = gr.loads(spec(size="5"), "e.yaml")
    total, _ = limits.run_bytes(net.plan, 7, 3)
    widths = sum(b.width + b.slot_width for b in net.plan.blocks.values())
    assert total == 7 * 3 * 8 * (net.plan.input_width + 2 * widths)


def test_a_tree_batch_of_huge_arity_is_refused_at_the_wide_node():
    wide = "(r " + " ".join(["a"] * 10000) + ")\n"
    trees = parse_sexprs(wide, "wide.txt")
    with pytest.raises(gr.GraphRNNError) as info:
        TreeBatch.of(trees, Vocabulary(["r", "a"]))
    assert info.value.code == "GR108" and str(info.value).startswith("wide.txt:1:2:")


def test_the_per_parameter_cost_covers_what_building_and_differentiating_takes():
    text = spec(size="4").replace("inputs: {x: 2}", "inputs: {x: 50000}")
    tracemalloc.start()
    net = gr.loads(text)
    params = net.init(0)
    x = np.full((2, 1, 50000), 0.5)
    net.grad(params, x, np.zeros((2, 1, 2)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < net.num_params * limits.BYTES_PER_PARAMETER


def test_the_compiled_engine_keeps_delays_as_rows_so_a_long_one_is_refused():
    pytest.importorskip("numba")
    net = gr.loads(spec(delay=str(10 ** 9)), "d.yaml", engine="compiled")
    with pytest.raises(gr.GraphRNNError) as info:
        net.run(net.init(0), np.ones((3, 2, 2)))
    assert info.value.code == "GR108" and "delayed steps" in info.value.message and "fused" in info.value.fix


def test_a_run_too_large_for_the_budget_is_refused_at_the_node_that_needs_most():
    net = gr.loads(spec(size="500"), "big.yaml")
    limits.set_memory_limit(2 ** 20)
    with pytest.raises(gr.GraphRNNError) as info:
        net.run(net.init(0), np.ones((1000, 2, 2)))
    err = info.value
    assert err.code == "GR108" and "`h`" in err.message and str(err).startswith("big.yaml:5:3:"), str(err)   # `h:`
