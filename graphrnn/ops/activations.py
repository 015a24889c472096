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


def _squash_grad_into(scale):
    def grad_into(y, g, out):
        s = (y + 0.5 * scale) / scale
        np.multiply(g, scale, out=out)
        out *= s
        out *= 1.0 - s
    return grad_into


def _squash_into(scale):
    def fn_into(a, out):
        _sigmoid_into(a, out)
        out *= scale
        out -= 0.5 * scale
    return fn_into


# The in-place forms below repeat the plain forms' operations in the same order (x * c == c * x
# exactly), so the fused engine's results do not depend on which form it runs.
def _sigmoid_into(a, out):
    np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5


def _sigmoid_grad_into(y, g, out):
    np.multiply(g, y, out=out)
    out *= 1.0 - y


def _tanh_into(a, out):
    np.tanh(a, out=out)


def _tanh_grad_into(y, g, out):
    np.multiply(y, y, out=out)
    np.subtract(1.0, out, out=out)
    out *= g


def _copy_into(a, out):
    np.copyto(out, a)


def _copy_grad_into(y, g, out):
    np.copyto(out, g)


def _relu_into(a, out):
    np.maximum(a, 0.0, out=out)


def _relu_grad_into(y, g, out):
    np.multiply(g, y > 0, out=out)


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
register_activation("identity", lambda a: a, "f(a) = a", grad_from_output=lambda y, g: g,
                    fn_into=_copy_into, grad_into=_copy_grad_into)
register_activation("tanh", anp.tanh, "f(a) = tanh(a), range (-1, 1)",
                    grad_from_output=lambda y, g: g * (1.0 - y * y),
                    fn_into=_tanh_into, grad_into=_tanh_grad_into)
register_activation("sigmoid", sigmoid, "f(a) = 1 / (1 + exp(-a)), range (0, 1)",
                    grad_from_output=lambda y, g: g * y * (1.0 - y),
                    fn_into=_sigmoid_into, grad_into=_sigmoid_grad_into)
register_activation("relu", relu, "f(a) = max(a, 0)",
                    grad_from_output=lambda y, g: g * (y > 0),
                    fn_into=_relu_into, grad_into=_relu_grad_into)
register_activation("softplus", _softplus, "f(a) = log(1 + exp(a))",
                    grad_from_output=lambda y, g: g * -np.expm1(-y))
register_activation("softmax", _softmax, "f(a)_i = exp(a_i) / sum_j exp(a_j) over one node's units",
                    per_node=True, grad_from_output=_softmax_grad)
# Hochreiter & Schmidhuber 1997, section 5: g(x) = 4/(1+e^-x) - 2 squashes the
# cell input into [-2, 2]; h(x) = 2/(1+e^-x) - 1 squashes the cell state into [-1, 1].
register_activation("g1997", lambda a: squash(a, 4.0),
                    "LSTM-1997 cell-input squasher g(a) = 4 sigmoid(a) - 2, range (-2, 2)",
                    grad_from_output=_squash_grad(4.0), fn_into=_squash_into(4.0),
                    grad_into=_squash_grad_into(4.0))
register_activation("h1997", lambda a: squash(a, 2.0),
                    "LSTM-1997 cell-output squasher h(a) = 2 sigmoid(a) - 1, range (-1, 1)",
                    grad_from_output=_squash_grad(2.0), fn_into=_squash_into(2.0),
                    grad_into=_squash_grad_into(2.0))
