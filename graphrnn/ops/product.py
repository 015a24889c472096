"""``op: product`` — y = act(prod_e W_e src_e): gates and sigma-pi units.

Each incoming edge is one factor.  There is no bias: put it on the node that
feeds the factor, as the 1997 LSTM puts it on its gate units.
"""
from .registry import CombinerKind, register_op


def _multiply(slots):
    total = slots[0]
    for slot in slots[1:]:
        total = total * slot
    return total


def _multiply_vjp(slots, g):
    """d(prod_j s_j)/d s_k = prod_{j != k} s_j (by products, not division: a factor may be 0)."""
    grads = []
    for k in range(len(slots)):
        others = g
        for j, slot in enumerate(slots):
            if j != k:
                others = others * slot
        grads.append(others)
    return grads


PRODUCT = register_op(CombinerKind(
    name="product", doc="y = act(product of incoming contributions)", combine=_multiply,
    factor_per_edge=True, bias_default=False, allows_bias=False, needs_inputs=True,
    combine_vjp=_multiply_vjp, kernel="multiply"))
