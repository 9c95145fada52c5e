"""Complex input to inv, det, solve, the matmul family, cholesky, qr, svd/svdvals, eigh and the
norms: values against NumPy, complex128 gradcheck and gradgradcheck (PyTorch's convention),
gradients against torch, PyTorch's phase checks, and the refusal of ops not made complex-safe."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


def _c(rng, *shape):
    return tg.tensor(rng.standard_normal(shape) + 1j * rng.standard_normal(shape),
                     requires_grad=True)


def _hpd(a):
    """A Hermitian positive-definite matrix from any square a."""
    return a @ a.mH + 3 * tg.eye(a.shape[-1], dtype=a.dtype)


def _phase_free_svd(U, S, Vh):
    return S, U @ Vh, U.abs()


CASES = {   # name: (function, input shapes)
    "inv": (tg.linalg.inv, [(2, 3, 3)]),
    "det": (tg.linalg.det, [(3, 3)]),
    "solve": (tg.linalg.solve, [(3, 3), (3, 2)]),
    "solve_vector": (tg.linalg.solve, [(3, 3), (3,)]),
    "solve_right": (lambda a, b: tg.linalg.solve(a, b, left=False), [(3, 3), (2, 3)]),
    "matmul": (tg.matmul, [(2, 3), (3,)]),
    "bmm": (tg.bmm, [(2, 2, 3), (2, 3, 2)]),
    "cholesky": (lambda a: tg.linalg.cholesky(_hpd(a)), [(3, 3)]),
    "cholesky_upper": (lambda a: tg.linalg.cholesky(_hpd(a), upper=True), [(3, 3)]),
    "qr_tall": (tg.linalg.qr, [(4, 3)]),
    "qr_wide": (tg.linalg.qr, [(2, 3)]),
    "svd_tall": (lambda a: _phase_free_svd(*tg.linalg.svd(a, full_matrices=False)), [(4, 3)]),
    "svd_wide": (lambda a: _phase_free_svd(*tg.linalg.svd(a, full_matrices=False)), [(2, 3)]),
    "svdvals": (tg.linalg.svdvals, [(3, 4)]),
    "eigh": (lambda a: (lambda L, V: (L, V.abs()))(*tg.linalg.eigh(_hpd(a))), [(3, 3)]),
    "eigvalsh_upper": (lambda a: tg.linalg.eigvalsh(_hpd(a), UPLO="U"), [(3, 3)]),
    "vector_norm": (lambda a: tg.linalg.vector_norm(a, 3, dim=-1), [(2, 3)]),
    "norm_fro": (tg.linalg.norm, [(2, 3)]),
    "matrix_norm_nuc": (lambda a: tg.linalg.matrix_norm(a, "nuc"), [(3, 3)]),
    "matrix_norm_2": (lambda a: tg.linalg.matrix_norm(a, 2), [(3, 2)]),
    "matrix_norm_inf": (lambda a: tg.linalg.matrix_norm(a, float("inf")), [(3, 2)]),
    "slogdet": (tg.linalg.slogdet, [(3, 3)]),
    "logdet": (tg.logdet, [(3, 3)]),
    "matrix_exp": (tg.linalg.matrix_exp, [(3, 3)]),
    "lu_factor": (lambda a: tg.linalg.lu_factor(a).LU, [(3, 3)]),
    "lu_wide": (lambda a: tg.linalg.lu(a)[1:], [(2, 3)]),
    "lu_tall": (lambda a: tg.linalg.lu(a)[1:], [(3, 2)]),
    "lu_solve_adjoint": (lambda a, b: tg.linalg.lu_solve(*tg.linalg.lu_factor(a), b,
                                                         adjoint=True), [(3, 3), (3, 2)]),
    "lu_solve_right": (lambda a, b: tg.linalg.lu_solve(*tg.linalg.lu_factor(a), b,
                                                       left=False), [(3, 3), (2, 3)]),
    "pinv": (tg.linalg.pinv, [(3, 2)]),
    "vecdot": (tg.linalg.vecdot, [(2, 3), (2, 3)]),
    "cholesky_solve": (lambda b, a: tg.cholesky_solve(b, tg.linalg.cholesky(_hpd(a))),
                       [(3, 2), (3, 3)]),
    "cholesky_inverse_upper": (lambda a: tg.cholesky_inverse(
        tg.linalg.cholesky(_hpd(a), upper=True), upper=True), [(3, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_complex_gradients(rng, name):
    f, shapes = CASES[name]
    inputs = [_c(rng, *s) for s in shapes]
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_complex_values(rng):
    a = _c(rng, 2, 3, 3)
    b = _c(rng, 2, 3, 2)
    x = host(a)
    np.testing.assert_allclose(host(tg.linalg.inv(a)), np.linalg.inv(x), rtol=1e-10)
    np.testing.assert_allclose(host(tg.linalg.det(a)), np.linalg.det(x), rtol=1e-10)
    np.testing.assert_allclose(host(tg.linalg.solve(a, b)), np.linalg.solve(x, host(b)),
                               rtol=1e-10)
    h = _hpd(a)
    L = tg.linalg.cholesky(h)
    np.testing.assert_allclose(host(L), np.linalg.cholesky(host(h)), rtol=1e-10)
    np.testing.assert_allclose(host(tg.linalg.cholesky(h, upper=True)),
                               np.swapaxes(host(L), -1, -2).conj(), rtol=1e-10)
    Q, R = tg.linalg.qr(a)
    np.testing.assert_allclose(host(Q @ R), x, atol=1e-12)
    S = tg.linalg.svdvals(a)
    assert S.dtype == tg.float64
    np.testing.assert_allclose(host(S), np.linalg.svd(x, compute_uv=False), rtol=1e-10)
    w, V = tg.linalg.eigh(h)
    assert w.dtype == tg.float64 and V.dtype == tg.complex128
    np.testing.assert_allclose(host(w), np.linalg.eigvalsh(host(h)), rtol=1e-10)
    n = tg.linalg.vector_norm(a)
    assert n.dtype == tg.float64
    np.testing.assert_allclose(host(n), np.linalg.norm(x.reshape(-1)), rtol=1e-12)
    np.testing.assert_allclose(host(tg.linalg.matrix_norm(a, "nuc")),
                               np.linalg.norm(x, "nuc", axis=(-2, -1)), rtol=1e-10)


def test_complex_against_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    b = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    losses = [
        lambda m, x: m.linalg.det(x[0]).abs(),
        lambda m, x: m.linalg.inv(x[0]).abs().sum(),
        lambda m, x: (m.linalg.solve(x[0], x[1]) ** 2).real.sum(),
        lambda m, x: m.linalg.cholesky(_hpd_any(m, x[0])).imag.sum(),
        lambda m, x: sum(f.abs().sum() for f in m.linalg.qr(x[0])),
        lambda m, x: (lambda U, S, Vh: S.sum() + (U @ Vh).real.sum())(*m.linalg.svd(x[0])),
        lambda m, x: (lambda w, V: w.sum() + V.abs().sum())(*m.linalg.eigh(_hpd_any(m, x[0]))),
        lambda m, x: m.linalg.matrix_norm(x[0], 2),
    ]
    for loss in losses:
        ours = [tg.tensor(v, requires_grad=True) for v in (a, b)]
        theirs = [torch.tensor(v, requires_grad=True) for v in (a, b)]
        y, ty = loss(tg, ours), loss(torch, theirs)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10)
        y.backward()
        ty.backward()
        np.testing.assert_allclose(host(ours[0].grad), theirs[0].grad.numpy(), rtol=1e-7,
                                   atol=1e-10)


def _hpd_any(m, a):
    """_hpd for tinygen (m = tg) or torch (m = torch) tensors."""
    return a @ a.mH + 3 * m.eye(a.shape[-1], dtype=a.dtype)


def test_phase_dependent_losses_raise(rng):
    a = _c(rng, 3, 3)
    _, V = tg.linalg.eigh(_hpd(a))
    with pytest.raises(RuntimeError, match="linalg_eigh_backward: The eigenvectors"):
        (V[0, 0].real + V[0, 0].imag).backward()
    U, _, _ = tg.linalg.svd(a)
    with pytest.raises(RuntimeError, match="svd_backward: The singular vectors"):
        (U[0, 0].real + U[0, 0].imag).backward()


def test_complex_values_of_lu_slogdet_expm_pinv(rng):
    """Complex values, not their real parts: matrix_exp kept the imaginary part, slogdet's
    logabsdet is real, logdet is log(sign) + logabsdet, pinv and vecdot conjugate."""
    a = _c(rng, 3, 3)
    b = host(a)
    sign, logabs = tg.linalg.slogdet(a)
    assert logabs.dtype == tg.float64
    np.testing.assert_allclose(host(sign) * np.exp(host(logabs)), np.linalg.det(b), rtol=1e-10)
    np.testing.assert_allclose(host(tg.logdet(a)), np.log(np.linalg.det(b)), rtol=1e-10)
    w, V = np.linalg.eig(b)
    np.testing.assert_allclose(host(tg.linalg.matrix_exp(a)),
                               (V * np.exp(w)) @ np.linalg.inv(V), rtol=1e-10)
    np.testing.assert_allclose(host(tg.linalg.pinv(a)), np.linalg.pinv(b), rtol=1e-10)
    np.testing.assert_allclose(host(tg.linalg.vecdot(a, a)), (b.conj() * b).sum(-1))
    P, L, U = tg.linalg.lu(a)
    np.testing.assert_allclose(host(P @ L @ U), b, rtol=1e-12)
    rhs = tg.tensor(b[:, :2])
    x = tg.linalg.lu_solve(*tg.linalg.lu_factor(a), rhs, adjoint=True)
    np.testing.assert_allclose(b.conj().T @ host(x), b[:, :2], atol=1e-12)
    spd = _hpd(a)
    np.testing.assert_allclose(host(tg.cholesky_inverse(tg.linalg.cholesky(spd))),
                               np.linalg.inv(host(spd)), rtol=1e-10)
