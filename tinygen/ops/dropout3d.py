"""Channel dropout of volumes, ``dropout3d``, and channel-wise alpha dropout,
``feature_alpha_dropout`` (the per-element forms are in dropout.py).

Both draw one mask value per (sample, channel) and broadcast it over the spatial dims. Feature
alpha dropout sets a dropped channel to SELU's lower limit -alpha' and then applies alpha
dropout's affine map y = a*x' + b, which keeps SELU's zero mean and unit variance (Klambauer et
al., 2017), as ATen's ``feature_alpha_dropout``.
"""

import warnings

from tinygen.autograd.inplace import modify
from tinygen.creation import random_array
from tinygen.ops.convert import float_input
from tinygen.ops.dropout import SELU_ALPHA_SCALE, _check_probability, _masked, _per_channel
from tinygen.tensor import Tensor


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``.
    Other ranks warn and are read as unbatched (C, *), as PyTorch 2.13 does."""
    _check_probability(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      f"deprecated and will result in an error in a future release. Note that "
                      f"dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      f"spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 0 and training:        # in eval PyTorch returns it as it is
        raise RuntimeError("dropout3d: Feature dropout requires at least 2 dimensions in the "
                           "input (after adding the batch dim), got a 0-D input")
    channel = 1 if input.ndim == 5 else 0     # PyTorch reads all but 5-D input as unbatched
    return _masked(input, p, training, inplace, lambda s: _per_channel(s, channel))


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (dim 1) of (N, C, *) input: one keep/drop draw per
    (sample, channel), dropped channels set to -alpha', then y = a*x' + b with
    a = ((1 - p)(1 + p alpha'^2))^-1/2 and b = a alpha' p."""
    _check_probability(p)
    if not training or p == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError(f"feature_alpha_dropout: Feature dropout requires at least 2 "
                           f"dimensions in the input, got input of size {list(input.shape)}")
    input = float_input(input)
    if p == 1:                                       # in place too: the input, zeroed
        return (modify(input, "feature_alpha_dropout_", lambda t: t * 0.0) if inplace
                else input * 0.0)
    shape = _per_channel(tuple(input.shape), 1)
    keep = Tensor((random_array("uniform", shape, input.dtype, input.device) >= p)
                  .astype(input.dtype))                                        # 0 or 1
    a = ((SELU_ALPHA_SCALE ** 2 * p + 1) * (1 - p)) ** -0.5
    shift = (keep - 1) * (SELU_ALPHA_SCALE * a) + SELU_ALPHA_SCALE * a * p
    if inplace:
        return modify(input, "feature_alpha_dropout_", lambda t, k, b: t * (k * a) + b, keep,
                      shift)
    return input * (keep * a) + shift
