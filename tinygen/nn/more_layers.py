"""Small layers: ``RReLU``, ``Softmax2d``, ``ChannelShuffle``, ``LocalResponseNorm``,
``CrossMapLRN2d`` and ``LPPool1d/2d``, each keeping PyTorch's arguments (so reprs match) and
calling the functional form in ``tinygen/ops/layer_ops.py``."""

from tinygen.nn.module import Module
from tinygen.ops.layer_ops import (
    channel_shuffle, cross_map_lrn2d, local_response_norm, lp_pool1d, lp_pool2d, rrelu)
from tinygen.ops.reduce import softmax


class RReLU(Module):
    """Randomized leaky ReLU: slopes drawn from U[lower, upper] per element in training, the
    fixed (lower + upper) / 2 in eval mode."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        inplace = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace}"


class Softmax2d(Module):
    """softmax over the channels of each pixel: dim -3 of (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             f"instead")
        return softmax(input, -3)


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups (ShuffleNet)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class _ResponseNorm(Module):
    """The arguments and repr the two response normalisations share."""

    def __init__(self, size, alpha, beta, k):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)


class LocalResponseNorm(_ResponseNorm):
    """x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels)^beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__(size, alpha, beta, k)

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)


class CrossMapLRN2d(_ResponseNorm):
    """LRN over the channels of a 4-D input (the legacy Torch7 layer) with PyTorch's
    ``CrossMapLRN2d`` values, whose window always includes channel 0 (see
    ``tinygen.ops.layer_ops._cross_map_windows``), so they can differ from LocalResponseNorm."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__(size, alpha, beta, k)

    def forward(self, input):
        return cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return ("norm_type={norm_type}, kernel_size={kernel_size}, stride={stride}, "
                "ceil_mode={ceil_mode}".format(**self.__dict__))


class LPPool1d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p) of a signal (N, C, L) or (C, L)."""

    def forward(self, input):
        return lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride,
                         self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p) of an image (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        return lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride,
                         self.ceil_mode)
