"""The differentiable Fourier transforms behind ``tg.fft`` (fft.py), on numpy.fft / cupy.fft.

Four ops, each over the axes ``dims``:

* ``Resize``: crop or zero-pad to given sizes (what ``n`` / ``s`` do before a transform). Its
  adjoint resizes back, so its backward is itself.
* ``C2C``: the complex transform (fftn, or ifftn with ``inverse``). F's adjoint is F^H, the
  inverse transform with the dual normalization ("backward" <-> "forward", "ortho" stays),
  so grad_x = C2C(grad_y, inverse flipped, dual norm): in PyTorch's convention the gradient
  of a linear map A is A^H grad.
* ``R2C`` (rfftn of a real input): y is the first n//2 + 1 entries of the full transform along
  the last axis, so grad_x = Re(F^H (grad_y zero-extended to n)).
* ``C2R`` (irfftn, output length n on the last axis): the input's half spectrum stands for the
  whole Hermitian one, so each entry that stands for itself and its mirror (all but entry 0
  and, for even n, entry n/2) counts twice: grad_X = w * rfftn(grad_y, dual norm), w = 2 there
  and 1 at those two entries (whose imaginary parts the transform ignores, and whose gradient
  is real).

Backward passes are written with these same ops, so they can be differentiated again.
"""

from tinygen import dtypes
from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.complex_ops import real
from tinygen.tensor import Tensor

DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


class Resize(ArrayFunction):
    """y = x cropped or zero-padded at the end of each axis in ``dims`` to ``sizes``."""
    supports_complex = True

    @staticmethod
    def forward(ctx, x, dims, sizes):
        ctx.dims, ctx.sizes = dims, tuple(x.shape[d] for d in dims)
        return resize_array(x, dims, sizes)

    @staticmethod
    def backward(ctx, grad_y):
        return Resize.apply(grad_y, ctx.dims, ctx.sizes), None, None


def resize_array(x, dims, sizes):
    shape = list(x.shape)
    for d, n in zip(dims, sizes):
        shape[d] = n
    xp = get_array_module(x)
    y = xp.zeros(shape, x.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(x.shape, shape))
    y[common] = x[common]
    return y


class C2C(ArrayFunction):
    """y = fftn(x) (ifftn with ``inverse``) over ``dims``, normalized by ``norm``."""
    supports_complex = True

    @staticmethod
    def forward(ctx, x, dims, norm, inverse):
        ctx.dims, ctx.norm, ctx.inverse = dims, norm, inverse
        fft = get_array_module(x).fft
        y = (fft.ifftn if inverse else fft.fftn)(x, axes=dims, norm=norm)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        return C2C.apply(grad_y, ctx.dims, DUAL_NORM[ctx.norm], not ctx.inverse), None, None, None


class R2C(ArrayFunction):
    """y = rfftn(x) over ``dims`` (x real; the last of ``dims`` is halved to n//2 + 1)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, x, dims, norm):
        ctx.dims, ctx.norm, ctx.n = dims, norm, x.shape[dims[-1]]
        y = get_array_module(x).fft.rfftn(x, axes=dims, norm=norm)
        return y.astype(dtypes.to_complex(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        full = Resize.apply(grad_y, (ctx.dims[-1],), (ctx.n,))
        return real(C2C.apply(full, ctx.dims, DUAL_NORM[ctx.norm], True)), None, None


class C2R(ArrayFunction):
    """y = irfftn(x) over ``dims``, with ``n`` outputs on the last of them (x has n//2 + 1)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, x, dims, norm, n):
        ctx.dims, ctx.norm, ctx.n = dims, norm, n
        sizes = [x.shape[d] for d in dims[:-1]] + [n]
        y = get_array_module(x).fft.irfftn(x, s=sizes, axes=dims, norm=norm)
        return y.astype(dtypes.to_real(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        xp = get_array_module(grad_y.array)
        last, n = ctx.dims[-1], ctx.n
        weights = xp.full(n // 2 + 1, 2.0, grad_y.dtype)
        weights[0] = 1.0
        if n % 2 == 0:
            weights[-1] = 1.0
        weights = weights.reshape((-1,) + (1,) * (grad_y.ndim - 1 - last))
        grad = R2C.apply(grad_y, ctx.dims, DUAL_NORM[ctx.norm]) * Tensor(weights)
        return grad, None, None, None
