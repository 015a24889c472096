"""``op: product`` — y = act(prod_e W_e src_e): gates and sigma-pi units.

Each incoming edge is one factor.  There is no bias: put it on the node that
feeds the factor, as the 1997 LSTM puts it on its gate units.
"""
from .registry import OpKind, register_op


def _multiply(slots):
    total = slots[0]
    for slot in slots[1:]:
        total = total * slot
    return total


PRODUCT = register_op(OpKind(
    name="product", doc="y = act(product of incoming contributions)", combine=_multiply,
    factor_per_edge=True, bias_default=False, allows_bias=False, needs_inputs=True))
