"""Fractional max pooling (Graham 2014, "Fractional Max-Pooling"): ``F.fractional_max_pool2d``.

The output is smaller than the input by a non-integer factor: output row i pools the rows
[a_i, a_i + k) with the pseudo-random, increasing starts of PyTorch's kernel,

    alpha = (H_in - k) / (H_out - 1),  a_i = int((i + u) * alpha) - int(u * alpha),
    a_{H_out - 1} = H_in - k,

u in [0, 1) drawn once per (sample, channel) and direction (``_random_samples[n, c]`` holds
(u_w, u_h), width first, as there), computed in the input's dtype so the starts match PyTorch's
bit for bit. The maximum is picked per window with the array's argmax and read back with
``gather``, so its gradient (and every higher one) is gather's.
"""

from tinygen import creation
from tinygen.backend import get_array_module
from tinygen.ops.convert import float_input
from tinygen.ops.indexing import gather
from tinygen.tensor import Tensor


def _pair(value, name):
    if isinstance(value, (int, float)):
        return (value, value)
    if len(value) != 2:
        raise ValueError(f"fractional_max_pool2d: {name} must be a number or a pair, got "
                         f"{value!r}")
    return tuple(value)


def _starts(samples, size_in, size_out, pool):
    """PyTorch's interval starts for samples u of shape (N, C): (N, C, size_out) ints."""
    xp = get_array_module(samples)
    dtype = samples.dtype
    i = xp.arange(size_out, dtype=dtype)
    if size_out > 1:
        alpha = dtype.type(size_in - pool) / dtype.type(size_out - 1)
        starts = (((i + samples[..., None]) * alpha).astype(xp.int64)
                  - (samples[..., None] * alpha).astype(xp.int64))
    else:
        starts = xp.zeros(samples.shape + (size_out,), xp.int64)
    if size_out > 0:
        starts[..., -1] = size_in - pool
    return starts


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over the (kH, kW) windows that fractional pooling places on (N, C, H, W) or
    (C, H, W) input; ``return_indices`` also gives each maximum's flat index in its plane."""
    if input.ndim == 3:
        samples = None if _random_samples is None else _random_samples
        out = fractional_max_pool2d(input.unsqueeze(0), kernel_size, output_size, output_ratio,
                                    True, samples)
        values, indices = out[0].squeeze(0), Tensor(out[1].array[0])
        return (values, indices) if return_indices else values
    if input.ndim != 4:
        raise RuntimeError(f"fractional_max_pool2d(): Expected 3D or 4D tensor, but got "
                           f"input of shape {tuple(input.shape)}")
    input = float_input(input)
    n, c, h, w = input.shape
    kh, kw = _pair(kernel_size, "kernel_size")
    if output_size is None:
        if output_ratio is None:
            raise ValueError("fractional_max_pool2d requires specifying either an output_size "
                             "or an output_ratio")
        rh, rw = _pair(output_ratio, "output_ratio")
        output_size = (int(h * rh), int(w * rw))
    oh, ow = _pair(output_size, "output_size")
    if oh + kh - 1 > h:
        raise RuntimeError(f"fractional_max_pool2d(): pool height {kh} too large relative to "
                           f"input height {h}")
    if ow + kw - 1 > w:
        raise RuntimeError(f"fractional_max_pool2d(): pool width {kw} too large relative to "
                           f"input width {w}")
    if _random_samples is None:
        _random_samples = creation.rand(n, c, 2, dtype=input.dtype, device=input.device)
    samples = _random_samples.array if isinstance(_random_samples, Tensor) else _random_samples
    if samples.ndim != 3 or samples.shape[0] < n or samples.shape[1:] != (c, 2):
        raise RuntimeError(f"fractional_max_pool2d(): expected _random_samples of shape "
                           f"{(n, c, 2)} (or more rows), got {tuple(samples.shape)}")
    samples = samples[:n]                         # PyTorch uses the first N rows
    xp = get_array_module(input.array)
    samples = xp.asarray(samples, dtype=input.dtype)
    rows = _starts(samples[..., 1], h, oh, kh)[:, :, :, None, None, None] + \
        xp.arange(kh)[:, None]                                  # (N, C, oH, 1, kH, 1)
    cols = _starts(samples[..., 0], w, ow, kw)[:, :, None, :, None, None] + \
        xp.arange(kw)                                           # (N, C, 1, oW, 1, kW)
    flat = (rows * w + cols).reshape(n, c, oh, ow, kh * kw)     # window index in the plane
    windows = xp.take_along_axis(input.array.reshape(n, c, 1, h * w),
                                 flat.reshape(n, c, 1, -1), axis=3).reshape(flat.shape)
    best = xp.take_along_axis(flat, windows.argmax(-1)[..., None], axis=-1)[..., 0]
    values = gather(input.reshape(n, c, h * w), 2, best.reshape(n, c, -1)).reshape(n, c, oh, ow)
    return (values, Tensor(best)) if return_indices else values
