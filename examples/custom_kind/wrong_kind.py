"""The `highway` kind of kind.py with a DELIBERATELY WRONG hand-written gradient.

The gate's derivative forgets the sigmoid's own derivative s (1 - s): the
classic slip of differentiating with respect to s instead of the gate's
pre-activation.  The forward pass (`combine`) is right, so every run looks
fine; only the gradients are wrong.  `graphrnn check` catches it:

    graphrnn check examples/custom_kind/spec.yaml --plugin examples/custom_kind/wrong_kind.py

exits 1, and its report names the kind, the node and the wrong port.  It
registers the same name as kind.py, so load one or the other, not both.
"""
import autograd.numpy as anp
import numpy as np

from graphrnn.ops import CombinerKind, register_op


def combine(slots):
    """The same forward pass as kind.py (right)."""
    carry, transform, gate = slots
    s = 1.0 / (1.0 + anp.exp(-gate))
    return s * transform + (1.0 - s) * carry


def wrong_combine_vjp(slots, g):
    carry, transform, gate = slots
    s = 0.5 * (np.tanh(0.5 * gate) + 1.0)
    return [g * (1.0 - s),
            g * s,
            g * (transform - carry)]           # WRONG: missing the factor s * (1 - s)


HIGHWAY = register_op(CombinerKind(
    name="highway",
    doc="y = act(s * transform + (1 - s) * carry), s = sigmoid(gate) -- with a wrong gradient",
    combine=combine,
    combine_vjp=wrong_combine_vjp,
    ports=("carry", "transform", "gate"),
    factor_per_edge=False,
    bias_default=False,
    allows_bias=False,
    needs_inputs=True,
))
