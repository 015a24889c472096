"""``op: sum`` — y = act(sum_e W_e src_e + b)."""
from .registry import CombinerKind, register_op


def _add(slots):
    total = slots[0]
    for slot in slots[1:]:
        total = total + slot
    return total


SUM = register_op(CombinerKind(
    name="sum", doc="y = act(sum of incoming contributions + bias)", combine=_add,
    factor_per_edge=False, bias_default=True, allows_bias=True, needs_inputs=False,
    combine_vjp=lambda slots, g: [g] * len(slots), gradient_is_copy=True, kernel="add"))
