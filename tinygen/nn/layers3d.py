"""The 3-D (and remaining 1-D) pooling layers: ``MaxPool3d``, ``AvgPool3d``,
``AdaptiveAvgPool1d/3d`` and ``AdaptiveMaxPool1d/3d``.

Each keeps its arguments as PyTorch does (so reprs match), sharing that and the repr with its
2-D sibling in pooling.py, and calls the functional form in ``ops/pool3d.py`` or
``ops/adaptive_pool.py``.
"""

from tinygen.nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from tinygen.ops.adaptive_pool import (
    adaptive_avg_pool1d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool3d)
from tinygen.ops.pool3d import avg_pool3d, max_pool3d


class MaxPool3d(MaxPool2d):
    """The max over each kernel_size window of (N, C, D, H, W) or (C, D, H, W) input (stride
    defaults to kernel_size), as ``torch.nn.MaxPool3d``."""

    def forward(self, input):
        return max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool3d(AvgPool2d):
    """The mean over each kernel_size window of (N, C, D, H, W) or (C, D, H, W) input, as
    ``torch.nn.AvgPool3d``."""

    def forward(self, input):
        return avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """The mean of each of output_size adaptive windows of (N, C, L) or (C, L) input."""

    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """The mean of each of output_size adaptive windows of (N, C, D, H, W) or (C, D, H, W)
    input (an int, or a triple whose None keeps that input size)."""

    def forward(self, input):
        return adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """The max of each of output_size adaptive windows of (N, C, L) or (C, L) input; with
    return_indices also the positions of the maxima."""

    def forward(self, input):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """The max of each of output_size adaptive windows of (N, C, D, H, W) or (C, D, H, W)
    input; with return_indices also each max's flat position in its plane."""

    def forward(self, input):
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)
