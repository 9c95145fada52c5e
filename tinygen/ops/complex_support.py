"""The ops whose backward is right for complex inputs, in PyTorch's convention
(ops/complex_ops.py).

``Function.apply`` refuses to record any other op on a complex input (NotImplementedError), so
a missing conjugate can never give a silently wrong gradient. An op listed here has been
checked with gradcheck on complex128 inputs (tests/ops/test_complex.py, test_fft.py).
"""

from tinygen.ops import (
    complex_ops as _complex, convert, elementwise, indexing, linalg, reduce, shape)

SUPPORTED = (
    elementwise.Add, elementwise.Sub, elementwise.Neg, elementwise.Mul, elementwise.Div,
    elementwise.Pow, elementwise.Exp, elementwise.Log, elementwise.Abs,
    linalg.MatMul, reduce.Sum,
    shape.Reshape, shape.View, shape.Permute, shape.Expand, shape.SumTo, shape.Cat, shape.Split,
    shape.Unbind, indexing.GetItem, indexing.BasicGetItem, indexing.IndexAdd,
    convert.Cast, convert.Clone, convert.ToDevice,
    _complex.Real, _complex.Imag, _complex.Complex, _complex.Conj, _complex.Angle,
    _complex.ViewAsReal, _complex.ViewAsComplex,
)

for _op in SUPPORTED:
    _op.supports_complex = True

from tinygen.ops import special  # noqa: E402  (complex128 gradchecks in tests/ops/test_complex.py)

for _op in (elementwise.Sigmoid, special.LogAddExp):
    _op.supports_complex = True

from tinygen.ops import index_ops, pad  # noqa: E402  (linear ops used by stft/istft)

for _op in (index_ops.Unfold, pad.ConstantPad):
    _op.supports_complex = True

from tinygen.ops import (  # noqa: E402  (linalg: complex128 gradchecks in tests/ops/test_linalg_*)
    layout, linalg_decompose, linalg_eig, linalg_inverse)

for _op in (layout.Triangle, linalg_inverse.Inv, linalg_inverse.Det, linalg_inverse.Solve,
            linalg_inverse.SolveTriangular, linalg_decompose.Cholesky, linalg_decompose.QR,
            linalg_decompose.Eigh, linalg_decompose.SVD, linalg_eig.Eig):
    _op.supports_complex = True
