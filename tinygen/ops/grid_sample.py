"""Spatial sampling: ``grid_sample`` (read a 4-D input at arbitrary normalized points) and
``affine_grid`` (the points of an affine transform), as in the Spatial Transformer (Jaderberg
et al. 2015) and ``torch.nn.functional``.

Both are composed from differentiable ops, so the gradients with respect to the input, the grid
and theta (and their second derivatives) come for free. The integer corner positions are
constants; the bilinear weights are Tensor expressions of the grid, and the corner values are
read from the input by integer-array indexing, whose adjoint scatters back into the input.
"""

from tinygen.backend import get_array_module
from tinygen.ops.compare import clamp, where
from tinygen.ops.convert import float_input
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


def _source_index(coord, size, padding_mode, align_corners):
    """The pixel coordinate that a normalized ``coord`` reads, after the padding rule."""
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = clamp(coord, 0, size - 1)
    return coord


def _read(planes, iy, ix, H, W):
    """planes[n, iy, ix, :] where (iy, ix) lies inside the image, 0 elsewhere: (N, Ho, Wo, C)."""
    xp = get_array_module(iy)
    inside = (iy >= 0) & (iy < H) & (ix >= 0) & (ix < W)
    n = xp.arange(planes.shape[0])[:, None, None]
    values = planes[n, xp.clip(iy, 0, H - 1), xp.clip(ix, 0, W - 1)]
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
    if input.ndim != 4 or grid.ndim != 4:
        raise NotImplementedError(f"grid_sample: only 4-D input (N, C, H, W) with a grid "
                                  f"(N, H_out, W_out, 2) is supported, got input of size "
                                  f"{list(input.shape)} and grid of size {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not implemented in tinygen; "
                                  "use 'bilinear' or 'nearest'")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at ``grid`` (N, H_out, W_out, 2), whose last dim holds
    (x, y) in [-1, 1] (-1 the left/top edge); gives (N, C, H_out, W_out). Points outside read
    zeros, the border pixel, or the mirrored image (``padding_mode``). ``align_corners=None``
    means False, as PyTorch (which also warns)."""
    _check(input, grid, mode, padding_mode)
    align_corners = bool(align_corners)
    input, grid = float_input(input), float_input(grid)
    H, W = input.shape[-2:]
    x = _source_index(grid[..., 0], W, padding_mode, align_corners)
    y = _source_index(grid[..., 1], H, padding_mode, align_corners)
    planes = input.permute(0, 2, 3, 1)                       # (N, H, W, C)
    xp = get_array_module(x.array)
    if mode == "nearest":                    # round half to even, as PyTorch's nearbyint
        iy, ix = (xp.rint(c.array).astype(xp.int64) for c in (y, x))
        return _read(planes, iy, ix, H, W).permute(0, 3, 1, 2)
    x0, y0 = xp.floor(x.array), xp.floor(y.array)
    wx1, wy1 = (x - Tensor(x0)).unsqueeze(-1), (y - Tensor(y0)).unsqueeze(-1)
    wx0, wy0 = 1 - wx1, 1 - wy1
    x0, y0 = x0.astype(xp.int64), y0.astype(xp.int64)
    out = (_read(planes, y0, x0, H, W) * (wy0 * wx0) + _read(planes, y0, x0 + 1, H, W) * (wy0 * wx1)
           + _read(planes, y0 + 1, x0, H, W) * (wy1 * wx0)
           + _read(planes, y0 + 1, x0 + 1, H, W) * (wy1 * wx1))
    return out.permute(0, 3, 1, 2)


def _base_coords(xp, n, align_corners, dtype):
    """The n pixel centres in [-1, 1] coordinates."""
    coords = xp.linspace(-1.0, 1.0, n, dtype=dtype) if n > 1 else xp.zeros(1, dtype=dtype)
    return coords if align_corners else coords * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) for an output of
    ``size`` (N, C, H, W): grid[n, i, j] = theta[n] @ (x_j, y_i, 1)."""
    size = tuple(size)
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D sizes (3-D is not implemented "
                                  f"in tinygen), for 2D affine transforms. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{size}. Got {tuple(theta.shape)}.")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: theta has batch size {theta.shape[0]} but size asks "
                           f"for {size[0]}")
    if min(size[2:]) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    theta = float_input(theta)
    xp = get_array_module(theta.array)
    N, _, H, W = size
    base = xp.empty((H, W, 3), dtype=theta.dtype)
    base[..., 0] = _base_coords(xp, W, bool(align_corners), theta.dtype)[None, :]
    base[..., 1] = _base_coords(xp, H, bool(align_corners), theta.dtype)[:, None]
    base[..., 2] = 1
    grid = Tensor(base.reshape(1, H * W, 3)) @ theta.transpose(1, 2)      # (N, H*W, 2)
    return grid.reshape(N, H, W, 2)
