"""Spatial sampling: ``grid_sample`` (read a 4-D or 5-D input at arbitrary normalized points:
nearest, bilinear/trilinear, or bicubic for 4-D) and ``affine_grid`` (the points of a 2-D or
3-D affine transform), as in the Spatial Transformer (Jaderberg et al. 2015) and
``torch.nn.functional``.

Both are composed from differentiable ops, so the gradients with respect to the input, the grid
and theta (and their second derivatives) come for free. The integer corner (or tap) positions
are constants; the linear or cubic weights are Tensor expressions of the grid, and the corner
values are read from the input by integer-array indexing, whose adjoint scatters back into the
input.
"""

import itertools

from tinygen.backend import get_array_module
from tinygen.ops.compare import clamp, where
from tinygen.ops.convert import float_input
from tinygen.ops.interpolate import CUBIC_A, _cubic_weights
from tinygen.tensor import Tensor

_MODES = ("bilinear", "nearest", "bicubic")
_PADDING_MODES = ("zeros", "border", "reflection")


def _unnormalize(coord, size, align_corners):
    """[-1, 1] to pixel coordinates: -1 and 1 are the corner pixels' centres (align_corners) or
    their outer edges."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """Fold ``coord`` into [low, high] by mirroring at both ends (PyTorch's reflect_coordinates,
    with the bounds doubled so that half-pixel bounds stay integers)."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    xp = get_array_module(distance.array)
    flips = xp.floor(distance.array / span)            # how many mirrors were crossed: constant
    extra = distance - Tensor(flips * span)
    return where(Tensor(flips % 2 == 0), extra + low, span - extra + low)


def _pad(coord, size, padding_mode, align_corners):
    """Apply the padding rule to pixel coordinates: mirror them back inside ('reflection') and
    clamp them to the image ('border', 'reflection'); 'zeros' leaves them as they are."""
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = clamp(coord, 0, size - 1)
    return coord


def _source_index(coord, size, padding_mode, align_corners):
    """The pixel coordinate that a normalized ``coord`` reads, after the padding rule."""
    return _pad(_unnormalize(coord, size, align_corners), size, padding_mode, align_corners)


def _read(planes, index, sizes):
    """planes[n, *index, :] where ``index`` (one integer array per spatial axis) lies inside
    the image, 0 elsewhere: (N, *out, C)."""
    xp = get_array_module(index[0])
    inside = xp.ones(index[0].shape, dtype=bool)
    for i, size in zip(index, sizes):
        inside &= (i >= 0) & (i < size)
    n = xp.arange(planes.shape[0]).reshape((-1,) + (1,) * (index[0].ndim - 1))
    values = planes[(n,) + tuple(xp.clip(i, 0, size - 1) for i, size in zip(index, sizes))]
    return values * Tensor(inside[..., None].astype(planes.dtype))


def _check(input, grid, mode, padding_mode):
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected {4 if input.ndim == 4 else 5}D input and "
                           f"grid with same number of dimensions, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError(f"grid_sampler(): bicubic interpolation only supports 4D input, got "
                           f"input with sizes {list(input.shape)}")


def _linear(planes, coords, sizes):
    """Blend the 2^d corners around each point, weighted by the products of the per-axis
    distances to the opposite corner (bilinear for d = 2, trilinear for d = 3)."""
    xp = get_array_module(coords[0].array)
    low = [xp.floor(c.array) for c in coords]
    high_w = [(c - Tensor(f)).unsqueeze(-1) for c, f in zip(coords, low)]
    low = [f.astype(xp.int64) for f in low]
    out = None
    for corner in itertools.product((0, 1), repeat=len(coords)):
        weight = None
        for bit, w in zip(corner, high_w):
            w = w if bit else 1 - w
            weight = w if weight is None else weight * w
        term = _read(planes, [f + bit for f, bit in zip(low, corner)], sizes) * weight
        out = term if out is None else out + term
    return out


def _bicubic(planes, x, y, sizes, padding_mode, align_corners):
    """PyTorch's bicubic grid sampling: the 4 x 4 pixels around floor(x, y) blended with Keys'
    weights (A = -0.75) of the fractional parts. The padding rule applies to each tap's
    integer position (not to the point), so 'zeros' reads 0 for the taps outside."""
    xp = get_array_module(x.array)
    x0, y0 = xp.floor(x.array), xp.floor(y.array)
    wx = _cubic_weights((x - Tensor(x0)).unsqueeze(-1), CUBIC_A)
    wy = _cubic_weights((y - Tensor(y0)).unsqueeze(-1), CUBIC_A)
    H, W = sizes

    def tap(start, offset, size):
        coord = _pad(Tensor(start + (offset - 1)), size, padding_mode, align_corners)
        return coord.array.astype(xp.int64)

    out = None
    for i in range(4):
        iy = tap(y0, i, H)
        row = None
        for j in range(4):
            term = _read(planes, [iy, tap(x0, j, W)], sizes) * wx[j]
            row = term if row is None else row + term
        out = row * wy[i] if out is None else out + row * wy[i]
    return out


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at ``grid`` (N, H_out, W_out, 2), whose last dim holds
    (x, y) in [-1, 1] (-1 the left/top edge); gives (N, C, H_out, W_out). 5-D input
    (N, C, D, H, W) takes a grid (N, D_out, H_out, W_out, 3) of (x, y, z), and 'bilinear' is
    then trilinear; 'bicubic' needs 4-D input, as in PyTorch. Points outside read zeros, the
    border pixel, or the mirrored image (``padding_mode``). ``align_corners=None`` means False,
    as PyTorch (which also warns)."""
    _check(input, grid, mode, padding_mode)
    align_corners = bool(align_corners)
    input, grid = float_input(input), float_input(grid)
    sizes = tuple(input.shape[2:])                           # (H, W) or (D, H, W)
    d = len(sizes)
    planes = input.movedim(1, -1)                            # (N, *sizes, C)
    if mode == "bicubic":
        x = _unnormalize(grid[..., 0], sizes[1], align_corners)
        y = _unnormalize(grid[..., 1], sizes[0], align_corners)
        return _bicubic(planes, x, y, sizes, padding_mode, align_corners).movedim(-1, 1)
    # grid[..., 0] indexes the last axis (W), grid[..., 1] the one before, and so on
    coords = [_source_index(grid[..., d - 1 - axis], size, padding_mode, align_corners)
              for axis, size in enumerate(sizes)]
    if mode == "nearest":                    # round half to even, as PyTorch's nearbyint
        xp = get_array_module(coords[0].array)
        index = [xp.rint(c.array).astype(xp.int64) for c in coords]
        return _read(planes, index, sizes).movedim(-1, 1)
    return _linear(planes, coords, sizes).movedim(-1, 1)


def _base_coords(xp, n, align_corners, dtype):
    """The n pixel centres in [-1, 1] coordinates."""
    coords = xp.linspace(-1.0, 1.0, n, dtype=dtype) if n > 1 else xp.zeros(1, dtype=dtype)
    return coords if align_corners else coords * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) for an output of
    ``size`` (N, C, H, W): grid[n, i, j] = theta[n] @ (x_j, y_i, 1). A 5-D ``size``
    (N, C, D, H, W) takes theta (N, 3, 4) and gives (N, D, H, W, 3) from (x, y, z, 1)."""
    size = tuple(size)
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    d = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[-2:]) != (d, d + 1):
        raise ValueError(f"Expected a batch of {d}D affine matrices of shape Nx{d}x{d + 1} for "
                         f"size {size}. Got {tuple(theta.shape)}.")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: theta has batch size {theta.shape[0]} but size asks "
                           f"for {size[0]}")
    if min(size[2:]) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    theta = float_input(theta)
    xp = get_array_module(theta.array)
    N, spatial = size[0], size[2:]
    base = xp.empty(spatial + (d + 1,), dtype=theta.dtype)
    for k in range(d):                       # coordinate k (x, y, z) runs along axis d - 1 - k
        axis = d - 1 - k
        shape = [1] * d
        shape[axis] = spatial[axis]
        coords = _base_coords(xp, spatial[axis], bool(align_corners), theta.dtype)
        base[..., k] = coords.reshape(shape)
    base[..., d] = 1
    count = 1
    for n in spatial:
        count *= n
    grid = Tensor(base.reshape(1, count, d + 1)) @ theta.transpose(1, 2)   # (N, count, d)
    return grid.reshape(N, *spatial, d)
