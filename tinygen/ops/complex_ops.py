"""Complex tensors: real, imag, angle, conj, polar, complex, view_as_real, view_as_complex.

Gradients follow PyTorch's convention ("Autograd for Complex Numbers"): for a real loss L, the
gradient of z = x + iy is dL/dx + i dL/dy, so a holomorphic f(z) passes back
grad_in = grad_out * conj(f'(z)), and an op from complex to real (abs, angle, real) passes back
the complex number whose parts are the derivatives in x and y.

``x.real`` and ``x.imag`` are views that can be written, as in PyTorch. ``conj`` copies (PyTorch
sets a lazy bit instead), so ``is_conj()`` is always False and ``resolve_conj`` is the identity.
"""

import numpy as np

from tinygen import dtypes
from tinygen.autograd import function
from tinygen.autograd.function import ArrayFunction, note_complex
from tinygen.backend import get_array_module
from tinygen.ops.convert import cast
from tinygen.ops.out_param import accepts_out
from tinygen.tensor import Tensor


def _complex_input(name, x):
    if x.dtype.kind != "c":
        raise RuntimeError(f"{name}: expected a complex tensor, got {x.dtype}")


class Real(ArrayFunction):
    """y = Re(z), a view;  grad_z = grad_y + 0i."""
    is_view = supports_complex = True

    @staticmethod
    def forward(ctx, z):
        return z.real

    @staticmethod
    def backward(ctx, grad_y):
        return complex(grad_y, zeros_like_real(grad_y))


class Imag(ArrayFunction):
    """y = Im(z), a view;  grad_z = 0 + i grad_y."""
    is_view = supports_complex = True

    @staticmethod
    def forward(ctx, z):
        return z.imag

    @staticmethod
    def backward(ctx, grad_y):
        return complex(zeros_like_real(grad_y), grad_y)


class Complex(ArrayFunction):
    """z = a + ib;  grad_a = Re(grad_z), grad_b = Im(grad_z)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a)
        z = xp.empty(np.broadcast_shapes(a.shape, b.shape), dtypes.to_complex(a.dtype))
        z.real, z.imag = a, b
        return z

    @staticmethod
    def backward(ctx, grad_z):
        return (real(grad_z) if ctx.needs_input_grad[0] else None,
                imag(grad_z) if ctx.needs_input_grad[1] else None)


class Conj(ArrayFunction):
    """y = conj(z) (a copy);  grad_z = conj(grad_y)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, z):
        return get_array_module(z).conj(z)

    @staticmethod
    def backward(ctx, grad_y):
        return conj(grad_y)


class ViewAsReal(ArrayFunction):
    """(...) complex -> (..., 2) real parts and imaginary parts, sharing memory."""
    is_view = supports_complex = True

    @staticmethod
    def forward(ctx, z):
        if z.ndim and z.strides[-1] != z.itemsize:
            raise RuntimeError("view_as_real: tensor must have a last dimension with stride 1")
        vector = z.reshape(z.shape or (1,))     # NumPy changes no 0-d array's itemsize
        return vector.view(dtypes.to_real(z.dtype)).reshape(z.shape + (2,))

    @staticmethod
    def backward(ctx, grad_y):
        return view_as_complex(grad_y.contiguous())


class ViewAsComplex(ArrayFunction):
    """(..., 2) real -> (...) complex, sharing memory."""
    is_view = supports_complex = True

    @staticmethod
    def forward(ctx, x):
        if x.ndim == 0 or x.shape[-1] != 2:
            raise RuntimeError(f"view_as_complex: Tensor must have a last dimension of size 2, "
                               f"got shape {tuple(x.shape)}")
        if x.strides[-1] != x.itemsize or any(
                s % (2 * x.itemsize) for s, n in zip(x.strides[:-1], x.shape[:-1]) if n > 1):
            raise RuntimeError("view_as_complex: Tensor must have a last dimension with stride "
                               "1 and all other strides divisible by 2")
        return x.view(dtypes.to_complex(x.dtype))[..., 0]

    @staticmethod
    def backward(ctx, grad_z):
        return view_as_real(grad_z.contiguous())


def zeros_like_real(x):
    return Tensor(get_array_module(x.array).zeros(x.shape, x.dtype))


def real(input):
    """The real parts (a writable view); a real tensor is returned as it is."""
    return Real.apply(input) if input.dtype.kind == "c" else input


def imag(input):
    """The imaginary parts (a writable view); real tensors have none (an error, as PyTorch)."""
    if input.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


@accepts_out(overlap_ok=True)
def complex(real, imag):
    """real + i imag; both float tensors of one dtype (float32 -> complex64)."""
    if real.dtype.kind != "f" or imag.dtype != real.dtype:
        raise RuntimeError(f"complex: expected both inputs to be Half, Float or Double tensors "
                           f"of the same dtype, but got {real.dtype} and {imag.dtype}")
    note_complex()
    return Complex.apply(real, imag)


def polar(abs, angle):
    """abs * (cos(angle) + i sin(angle))."""
    if abs.dtype.kind != "f" or angle.dtype != abs.dtype:
        raise RuntimeError(f"polar: expected both inputs to be Float or Double tensors of the "
                           f"same dtype, but got {abs.dtype} and {angle.dtype}")
    return complex(abs * angle.cos(), abs * angle.sin())


def conj(input):
    """The complex conjugate (a copy in tinygen); a real tensor is returned as it is."""
    if not function._complex_seen:          # no complex tensor yet: backward formulas' fast path
        return input
    if type(input) is Tensor:               # first: backward formulas call this on real data
        return Conj.apply(input) if input.array.dtype.kind == "c" else input
    if not isinstance(input, Tensor):
        return input.conjugate()            # a Python number (an op's saved operand)
    return Conj.apply(input) if input.dtype.kind == "c" else input


def conj_physical(input):
    return conj(input)


def resolve_conj(input):
    return input


def is_conj(input):
    return False


def angle(input):
    """The argument of each element, in (-pi, pi]: atan2(imag, real) for complex input (a real
    tensor: pi where negative, else 0, with gradient 0, as PyTorch's)."""
    if input.dtype.kind != "c":
        x = input if input.dtype.kind == "f" else cast(input, dtypes.get_default_dtype())
        xp = get_array_module(x.array)
        sign = Tensor(xp.where(x.array < 0, xp.pi, 0.0).astype(x.dtype))
        from tinygen.ops.compare import where
        return where(Tensor(xp.isnan(x.array)), x, sign)
    return Angle.apply(input)


class Angle(ArrayFunction):
    """y = atan2(Im z, Re z);  grad_z = grad_y * i z / |z|^2 (0 at z = 0, as PyTorch)."""
    supports_complex = True

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return get_array_module(z).angle(z)

    @staticmethod
    def backward(ctx, grad_y):
        (z,) = ctx.saved_tensors
        size2 = z.abs() ** 2
        return grad_y * (z * 1j) / (size2 + (size2 == 0))


def view_as_real(input):
    """A complex tensor as (..., 2) real and imaginary parts, sharing memory."""
    _complex_input("view_as_real", input)
    return ViewAsReal.apply(input)


def view_as_complex(input):
    """A (..., 2) float32/float64 tensor as complex64/complex128, sharing memory."""
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {input.dtype}")
    note_complex()
    return ViewAsComplex.apply(input)


def _conj_transpose(self):
    return conj(self.mT) if self.ndim >= 2 else _raise_mh(self)


def _raise_mh(self):
    raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                       f"{self.ndim}-D tensor.")


def _h(self):
    if self.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor.")
    return conj(self.transpose(0, 1)) if self.ndim == 2 else conj(self)


def install(cls):
    """The complex methods and properties of Tensor (replacing tensor_extras's real-only ones)."""
    cls.real, cls.imag = property(real), property(imag)
    cls.conj = cls.conj_physical = conj
    cls.angle = angle
    cls.H, cls.mH = property(_h), property(_conj_transpose)
    cls.adjoint = _conj_transpose
