"""Dropout layers: ``Dropout``, channel-wise ``Dropout1d`` / ``Dropout2d`` / ``Dropout3d``, and
``AlphaDropout`` / ``FeatureAlphaDropout`` (for SELU networks); each is the identity in eval
mode (see ops/dropout.py and ops/dropout3d.py)."""

from tinygen.nn.module import Module
from tinygen.ops.dropout import _check_probability, alpha_dropout, dropout, dropout1d, dropout2d
from tinygen.ops.dropout3d import dropout3d, feature_alpha_dropout


class _DropoutNd(Module):
    """What the dropout layers share: ``p``, ``inplace``, the repr, and a ``functional``."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_probability(p)
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return self.functional(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` in training mode and scale the survivors by
    1 / (1 - p); pass the input through unchanged in eval mode."""
    functional = staticmethod(dropout)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p`` (training)."""
    functional = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input with probability ``p`` (training)."""
    functional = staticmethod(dropout2d)


class AlphaDropout(_DropoutNd):
    """Alpha dropout: keeps the zero mean and unit variance of SELU activations (training)."""
    functional = staticmethod(alpha_dropout)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``
    (training)."""
    functional = staticmethod(dropout3d)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (training): a dropped channel is set to SELU's limit,
    then the affine map that keeps zero mean and unit variance is applied."""
    functional = staticmethod(feature_alpha_dropout)
