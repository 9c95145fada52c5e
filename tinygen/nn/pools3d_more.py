"""The remaining 3-D pools: ``max_unpool3d``, ``lp_pool3d`` and ``fractional_max_pool3d`` (with
their layers ``MaxUnpool3d``, ``LPPool3d``, ``FractionalMaxPool3d``), and the ``_with_indices``
forms of fractional pooling.

Each reuses its 2-D code path: unpooling is ``ops/unpool.py``'s rank-generic ``_unpool``, the
Lp pool is an ``avg_pool3d`` of x^p times the window size, and fractional pooling places its
windows with ``ops/fractional_pool.py``'s ``_starts`` (PyTorch's interval formula), one draw per
(sample, channel) and spatial dim, in (T, H, W) order as PyTorch's 3-D kernel reads them.
"""

import math

from tinygen import creation
from tinygen.backend import get_array_module
from tinygen.nn.module import Module
from tinygen.nn.more_layers import _LPPoolNd
from tinygen.nn.pooling import _MaxUnpoolNd
from tinygen.ops.convert import float_input
from tinygen.ops.fractional_pool import _starts, fractional_max_pool2d
from tinygen.ops.indexing import gather
from tinygen.ops.layer_ops import lp_pool
from tinygen.ops.pool3d import avg_pool3d, max_pool3d
from tinygen.ops.unpool import _as_tensor, _unpool
from tinygen.tensor import Tensor


def _triple(value):
    """``value`` as a 3-tuple (a scalar is repeated); None stays None."""
    if value is None or isinstance(value, tuple) and len(value) == 3:
        return value
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * 3


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of ``input`` (N, C, D, H, W) or (C, D, H, W) at its flat ``indices`` (from
    ``max_pool3d(..., return_indices=True)``) in a zero output; other positions stay 0."""
    kernel = _triple(kernel_size)
    stride = kernel if stride is None or stride == [] else _triple(stride)
    return _unpool("max_unpool3d", input, _as_tensor(indices), kernel, stride,
                   _triple(padding), output_size, 3)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over each window)^(1/p) of (N, C, D, H, W) or (C, D, H, W) input, as
    ``lp_pool2d``: the window mean of x^p times the window size, to the power 1/p."""
    return lp_pool(input, norm_type, math.prod(_triple(kernel_size)), avg_pool3d, max_pool3d,
                   kernel_size, stride, ceil_mode)


def _window_index(xp, samples, sizes, out_sizes, kernel):
    """The flat in-volume index of every window element: (N, C, *out_sizes, prod(kernel)).
    Dim d's windows start at ``_starts(samples[..., d])``; the dims combine by broadcasting."""
    n, c, k = samples.shape[0], samples.shape[1], len(kernel)
    flat = 0
    for d in range(k):
        starts = _starts(samples[..., d], sizes[d], out_sizes[d], kernel[d])
        starts = starts.reshape((n, c) + tuple(o if j == d else 1 for j, o in
                                               enumerate(out_sizes)) + (1,) * k)
        offsets = xp.arange(kernel[d]).reshape(tuple(kernel[d] if j == d else 1
                                                     for j in range(k)))
        flat = flat + (starts + offsets) * math.prod(sizes[d + 1:])
    return flat.reshape((n, c) + tuple(out_sizes) + (math.prod(kernel),))   # n may be 0


def _fractional_nd(op, input, kernel, output_size, output_ratio, samples, names):
    """Fractional max pooling of (N, C, *sizes) input over len(kernel) spatial dims: the
    values (a gather, so every derivative is gather's) and the flat indices of the maxima."""
    input = float_input(input)
    n, c, sizes = input.shape[0], input.shape[1], tuple(input.shape[2:])
    if output_size is None:
        output_size = tuple(int(s * r) for s, r in zip(sizes, _triple(output_ratio)))
    out_sizes = _triple(output_size)
    for name, size, k, o in zip(names, sizes, kernel, out_sizes):
        if o + k - 1 >= size:                    # PyTorch's 3-D check is strict (its 2-D is not)
            raise RuntimeError(f"{op}_out(): pool {name} {k} too large relative to input "
                               f"{name} {size}")
    if samples is None:
        samples = creation.rand(n, c, len(kernel), dtype=input.dtype, device=input.device)
    samples = samples.array if isinstance(samples, Tensor) else samples
    if samples.ndim == 3 and samples.shape[2] != len(kernel):
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {len(kernel)}; got "
                           f"{samples.shape[2]}.")
    if samples.ndim != 3 or samples.shape[0] < n or samples.shape[1] != c:
        raise RuntimeError(f"{op}(): expected _random_samples of shape {(n, c, len(kernel))} "
                           f"(or more rows), got {tuple(samples.shape)}")
    samples = samples[:n]                         # PyTorch uses the first N rows
    xp = get_array_module(input.array)
    flat = _window_index(xp, xp.asarray(samples, dtype=input.dtype), sizes, out_sizes, kernel)
    volume = math.prod(sizes)
    outputs = math.prod(out_sizes)                 # written out: n may be 0
    windows = xp.take_along_axis(input.array.reshape(n, c, 1, volume),
                                 flat.reshape(n, c, 1, outputs * math.prod(kernel)),
                                 axis=3).reshape(flat.shape)
    best = xp.take_along_axis(flat, windows.argmax(-1)[..., None], axis=-1)[..., 0]
    values = gather(input.reshape(n, c, volume), 2, best.reshape(n, c, outputs))
    return values.reshape(n, c, *out_sizes), Tensor(best)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """Max over the (kT, kH, kW) windows that fractional pooling places on (N, C, T, H, W) or
    (C, T, H, W) input, and each maximum's flat index in its volume; ``_random_samples``
    (N, C, 3) fixes the windows."""
    op = "fractional_max_pool3d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"{op}(): Expected 4D or 5D tensor, but got input of shape "
                           f"{tuple(input.shape)}")
    batched = input.ndim == 5
    values, indices = _fractional_nd(op, input if batched else input.unsqueeze(0),
                                     _triple(kernel_size), output_size, output_ratio,
                                     _random_samples, ("time", "height", "width"))
    if not batched:
        values, indices = values.squeeze(0), Tensor(indices.array[0])
    return values, indices


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """``fractional_max_pool3d_with_indices``'s values, and its indices with
    ``return_indices``."""
    out = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                             return_indices, _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """``fractional_max_pool2d``'s (values, indices), whatever ``return_indices`` says."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool3d(return_indices=True)``; ``forward(input, indices,
    output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__(_triple(kernel_size), _triple(stride), _triple(padding))

    def forward(self, input, indices, output_size=None):
        return max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)


class LPPool3d(_LPPoolNd):
    """(sum of x^p over each window)^(1/p) of (N, C, D, H, W) or (C, D, H, W) input."""

    def forward(self, input):
        return lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride,
                         self.ceil_mode)


class FractionalMaxPool3d(Module):
    """Fractional max pooling to ``output_size``, or to ``output_ratio`` (in (0, 1)) of the
    input's size; ``_random_samples`` (N, C, 3) fixes the pseudo-random windows."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        self.kernel_size = _triple(kernel_size)            # stored as triples, as PyTorch does
        self.output_size = _triple(output_size)
        self.output_ratio = _triple(output_ratio)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        if output_size is None and output_ratio is None:
            raise ValueError("FractionalMaxPool3d requires specifying either an output size, "
                             "or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return fractional_max_pool3d(input, self.kernel_size, self.output_size,
                                     self.output_ratio, self.return_indices,
                                     self._random_samples)
