"""Sub-pixel rearrangement: ``pixel_shuffle`` / ``PixelShuffle`` and their inverse,
``pixel_unshuffle`` / ``PixelUnshuffle`` (Shi et al., "Real-Time Single Image and Video
Super-Resolution Using an Efficient Sub-Pixel CNN", 2016).

With r the factor, channel c*r*r + i*r + j of pixel (h, w) becomes pixel (h*r + i, w*r + j) of
channel c: a reshape, a permute and a reshape, whose gradients are the inverse moves.
"""

from tinygen.nn.module import Module


def _check_rank(op, input, name, factor):
    if factor <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {factor}")
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")


def _permutation(lead, order):
    """Leading dims kept in place, then the trailing dims in ``order`` (counted after them)."""
    return tuple(range(lead)) + tuple(lead + d for d in order)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r) with r = upscale_factor."""
    op, r = "pixel_shuffle", upscale_factor
    _check_rank(op, input, "upscale_factor", r)
    *lead, C, H, W = input.shape
    if C % (r * r):
        raise RuntimeError(f"{op} expects its input's 'channel' dimension to be divisible by "
                           f"the square of upscale_factor, but input.size(-3)={C} is not "
                           f"divisible by {r * r}")
    x = input.reshape(*lead, C // (r * r), r, r, H, W)
    x = x.permute(*_permutation(len(lead), (0, 3, 1, 4, 2)))      # (*, C, H, r, W, r)
    return x.reshape(*lead, C // (r * r), H * r, W * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W) with r = downscale_factor: pixel_shuffle undone."""
    op, r = "pixel_unshuffle", downscale_factor
    _check_rank(op, input, "downscale_factor", r)
    *lead, C, H, W = input.shape
    for name, dim, n in (("height", -2, H), ("width", -1, W)):
        if n % r:
            raise RuntimeError(f"{op} expects {name} to be divisible by downscale_factor, but "
                               f"input.size({dim})={n} is not divisible by {r}")
    x = input.reshape(*lead, C, H // r, r, W // r, r)
    x = x.permute(*_permutation(len(lead), (0, 2, 4, 1, 3)))      # (*, C, r, r, H/r, W/r)
    return x.reshape(*lead, C * r * r, H // r, W // r)


class PixelShuffle(Module):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r), as ``torch.nn.PixelShuffle``."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W), as ``torch.nn.PixelUnshuffle``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
