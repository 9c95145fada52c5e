"""linalg.inv, det, slogdet, solve, solve_triangular, matrix_power and the *_ex forms: values
against NumPy (and PyTorch when installed), gradients to second order, LinAlgError wording."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


def _mat(rng, *shape, device="cpu", requires_grad=True):
    """Well-conditioned float64 matrices: random plus a multiple of I."""
    a = rng.standard_normal(shape) + 3 * np.eye(shape[-1], shape[-2]).T
    return tg.tensor(a, dtype=tg.float64, device=device, requires_grad=requires_grad)


def test_inv_det_slogdet_values(rng, device):
    A = _mat(rng, 2, 3, 3, device=device)
    a = host(A)
    np.testing.assert_allclose(host(tg.linalg.inv(A)), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(host(tg.linalg.det(A)), np.linalg.det(a), rtol=1e-10)
    sign, logabsdet = tg.linalg.slogdet(-A)
    ref_sign, ref_log = np.linalg.slogdet(-a)
    np.testing.assert_allclose(host(sign), ref_sign)
    np.testing.assert_allclose(host(logabsdet), ref_log, rtol=1e-10)
    assert sign.requires_grad and logabsdet.requires_grad    # as torch (zero grad)


@pytest.mark.parametrize("fn", [tg.linalg.inv, tg.linalg.det,
                                lambda a: tg.linalg.slogdet(a).logabsdet,
                                lambda a: tg.linalg.matrix_power(a, 3),
                                lambda a: tg.linalg.matrix_power(a, -2)])
def test_inverse_family_grads(rng, device, fn):
    A = _mat(rng, 2, 3, 3, device=device)
    assert gradcheck(fn, (A,))
    assert gradgradcheck(fn, (A,))


def test_det_grad_at_singular_matrix():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]])     # rank 2
    A = tg.tensor(a, requires_grad=True)
    tg.linalg.det(A).backward()
    cofactors = np.array([[np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j)
                           for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(host(A.grad), cofactors, atol=1e-12)    # adj(A)^T


def test_solve_values_and_grads(rng, device):
    A = _mat(rng, 2, 3, 3, device=device)
    B = tg.tensor(rng.standard_normal((2, 3, 2)), device=device, requires_grad=True)
    np.testing.assert_allclose(host(tg.linalg.solve(A, B)),
                               np.linalg.solve(host(A), host(B)), rtol=1e-10)
    assert gradcheck(tg.linalg.solve, (A, B))
    assert gradgradcheck(tg.linalg.solve, (A, B))
    C = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True, device=device)
    right = lambda a, c: tg.linalg.solve(a, c, left=False)     # noqa: E731
    np.testing.assert_allclose(host(right(A, C) @ A), np.broadcast_to(host(C), (2, 4, 3)),
                               atol=1e-10)
    assert gradcheck(right, (A, C))


def test_solve_vector_rhs_and_broadcast(rng):
    A = _mat(rng, 2, 3, 3)
    b = tg.tensor(rng.standard_normal((2, 3)), requires_grad=True)   # a batch of vectors
    x = tg.linalg.solve(A, b)
    assert x.shape == (2, 3)
    np.testing.assert_allclose(host(x), np.linalg.solve(host(A), host(b)[..., None])[..., 0])
    B = tg.tensor(rng.standard_normal((4, 1, 3, 2)), requires_grad=True)
    assert tg.linalg.solve(A, B).shape == (4, 2, 3, 2)
    assert gradcheck(tg.linalg.solve, (A, B))             # batch dims summed back
    assert gradgradcheck(tg.linalg.solve, (A[0], B))
    x32 = tg.linalg.solve(A.float(), B.float())
    assert x32.dtype == tg.float32
    np.testing.assert_allclose(host(x32), host(tg.linalg.solve(A, B)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("upper,left,unit", [(True, True, False), (False, True, True),
                                             (False, False, False)])
def test_solve_triangular(rng, upper, left, unit):
    A = _mat(rng, 2, 3, 3)
    B = tg.tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)
    X = tg.linalg.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
    T = np.triu(host(A)) if upper else np.tril(host(A))
    if unit:
        T = T * (1 - np.eye(3)) + np.eye(3)
    ref = np.linalg.solve(T, host(B)) if left else np.linalg.solve(
        np.swapaxes(T, -1, -2), np.swapaxes(host(B), -1, -2)).swapaxes(-1, -2)
    np.testing.assert_allclose(host(X), ref, rtol=1e-9, atol=1e-12)
    f = lambda a, b: tg.linalg.solve_triangular(                 # noqa: E731
        a, b, upper=upper, left=left, unitriangular=unit)
    assert gradcheck(f, (A, B))
    assert gradgradcheck(f, (A, B))


def test_matrix_power_values(rng):
    A = _mat(rng, 3, 3, requires_grad=False)
    a = host(A)
    for n in (0, 1, 2, 5, -1, -3):
        np.testing.assert_allclose(host(tg.linalg.matrix_power(A, n)),
                                   np.linalg.matrix_power(a, n), rtol=1e-9, atol=1e-12)


def test_singular_inputs_raise_linalg_error():
    A = tg.tensor([[1.0, 2.0], [2.0, 4.0]])
    assert issubclass(tg.linalg.LinAlgError, RuntimeError)
    with pytest.raises(tg.linalg.LinAlgError, match="diagonal element 2 is zero"):
        tg.linalg.inv(A)
    with pytest.raises(tg.linalg.LinAlgError, match="Batch element 1"):
        tg.linalg.inv(tg.stack([tg.eye(2), A]))
    with pytest.raises(tg.linalg.LinAlgError, match="input matrix is singular"):
        tg.linalg.solve(A, tg.ones(2))
    inverse, info = tg.linalg.inv_ex(tg.stack([tg.eye(2), A]))
    assert host(info).tolist() == [0, 2]
    assert np.isnan(host(inverse)[1]).all() and np.allclose(host(inverse)[0], np.eye(2))
    result, info = tg.linalg.solve_ex(A, tg.ones(2, 1))
    assert int(host(info)) == 2


def test_bad_inputs():
    with pytest.raises(RuntimeError, match="batches of square matrices"):
        tg.linalg.inv(tg.ones(2, 3))
    with pytest.raises(RuntimeError, match="floating point"):
        tg.linalg.det(tg.ones(2, 2, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="same dtype"):
        tg.linalg.solve(tg.eye(2), tg.ones(2, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        tg.linalg.solve(tg.eye(2), tg.ones(3, 2))


def test_logdet_and_float32(rng):
    A = _mat(rng, 3, 3, requires_grad=False)
    np.testing.assert_allclose(host(tg.logdet(A)), np.log(np.linalg.det(host(A))), rtol=1e-10)
    assert np.isnan(host(tg.logdet(-tg.eye(3, dtype=tg.float64))))
    A32 = A.float()
    assert tg.linalg.inv(A32).dtype == tg.float32
    assert tg.linalg.det(A32).dtype == tg.float32
    assert tg.linalg.slogdet(A32).logabsdet.dtype == tg.float32


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((2, 3, 3)) + 2 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    g = rng.standard_normal((2, 3, 3))
    for name in ("inv", "det"):
        A = tg.tensor(a, requires_grad=True)
        TA = torch.tensor(a, requires_grad=True)
        y, ty = getattr(tg.linalg, name)(A), getattr(torch.linalg, name)(TA)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10)
        gy = g if name == "inv" else g[..., 0, 0]
        y.backward(tg.tensor(gy))
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(host(A.grad), TA.grad.numpy(), rtol=1e-9)
    X = tg.linalg.solve_triangular(tg.tensor(a), tg.tensor(b), upper=True)
    TX = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    np.testing.assert_allclose(host(X), TX.numpy(), rtol=1e-10)


def test_logdet_of_negative_determinant_has_zero_gradient():
    """logdet is nan where det < 0, and (as PyTorch) its gradient there is 0, not A^-T."""
    A = tg.tensor(np.diag([-1.0, 2.0]), requires_grad=True)
    y = tg.logdet(A)
    y.backward()
    assert np.isnan(host(y))
    np.testing.assert_array_equal(host(A.grad), np.zeros((2, 2)))
    B = tg.tensor(np.diag([1.0, 2.0]), requires_grad=True)     # positive det: A^-T
    tg.logdet(B).backward()
    np.testing.assert_allclose(host(B.grad), np.diag([1.0, 0.5]))
    assert gradcheck(tg.logdet, (tg.tensor(np.diag([3.0, 2.0]) + 0.1, requires_grad=True),))
