"""A custom node kind, `highway`: a learned mix of two inputs (Srivastava et al. 2015).

    y = act(s * transform + (1 - s) * carry),   s = sigmoid(gate)

It has three named input ports -- edges address them as `to: h.carry`,
`to: h.transform`, `to: h.gate` -- and each port is one slot, the sum of the
edges into it.  `combine` says how the slots make the pre-activation
(autograd differentiates it on the "autograd" engine); `combine_vjp` is its
hand-written vector-Jacobian product, which the default "fused" engine uses
for BPTT.  Specs never carry code: load this file first, then name the kind
in YAML (`op: highway`):

    graphrnn check examples/custom_kind/spec.yaml --plugin examples/custom_kind/kind.py

or, in Python, `import` it (or `graphrnn.testing.load_plugin(path)`) before
`graphrnn.load(...)`.  See docs/property-testing.md.
"""
import autograd.numpy as anp
import numpy as np

from graphrnn.ops import CombinerKind, register_op


def combine(slots):
    """Pre-activation from the slots [carry, transform, gate], each (..., size)."""
    carry, transform, gate = slots
    s = 1.0 / (1.0 + anp.exp(-gate))          # autograd.numpy: differentiable
    return s * transform + (1.0 - s) * carry


def combine_vjp(slots, g):
    """Gradients of [carry, transform, gate] from g, the gradient of the pre-activation (numpy)."""
    carry, transform, gate = slots
    s = 0.5 * (np.tanh(0.5 * gate) + 1.0)     # sigmoid, without overflow
    return [g * (1.0 - s),                     # d/d carry
            g * s,                             # d/d transform
            g * (transform - carry) * s * (1.0 - s)]   # d/d gate: ds/dgate = s (1 - s)


HIGHWAY = register_op(CombinerKind(
    name="highway",
    doc="y = act(s * transform + (1 - s) * carry), s = sigmoid(gate)",
    combine=combine,
    combine_vjp=combine_vjp,
    ports=("carry", "transform", "gate"),
    factor_per_edge=False,   # with ports, each port is one slot anyway
    bias_default=False,      # the bias belongs to the nodes feeding the ports
    allows_bias=False,
    needs_inputs=True,       # a highway node must have incoming edges
))
