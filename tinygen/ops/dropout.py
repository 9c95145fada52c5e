"""Dropout: zero each element with probability p during training, scale the rest by 1 / (1 - p).
Channel dropout (``dropout1d``, ``dropout2d``) zeros whole channels: one mask value per (N, C),
broadcast over the spatial dims. ``alpha_dropout`` keeps SELU's zero mean and unit variance.

Inverted dropout (as PyTorch): the survivors are scaled at training time, so the expected value
of every element is unchanged and evaluation is the identity. The mask comes from the device's
generator (``tg.manual_seed`` makes it repeat) and is a constant to backward, so the gradient is
the same mask times the upstream gradient, differentiable any number of times.
"""

import warnings

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
    return _masked(input, p, training, inplace, lambda shape: shape)


def _masked(input, p, training, inplace, mask_shape):
    """input * a dropout mask of shape ``mask_shape(input.shape)``, broadcast over the rest."""
    _check_probability(p)
    if not training or p == 0:
        return input
    input = float_input(input)
    mask = dropout_mask(mask_shape(tuple(input.shape)), p, input.dtype, input.device)
    if inplace:
        return modify(input, "dropout_", lambda t, m: t * m, mask)
    return input * mask


def _per_channel(shape, channel_dim):
    """A mask shape with one value per leading dim up to ``channel_dim``, 1 elsewhere."""
    return shape[:channel_dim + 1] + (1,) * (len(shape) - channel_dim - 1)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension")
    return _masked(input, p, training, inplace, lambda s: _per_channel(s, len(s) - 2))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (dim 1) of (N, C, H, W) input with probability ``p``.

    Other ranks warn and are read as PyTorch 2.13 reads them: a 3-D input as (N, C, L), not
    (C, H, W), and any input as (N, C, *).
    """
    if input.ndim < 2 and training:         # in eval PyTorch returns such input as it is
        raise RuntimeError(f"dropout2d: expected an input of shape (N, C, H, W), got input of "
                           f"size {list(input.shape)}")
    if input.ndim != 4:
        warnings.warn(f"dropout2d: received a {input.ndim}-D input; it is read as (N, C, *) "
                      f"with one mask value per (N, C) (PyTorch's current behaviour). Use "
                      f"dropout1d for channel-wise dropout of (N, C, L)", UserWarning,
                      stacklevel=2)
    return _masked(input, p, training, inplace, lambda s: _per_channel(s, 1))


SELU_ALPHA_SCALE = 1.7580993408473766     # SELU's scale * alpha: -this is SELU's lower limit


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (Klambauer et al., "Self-Normalizing Neural Networks", 2017): dropped
    elements are set to SELU's limit -alpha' and then y = a * x' + b restores mean 0 and
    variance 1, with a = ((1 - p)(1 + p alpha'^2))^-1/2 and b = a alpha' p."""
    _check_probability(p)
    if not training or p == 0:
        return input
    input = float_input(input)
    if p == 1:                                       # in place too: the input, zeroed
        return modify(input, "alpha_dropout_", lambda t: t * 0.0) if inplace else input * 0.0
    keep = random_array("uniform", input.shape, input.dtype, input.device) >= p
    keep = Tensor(keep.astype(input.dtype))                                     # 0 or 1
    a = ((SELU_ALPHA_SCALE ** 2 * p + 1) * (1 - p)) ** -0.5
    shift = (keep - 1) * (SELU_ALPHA_SCALE * a) + SELU_ALPHA_SCALE * a * p
    if inplace:
        return modify(input, "alpha_dropout_", lambda t, k, b: t * (k * a) + b, keep, shift)
    return input * (keep * a) + shift
