"""``pad``: PyTorch's ``F.pad`` for the modes 'constant', 'reflect', 'replicate' and 'circular'.

Constant padding is one op whose adjoint is itself with the widths negated: padding by (a, b)
then by (-a, -b) crops back to the input, and where forward cropped (negative widths) backward
pads the gradient with zeros. The other modes copy border values, which is a gather along each
padded dim: integer-array indexing, whose backward (a scatter-add) is already differentiable.
"""

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.errors import ArgumentError, UnsupportedModeError

MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(ArrayFunction):
    """y = x grown by ``widths`` ((before, after) per dim; negative crops), new cells = value."""
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
        out = get_array_module(x).full(shape, value, dtype=x.dtype)
        source = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(x.shape, widths))
        target = tuple(slice(max(a, 0), n - max(b, 0)) for n, (a, b) in zip(shape, widths))
        out[target] = x[source]
        return out

    @staticmethod
    def backward(ctx, grad_y):
        negated = tuple((-a, -b) for a, b in ctx.widths)
        return ConstantPad.apply(grad_y, negated, 0), None, None


def _widths(input, pad, mode):
    """F.pad's flat (left, right, top, bottom, ...) from the LAST dim backwards, as one
    (before, after) pair per dim of the input."""
    pad = tuple(pad)
    if not all(isinstance(p, int) for p in pad):
        raise TypeError(f"pad: padding must hold ints, got {pad}")
    if len(pad) % 2:
        raise ArgumentError(f"pad: padding length must be divisible by 2, got {pad}")
    if len(pad) // 2 > input.ndim:
        raise ArgumentError(f"pad: padding length too large: {pad} pads {len(pad) // 2} dims of "
                            f"an input of shape {tuple(input.shape)}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]
    widths = ((0, 0),) * (input.ndim - len(pairs)) + tuple(pairs)
    for n, (a, b) in zip(input.shape, widths):
        if n + min(a, 0) < 0 or n + min(a, 0) + min(b, 0) < 0 or n + a + b < 0:   # as torch crops
            raise RuntimeError(f"pad: the input size {n}, plus negative padding {a} and {b}, "
                               f"resulted in a negative output size (input shape "
                               f"{tuple(input.shape)}, pad {pad})")
        if mode in ("reflect", "circular") and (a or b) and max(a, b) > n - (mode == "reflect"):
            limit = "smaller than" if mode == "reflect" else "at most"
            raise RuntimeError(f"pad: {mode} padding must be {limit} the input size of its "
                               f"dim, got pad {pad} for input shape {tuple(input.shape)}")
    return widths


def _source_index(xp, n, before, after, mode):
    """For each output position along one dim, the input position it copies (a negative width
    crops that side, as in PyTorch)."""
    if mode == "circular":                # PyTorch crops first, then wraps around what is left
        lo, hi = max(-before, 0), n - max(-after, 0)
        return xp.arange(-max(before, 0), hi - lo + max(after, 0)) % (hi - lo) + lo
    i = xp.arange(-before, n + after)
    if mode == "reflect":                 # mirror about the edge, the edge itself not repeated
        return xp.where(i < 0, -i, xp.where(i >= n, 2 * (n - 1) - i, i))
    return xp.clip(i, 0, n - 1)           # replicate


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: ``pad`` = (left, right, top, bottom, front, back, ...).

    ``value`` fills constant padding (default 0); negative widths crop, in every mode.
    """
    if mode not in MODES:
        raise UnsupportedModeError(f"pad: unknown padding mode {mode!r}; use one of {MODES}")
    if mode != "constant" and value not in (None, 0):
        raise ArgumentError(f"pad: padding mode {mode!r} doesn't take in a value argument")
    widths = _widths(input, pad, mode)
    if all(a == 0 and b == 0 for a, b in widths):
        return input
    if mode == "constant":
        return ConstantPad.apply(input, widths, 0 if value is None else value)
    xp = get_array_module(input.array)
    for axis, (n, (a, b)) in enumerate(zip(input.shape, widths)):
        if a or b:
            index = _source_index(xp, n, a, b, mode)
            input = input[(slice(None),) * axis + (index,)]
    return input
