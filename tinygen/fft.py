"""``tg.fft``: discrete Fourier transforms with PyTorch's signatures, dtypes and gradients.

Every transform takes ``n`` (1-D) or ``s`` (2-D, n-D): the input is cropped or zero-padded to
that length along each transformed dim first; ``dim``; and ``norm``: "backward" (the default:
no scaling forward, 1/n on the inverse), "ortho" (1/sqrt(n) both ways) or "forward" (1/n
forward). float32 (or integer) input gives complex64, float64 complex128, as in PyTorch (NumPy's
fft would give complex128). The ops and their adjoints are in fft_ops.py.
"""

from tinygen import creation, dtypes
from tinygen.autograd.function import note_complex
from tinygen.fft_ops import C2C, C2R, DUAL_NORM, R2C, Resize
from tinygen.ops.complex_ops import conj
from tinygen.ops.convert import cast
from tinygen.ops.layout import roll
from tinygen.ops.shape import normalize_dim

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftshift",
           "ifftshift", "fftfreq", "rfftfreq"]


def _norm(norm):
    norm = "backward" if norm is None else norm
    if norm not in DUAL_NORM:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _floating(x):
    """Integer and bool inputs as the default float dtype (as PyTorch)."""
    return x if x.dtype.kind in "fc" else cast(x, dtypes.get_default_dtype())


def _as_complex(x):
    x = _floating(x)
    if x.dtype.kind == "c":
        return x
    note_complex()
    return cast(x, dtypes.to_complex(x.dtype))


def _dims_and_sizes(name, x, s, dim):
    """The transformed axes (in the given order) and their sizes after ``s`` (-1: unchanged)."""
    if dim is None:
        dims = range(x.ndim) if s is None else range(x.ndim - len(s), x.ndim)
    else:
        dims = (dim,) if isinstance(dim, int) else dim
    dims = tuple(normalize_dim(d, x.ndim, name) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{name}: dims must be unique, got {tuple(dims)}")
    if s is None:
        return dims, tuple(x.shape[d] for d in dims)
    s = (s,) if isinstance(s, int) else tuple(s)
    if len(s) != len(dims):
        raise RuntimeError(f"{name}: when given, dim and shape arguments must have the same "
                           f"length, got s={s} for dims {dims}")
    sizes = tuple(x.shape[d] if n == -1 else n for d, n in zip(dims, s))
    if any(n < 1 for n in sizes):
        raise RuntimeError(f"{name}: invalid number of data points ({min(sizes)}) specified")
    return dims, sizes


def _resized(x, dims, sizes):
    if all(x.shape[d] == n for d, n in zip(dims, sizes)):
        return x
    return Resize.apply(x, dims, sizes)


def _c2c(name, x, s, dim, norm, inverse):
    x = _as_complex(x)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    return C2C.apply(_resized(x, dims, sizes), dims, _norm(norm), inverse)


def _r2c(name, x, s, dim, norm):
    x = _floating(x)
    if x.dtype.kind == "c":
        raise RuntimeError(f"{name} expects a real input tensor, but got {x.dtype}")
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    note_complex()
    return R2C.apply(_resized(x, dims, sizes), dims, _norm(norm))


def _c2r(name, x, s, dim, norm):
    x = _as_complex(x)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    n = sizes[-1] if s is not None and s[-1] != -1 else 2 * (x.shape[dims[-1]] - 1)
    if n < 1:
        raise RuntimeError(f"{name}: invalid number of data points ({n}) specified")
    half = sizes[:-1] + (n // 2 + 1,)
    return C2R.apply(_resized(x, dims, half), dims, _norm(norm), n)


def _one(n):
    return None if n is None else (n,)


def fft(input, n=None, dim=-1, norm=None):
    """The 1-D discrete Fourier transform along ``dim``."""
    return _c2c("fft", input, _one(n), (dim,), norm, False)


def ifft(input, n=None, dim=-1, norm=None):
    """The inverse of ``fft``."""
    return _c2c("ifft", input, _one(n), (dim,), norm, True)


def rfft(input, n=None, dim=-1, norm=None):
    """The transform of a real input: the n//2 + 1 non-redundant outputs."""
    return _r2c("rfft", input, _one(n), (dim,), norm)


def irfft(input, n=None, dim=-1, norm=None):
    """The inverse of ``rfft``: a real output of length ``n`` (default 2 * (m - 1))."""
    return _c2r("irfft", input, _one(n), (dim,), norm)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c("fft2", input, s, dim, norm, False)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2c("ifft2", input, s, dim, norm, True)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    return _r2c("rfft2", input, s, dim, norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    return _c2r("irfft2", input, s, dim, norm)


def fftn(input, s=None, dim=None, norm=None):
    """The n-D transform over ``dim`` (default: the last len(s) dims, or all)."""
    return _c2c("fftn", input, s, dim, norm, False)


def ifftn(input, s=None, dim=None, norm=None):
    return _c2c("ifftn", input, s, dim, norm, True)


def rfftn(input, s=None, dim=None, norm=None):
    """The n-D transform of a real input, halved along the last of ``dim``."""
    return _r2c("rfftn", input, s, dim, norm)


def irfftn(input, s=None, dim=None, norm=None):
    return _c2r("irfftn", input, s, dim, norm)


def hfft(input, n=None, dim=-1, norm=None):
    """The transform of a Hermitian-symmetric signal given by its first half: a real output
    (irfft of the conjugate, with the opposite normalization)."""
    return irfft(conj(_as_complex(input)), n, dim, DUAL_NORM[_norm(norm)])


def ihfft(input, n=None, dim=-1, norm=None):
    """The inverse of ``hfft``: the conjugate of rfft, with the opposite normalization."""
    return conj(rfft(input, n, dim, DUAL_NORM[_norm(norm)]))


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    return hfftn(input, s, dim, norm)


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    return ihfftn(input, s, dim, norm)


def hfftn(input, s=None, dim=None, norm=None):
    """The n-D ``hfft``: a forward transform over ``dim`` of a signal Hermitian-symmetric along
    the last of them, given by its first half (irfftn of the conjugate, dual normalization)."""
    return irfftn(conj(_as_complex(input)), s, dim, DUAL_NORM[_norm(norm)])


def ihfftn(input, s=None, dim=None, norm=None):
    """The inverse of ``hfftn`` for a real input: the conjugate of rfftn, dual normalization."""
    return conj(rfftn(input, s, dim, DUAL_NORM[_norm(norm)]))


def _shift(input, dim, sign):
    dims = range(input.ndim) if dim is None else (dim,) if isinstance(dim, int) else dim
    dims = tuple(normalize_dim(d, input.ndim, "fftshift") for d in dims)
    shifts = tuple(sign * (input.shape[d] // 2) for d in dims)
    return roll(input, shifts, dims) if dims else input


def fftshift(input, dim=None):
    """The zero frequency moved to the centre of ``dim`` (all dims by default)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of ``fftshift``."""
    return _shift(input, dim, -1)


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of ``fft`` for n points spaced ``d`` apart:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d n)."""
    values = [(k if k < (n + 1) // 2 else k - n) / (d * n) for k in range(n)]
    return creation.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of ``rfft``: [0, 1, ..., n // 2] / (d n)."""
    values = [k / (d * n) for k in range(n // 2 + 1)]
    return creation.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)
