"""Dropout: zero each element with probability p during training, scale the rest by 1 / (1 - p).

Inverted dropout (as PyTorch): the survivors are scaled at training time, so the expected value
of every element is unchanged and evaluation is the identity. The mask comes from the device's
generator (``tg.manual_seed`` makes it repeat) and is a constant to backward, so the gradient is
the same mask times the upstream gradient, differentiable any number of times.
"""

from tinygen.autograd.inplace import modify
from tinygen.creation import random_array
from tinygen.ops.convert import float_input
from tinygen.tensor import Tensor


def dropout_mask(shape, p, dtype, device):
    """A constant tensor of 0 (probability p) and 1 / (1 - p) (probability 1 - p)."""
    keep = random_array("uniform", shape, dtype, device) >= p
    if p == 1:                                 # nothing survives: an all-zero mask, not 0 * inf
        return Tensor(keep.astype(dtype))
    return Tensor(keep.astype(dtype) * dtype.type(1.0 / (1.0 - p)))


def _check_probability(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """During training, zero elements with probability ``p`` and scale the rest by 1 / (1 - p);
    return ``input`` unchanged when ``training`` is False or ``p`` is 0."""
    _check_probability(p)
    if not training or p == 0:
        return input
    input = float_input(input)
    mask = dropout_mask(input.shape, p, input.dtype, input.device)
    if inplace:
        return modify(input, "dropout_", lambda t, m: t * m, mask)
    return input * mask
