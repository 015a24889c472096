"""The node-kind registry: every kind is one of two explicit variants and answers the questions
the planner, the engines and the reference interpreter ask it."""
from __future__ import annotations

import numpy as np
import pytest

from graphrnn.graph import Node
from graphrnn.ops import OPS, CombinerKind, NodeKind, StatefulKind
from graphrnn.ops.activations import sigmoid


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_node_kind_is_an_explicit_variant(name):
    kind = OPS[name]
    assert isinstance(kind, (CombinerKind, StatefulKind)) and kind.name == name and kind.doc.strip()
    assert kind.stateful == isinstance(kind, StatefulKind) == kind.takes_options
    assert kind.has_fused_rule and kind.keeps_slots(2)
    node = Node("n", name, 3 if not kind.stateful else kind.size_of({}), options=tuple(
        sorted(kind.options.items())) if kind.stateful else ())
    ports = kind.input_ports(node)
    assert all(isinstance(size, int) and size > 0 for size in ports.values())
    if kind.stateful:   # one block of its own, its ports side by side in one slot
        assert ports and kind.slot_count(5) == 1 and kind.slot_of(3, next(iter(ports))) == 0
        assert kind.options and kind.check_options(dict(kind.options), None) is None


def test_a_node_kind_is_a_variant_not_the_base():
    with pytest.raises(TypeError):
        NodeKind(name="x", doc="", bias_default=False, allows_bias=False, needs_inputs=False)


def test_combiners_say_how_edges_fill_slots():
    total, product = OPS["sum"], OPS["product"]
    a, b = np.full((2, 3), 2.0), np.full((2, 3), 5.0)
    assert total.slot_count(4) == 1 and [total.slot_of(k, "") for k in range(3)] == [0, 0, 0]
    assert product.slot_count(4) == 4 and [product.slot_of(k, "") for k in range(3)] == [0, 1, 2]
    np.testing.assert_array_equal(total.slots([("", a), ("", b)], 3, 2)[0], a + b)
    assert [s[0, 0] for s in product.slots([("", a), ("", b)], 3, 2)] == [2.0, 5.0]
    np.testing.assert_array_equal(total.slots([], 3, 2)[0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no incoming edges"):
        product.slots([], 3, 2)


def test_a_sum_keeps_no_slots_for_the_fused_backward_pass():
    assert not OPS["sum"].keeps_slots(1)
    assert OPS["product"].keeps_slots(1) and OPS["memory"].keeps_slots(1)


def test_ported_combiners_have_one_slot_per_port():
    gated = CombinerKind(name="gated", doc="value * sigmoid(gate)", combine=lambda s: s[0] * sigmoid(s[1]),
                         ports=("value", "gate"), bias_default=False, allows_bias=False, needs_inputs=True)
    assert gated.input_ports(Node("g", "gated", 4)) == {"value": 4, "gate": 4}
    assert gated.slot_count(7) == 2 and gated.slot_of(0, "gate") == 1
    assert not gated.has_fused_rule
    slots = gated.slots([("gate", np.ones((1, 4))), ("value", np.full((1, 4), 3.0)), ("gate", np.ones((1, 4)))], 4, 1)
    assert [s[0, 0] for s in slots] == [3.0, 2.0]
