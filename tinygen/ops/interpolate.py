"""Resizing: ``interpolate`` with PyTorch's modes nearest, nearest-exact, linear, bilinear,
trilinear, bicubic and area, and PyTorch's coordinates.

Resizing is a linear map along each spatial axis, y = A_h x A_w^T with A of shape (out, in):
row o of A holds the weights that output position o gives the input positions. Nearest puts a
single 1 in each row, linear two weights, cubic four. The backward, A_h^T g A_w, then comes
from matmul, and is differentiable again. 3-D input (N, C, D, H, W) applies one such matrix per
axis in the same way. 'area' is adaptive average pooling to the output size. Antialiasing
only changes the rows of A (a filter as wide as the shrink factor, normalized per row).
"""

import math

import numpy as np

from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError, UnsupportedModeError
from tinygen.ops.adaptive_pool import _adaptive_avg
from tinygen.tensor import Tensor

INTERPOLATE_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear",
                     "area")
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
CUBIC_A = -0.75          # PyTorch's (and OpenCV's) cubic convolution parameter


def _nearest_matrix(n_in, n_out, mode, scale, dtype):
    """'nearest' reads input floor(dst * scale), 'nearest-exact' floor((dst + 0.5) * scale),
    with PyTorch's float32 scale."""
    a = np.zeros((n_out, n_in), dtype=dtype)
    dst = np.arange(n_out)
    ratio = np.float32(scale if scale is not None else np.float32(n_in) / np.float32(n_out))
    if mode == "nearest":
        src = np.floor(dst.astype(np.float32) * ratio)
    else:
        src = np.floor(((dst + 0.5) * np.float64(ratio)).astype(np.float32))
    a[dst, np.minimum(src.astype(np.int64), n_in - 1)] = 1
    return a


def _source_positions(n_in, n_out, scale, align_corners, compute):
    """Where each output position samples the input, in input pixels (PyTorch's
    area_pixel_compute_source_index, in the input's dtype as PyTorch computes it)."""
    dst = np.arange(n_out).astype(compute)
    if align_corners:                     # corners map to corners: src = dst * (in-1)/(out-1)
        return dst * compute((n_in - 1) / (n_out - 1) if n_out > 1 else 0)
    ratio = compute(scale if scale is not None else n_in / n_out)
    return (dst + compute(0.5)) * ratio - compute(0.5)      # pixel centres onto pixel centres


def _linear_matrix(n_in, n_out, scale, align_corners, dtype):
    """Each output blends the two inputs around its source position (clamped to >= 0)."""
    compute = np.dtype(dtype).type
    a = np.zeros((n_out, n_in), dtype=dtype)
    dst = np.arange(n_out)
    src = np.maximum(_source_positions(n_in, n_out, scale, align_corners, compute), 0)
    low = src.astype(np.int64)
    high = low + (low < n_in - 1)
    frac = src - low.astype(compute)
    a[dst, low] += 1 - frac
    a[dst, high] += frac
    return a


def _cubic_weights(t, A):
    """The weights of the inputs at offsets -1, 0, 1, 2 from floor(src), t = src - floor(src):
    Keys' cubic convolution kernel (Keys, 1981, eq. 15) with PyTorch's A = -0.75,
        W(x) = (A + 2)|x|^3 - (A + 3)|x|^2 + 1         for |x| <= 1,
        W(x) = A|x|^3 - 5A|x|^2 + 8A|x| - 4A           for 1 < |x| < 2,
    evaluated at x = t + 1, t, 1 - t, 2 - t in PyTorch's Horner form."""
    def near(x):                                             # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):                                              # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _cubic_matrix(n_in, n_out, scale, align_corners, dtype):
    """Each output blends the four inputs around its source position; inputs past the border
    are read at the border (their weight lands on index 0 or n_in - 1), as PyTorch does."""
    compute = np.dtype(dtype).type
    a = np.zeros((n_out, n_in), dtype=dtype)
    dst = np.arange(n_out)
    src = _source_positions(n_in, n_out, scale, align_corners, compute)  # not clamped
    index = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - index.astype(compute), 0, 1)
    for offset, weight in zip((-1, 0, 1, 2), _cubic_weights(t, compute(CUBIC_A))):
        a[dst, np.clip(index + offset, 0, n_in - 1)] += weight
    return a


def _antialias_filter(x, mode):
    """The antialiasing filters of PyTorch (and PIL): the triangle for 'bilinear', Keys' cubic
    with A = -0.5 (PIL's choice, not the -0.75 of plain bicubic) for 'bicubic'."""
    x = np.abs(x)
    if mode == "bilinear":
        return np.maximum(1 - x, 0)
    A = -0.5
    near = ((A + 2) * x - (A + 3)) * x * x + 1
    far = ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _antialias_matrix(n_in, n_out, mode, scale, align_corners, dtype):
    """PyTorch's antialiased weights (UpSampleKernel.cpp, _compute_weights_aa): when shrinking
    by r = in/out > 1 the filter is stretched r times, so each output averages every input
    under it; the weights are normalized to sum to 1, which also handles the borders. With
    align_corners, r is (in-1)/(out-1) but the centres stay at half pixels, as in PyTorch."""
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        ratio = scale if scale is not None else n_in / n_out
    half = 1.0 if mode == "bilinear" else 2.0                   # the filter's support at r = 1
    support, stretch = (half * ratio, 1.0 / ratio) if ratio >= 1 else (half, 1.0)
    taps = int(math.ceil(support)) * 2 + 1
    centre = ratio * (np.arange(n_out) + 0.5)
    low = np.maximum(np.trunc(centre - support + 0.5).astype(np.int64), 0)
    count = np.clip(np.minimum(np.trunc(centre + support + 0.5).astype(np.int64), n_in) - low,
                    0, taps)
    index = low[:, None] + np.arange(taps)                            # (n_out, taps)
    used = np.arange(taps) < count[:, None]
    weights = np.where(used, _antialias_filter((index - centre[:, None] + 0.5) * stretch, mode),
                       0.0)
    total = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(total == 0, 1.0, total)
    a = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.broadcast_to(np.arange(n_out)[:, None], index.shape)
    np.add.at(a, (rows[used], index[used]), weights[used])
    return a.astype(dtype)


def _resize_matrix(n_in, n_out, mode, scale, align_corners, dtype, antialias=False):
    """A (n_out, n_in) for one axis. ``scale`` is 1/scale_factor when one was given (PyTorch
    uses it as is), else None."""
    if antialias:
        return _antialias_matrix(n_in, n_out, mode, scale, align_corners, dtype)
    if mode.startswith("nearest"):
        return _nearest_matrix(n_in, n_out, mode, scale, dtype)
    if mode == "bicubic":
        return _cubic_matrix(n_in, n_out, scale, align_corners, dtype)
    return _linear_matrix(n_in, n_out, scale, align_corners, dtype)


def _output_size(op, input, size, scale_factor, spatial):
    if (size is None) == (scale_factor is None):
        which = "either" if size is None else "only one of"
        raise ValueError(f"{op}: {which} size or scale_factor should be defined (exactly one of "
                         f"size or scale_factor is needed), got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    in_size = tuple(input.shape[2:])
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        if len(sizes) != spatial:
            raise ValueError(f"{op}: size {size!r} must have {spatial} entries for input of "
                             f"shape {tuple(input.shape)}")
        return tuple(int(s) for s in sizes), (None,) * spatial
    factors = ((scale_factor,) * spatial if isinstance(scale_factor, (int, float))
               else tuple(scale_factor))
    if len(factors) != spatial:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} must have {spatial} entries for "
                         f"input of shape {tuple(input.shape)}")
    out = tuple(int(math.floor(n * f)) for n, f in zip(in_size, factors))
    return out, tuple(1.0 / f for f in factors)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input, with
    PyTorch's coordinates:
    'nearest' takes input floor(dst * in/out) (PyTorch's legacy nearest), 'nearest-exact'
    floor((dst + 0.5) * in/out); 'linear'/'bilinear' blend the two nearest inputs and
    'bicubic' (4-D input) the four nearest with Keys' cubic kernel (A = -0.75), placing pixel
    centres (align_corners=False) or the corner pixels (True) onto each other. Bicubic
    overshoots: its output may leave the input's range, as PyTorch's does.
    ``antialias=True`` ('bilinear'/'bicubic', 4-D input) widens the filter by the shrink
    factor, so downsampling averages every input under each output (PIL's and PyTorch's
    filters; see ``_antialias_matrix``). ``recompute_scale_factor=True`` places the samples by
    the integer output size instead of the given ``scale_factor``, as PyTorch."""
    op = "interpolate"
    if mode not in INTERPOLATE_MODES:
        raise UnsupportedModeError(f"{op}: unsupported mode {mode!r}; use one of "
                                   f"{INTERPOLATE_MODES}")
    if align_corners is not None and mode not in _MODE_DIMS:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating "
                         f"modes: linear | bilinear | bicubic")
    spatial = input.ndim - 2
    if spatial not in (1, 2, 3) or _MODE_DIMS.get(mode, spatial) != spatial:
        need = {1: "3D", 2: "4D", 3: "5D"}.get(_MODE_DIMS.get(mode), "3D, 4D or 5D")
        raise UnsupportedModeError(f"{op}: got {input.ndim}D input of shape "
                                   f"{tuple(input.shape)}, but mode {mode!r} needs {need} input")
    if recompute_scale_factor and size is not None:
        raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size.")
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ValueError(f"{op}: Anti-alias option is restricted to bilinear and bicubic modes "
                         f"and requires a 4-D tensor as input, got mode {mode!r} and input of "
                         f"shape {tuple(input.shape)}")
    out_size, scales = _output_size(op, input, size, scale_factor, spatial)
    if min(out_size) <= 0:
        raise ArgumentError(f"{op}: output size {out_size} must be positive (input shape "
                            f"{tuple(input.shape)})")
    if recompute_scale_factor:
        scales = (None,) * spatial
    if mode == "area":
        return _adaptive_avg(op, input, out_size, spatial)
    xp = get_array_module(input.array)
    # blends of uint8 or float16 are computed in float32 and rounded once, as PyTorch
    low = mode in _MODE_DIMS and input.dtype in (np.dtype(np.float16), np.dtype(np.uint8))
    out = input.float() if low else input
    for axis, (n_in, n_out, scale) in enumerate(zip(input.shape[2:], out_size, scales)):
        if n_in == n_out and scale in (None, 1.0):
            continue
        a = Tensor(xp.asarray(_resize_matrix(n_in, n_out, mode, scale, bool(align_corners),
                                             out.dtype, antialias)))
        dim = axis + 2 - input.ndim                                    # from the end
        if dim == -1:
            out = out @ a.transpose(0, 1)                              # (..., W) @ A_w^T
        elif dim == -2:
            out = a @ out                                              # A_h @ (H, W)
        else:
            out = (out.movedim(dim, -1) @ a.transpose(0, 1)).movedim(-1, dim)
    if low and input.dtype == np.uint8:
        out = out.round().clamp(0, 255)
    return out.to(input.dtype) if low else out
