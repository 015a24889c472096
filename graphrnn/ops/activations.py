"""The built-in activations, including the squashers of the 1997 LSTM paper.

The sigmoid family are autograd primitives with their derivative registered
beside them, so each costs one tape node instead of four.
"""
import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive

from .registry import register_activation


@primitive
def sigmoid(a):
    """1 / (1 + exp(-a)) in its tanh form: stable for large |a| and needs no scipy."""
    return 0.5 * (np.tanh(0.5 * a) + 1.0)


defvjp(sigmoid, lambda ans, a: lambda g: g * ans * (1.0 - ans))


@primitive
def relu(a):
    """max(a, 0), with derivative 0 at a = 0 (as PyTorch), in both engines alike."""
    return np.maximum(a, 0.0)


defvjp(relu, lambda ans, a: lambda g: g * (ans > 0))


def _squash_grad(scale):
    def grad(y, g):
        s = (y + 0.5 * scale) / scale   # the sigmoid value
        return g * scale * s * (1.0 - s)
    return grad


@primitive
def squash(a, scale):
    """scale * sigmoid(a) - scale / 2: range (-scale/2, scale/2)."""
    return scale * (0.5 * (np.tanh(0.5 * a) + 1.0)) - 0.5 * scale


defvjp(squash, lambda ans, a, scale: lambda g: _squash_grad(scale)(ans, g))

expit = sigmoid


def _softmax(a):
    shifted = a - anp.max(a, axis=-1, keepdims=True)
    e = anp.exp(shifted)
    return e / anp.sum(e, axis=-1, keepdims=True)


def _softplus(a):
    return anp.logaddexp(0.0, a)


def _softmax_grad(y, g):
    return y * (g - np.sum(g * y, axis=-1, keepdims=True))


# Each rule is written in terms of the output y; softplus' = sigmoid(a) = 1 - exp(-y).
register_activation("identity", lambda a: a, "f(a) = a", grad_from_output=lambda y, g: g)
register_activation("tanh", anp.tanh, "f(a) = tanh(a), range (-1, 1)",
                    grad_from_output=lambda y, g: g * (1.0 - y * y))
register_activation("sigmoid", sigmoid, "f(a) = 1 / (1 + exp(-a)), range (0, 1)",
                    grad_from_output=lambda y, g: g * y * (1.0 - y))
register_activation("relu", relu, "f(a) = max(a, 0)",
                    grad_from_output=lambda y, g: g * (y > 0))
register_activation("softplus", _softplus, "f(a) = log(1 + exp(a))",
                    grad_from_output=lambda y, g: g * -np.expm1(-y))
register_activation("softmax", _softmax, "f(a)_i = exp(a_i) / sum_j exp(a_j) over one node's units",
                    per_node=True, grad_from_output=_softmax_grad)
# Hochreiter & Schmidhuber 1997, section 5: g(x) = 4/(1+e^-x) - 2 squashes the
# cell input into [-2, 2]; h(x) = 2/(1+e^-x) - 1 squashes the cell state into [-1, 1].
register_activation("g1997", lambda a: squash(a, 4.0),
                    "LSTM-1997 cell-input squasher g(a) = 4 sigmoid(a) - 2, range (-2, 2)",
                    grad_from_output=_squash_grad(4.0))
register_activation("h1997", lambda a: squash(a, 2.0),
                    "LSTM-1997 cell-output squasher h(a) = 2 sigmoid(a) - 1, range (-1, 1)",
                    grad_from_output=_squash_grad(2.0))
