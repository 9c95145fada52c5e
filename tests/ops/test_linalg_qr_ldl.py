"""geqrf, linalg.householder_product (orgqr), ormqr and the LDL factorization: values against
NumPy's QR and the definitions, gradients (to second order) of the Householder products,
LAPACK-exact factors and pivots against torch, and the errors."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def _c(rng, *shape):
    return tg.tensor(rng.standard_normal(shape) + 1j * rng.standard_normal(shape),
                     requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_geqrf_and_householder_product_make_qr(rng, dtype):
    a = rng.standard_normal((2, 5, 3)).astype(dtype)
    if dtype == np.complex128:
        a = a + 1j * rng.standard_normal(a.shape)
    A = tg.tensor(a)
    h, tau = tg.geqrf(A)
    assert tau.shape == (2, 3)
    Q = tg.linalg.householder_product(h, tau)
    R = np.triu(host(h))[..., :3, :]
    np.testing.assert_allclose(host(Q) @ R, a, atol=1e-12)           # A = Q R
    np.testing.assert_allclose(np.swapaxes(host(Q), -1, -2).conj() @ host(Q), np.eye(3)[None]
                               .repeat(2, 0), atol=1e-12)
    np.testing.assert_allclose(np.abs(R), np.abs(np.linalg.qr(a)[1]), atol=1e-12)
    assert host(tg.orgqr(h, tau)) == pytest.approx(host(Q)) and h.orgqr(tau).shape == Q.shape
    # ormqr: Q C, Q^H C, C Q, C Q^H against the explicit full Q
    Qf = host(tg.linalg.householder_product(tg.cat([h, tg.zeros(2, 5, 2, dtype=h.dtype)], -1),
                                            tau))
    Qh = np.swapaxes(Qf, -1, -2).conj()
    C, D = rng.standard_normal((2, 5, 2)).astype(dtype), rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(host(tg.ormqr(h, tau, tg.tensor(C))), Qf @ C, atol=1e-12)
    np.testing.assert_allclose(host(h.ormqr(tau, tg.tensor(C), transpose=True)), Qh @ C,
                               atol=1e-12)
    D = D.astype(dtype)
    np.testing.assert_allclose(host(tg.ormqr(h, tau, tg.tensor(D), left=False)), D @ Qf,
                               atol=1e-12)
    np.testing.assert_allclose(host(tg.ormqr(h, tau, tg.tensor(D), False, True)), D @ Qh,
                               atol=1e-12)


def test_householder_gradients(rng):
    A, tau, C = leaf64(rng, 4, 3), leaf64(rng, 2), leaf64(rng, 4, 2)
    assert gradcheck(tg.linalg.householder_product, (A, tau))
    assert gradgradcheck(tg.linalg.householder_product, (A, tau))
    assert gradcheck(lambda a, t, c: tg.ormqr(a, t, c, transpose=True), (A, tau, C))
    Z, zt, W = _c(rng, 3, 3), _c(rng, 2), _c(rng, 2, 3)
    assert gradcheck(tg.linalg.householder_product, (Z, zt))
    assert gradgradcheck(tg.linalg.householder_product, (Z, zt))
    assert gradcheck(lambda a, t, c: tg.ormqr(a, t, c, left=False), (Z, zt, W))


def test_geqrf_has_no_derivative(rng):
    a, tau = tg.geqrf(leaf64(rng, 3, 3))
    assert a.requires_grad
    with pytest.raises(NotImplementedError, match="derivative for 'geqrf' is not implemented"):
        (a.sum() + tau.sum()).backward()


def test_householder_against_torch(rng):
    torch = pytest.importorskip("torch")
    a, c = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3)), rng.standard_normal(
        (4, 2)) + 0j
    h, tau = tg.geqrf(tg.tensor(a))
    th, ttau = torch.geqrf(torch.tensor(a))
    np.testing.assert_allclose(host(h), th.numpy(), atol=1e-12)
    np.testing.assert_allclose(host(tau), ttau.numpy(), atol=1e-12)
    ours = [tg.tensor(host(h), requires_grad=True), tg.tensor(host(tau), requires_grad=True)]
    theirs = [th.clone().requires_grad_(), ttau.clone().requires_grad_()]
    y = tg.ormqr(*ours, tg.tensor(c), transpose=True)
    ty = torch.ormqr(*theirs, torch.tensor(c), transpose=True)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), atol=1e-12)
    g = rng.standard_normal(y.shape) + 1j * rng.standard_normal(y.shape)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    for x, tx in zip(ours, theirs):
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), atol=1e-10)


def test_householder_errors():
    with pytest.raises(RuntimeError, match="greater than or equal to input.shape"):
        tg.linalg.householder_product(tg.zeros(2, 3), tg.zeros(2))
    with pytest.raises(RuntimeError, match="greater than or equal to tau"):
        tg.linalg.householder_product(tg.zeros(3, 2), tg.zeros(3))
    with pytest.raises(RuntimeError, match="tau dtype"):
        tg.linalg.householder_product(tg.zeros(3, 2), tg.zeros(2, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="one dimension less"):
        tg.linalg.householder_product(tg.zeros(3, 2), tg.zeros(1, 1, 2))
    with pytest.raises(RuntimeError, match=r"other.shape\[-2\] must be equal"):
        tg.ormqr(tg.zeros(3, 3), tg.zeros(3), tg.zeros(4, 3))


def _sym(rng, n, dtype, hermitian, batch=()):
    m = rng.standard_normal(batch + (n, n)).astype(dtype)
    if dtype == np.complex128:
        m = m + 1j * rng.standard_normal(m.shape)
    return m + (np.swapaxes(m, -1, -2).conj() if hermitian else np.swapaxes(m, -1, -2))


def _rebuilt(LD, pivots, hermitian):
    """P L D L^T P^T from the compact factors, by the definition in LAPACK sytrf's docs."""
    from tinygen.ops.linalg_ldl import _rebuild
    return _rebuild(host(LD), host(pivots), hermitian and LD.dtype == tg.complex128)


@pytest.mark.parametrize("dtype, hermitian", [(np.float64, False), (np.complex128, False),
                                              (np.complex128, True)])
def test_ldl_factor_and_solve(rng, dtype, hermitian):
    a = _sym(rng, 5, dtype, hermitian, (3,))
    LD, pivots = tg.linalg.ldl_factor(tg.tensor(a), hermitian=hermitian)
    assert pivots.dtype == tg.int32 and pivots.shape == (3, 5)
    assert np.all(np.triu(host(LD), 1) == 0)
    for k in range(3):
        np.testing.assert_allclose(_rebuilt(LD[k], pivots[k], hermitian), a[k], atol=1e-12)
    b = rng.standard_normal((3, 5, 2)).astype(dtype)
    x = tg.linalg.ldl_solve(LD, pivots, tg.tensor(b), hermitian=hermitian)
    np.testing.assert_allclose(host(x), np.linalg.solve(a, b), atol=1e-11)


def test_ldl_two_by_two_pivots():
    a = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])    # zero diagonal
    LD, pivots, info = tg.linalg.ldl_factor_ex(tg.tensor(a))
    assert (host(pivots) < 0).any() and int(info) == 0
    np.testing.assert_allclose(_rebuilt(LD, pivots, False), a, atol=1e-12)


def test_ldl_against_torch(rng):
    torch = pytest.importorskip("torch")
    for dtype, hermitian in ((np.float64, False), (np.complex128, True), (np.complex128, False)):
        a = _sym(rng, 6, dtype, hermitian, (4,))
        LD, pivots = tg.linalg.ldl_factor(tg.tensor(a), hermitian=hermitian)
        tLD, tpivots = torch.linalg.ldl_factor(torch.tensor(a), hermitian=hermitian)
        assert (host(pivots) == tpivots.numpy()).all()                 # same pivots, factors
        np.testing.assert_allclose(host(LD), tLD.numpy(), atol=1e-12)
        b = rng.standard_normal((4, 6, 2)).astype(dtype)
        np.testing.assert_allclose(
            host(tg.linalg.ldl_solve(LD, pivots, tg.tensor(b), hermitian=hermitian)),
            torch.linalg.ldl_solve(tLD, tpivots, torch.tensor(b), hermitian=hermitian).numpy(),
            atol=1e-11)
    singular = np.diag([1.0, 0.0, 0.0])
    _, _, tinfo = torch.linalg.ldl_factor_ex(torch.tensor(singular))
    assert int(tg.linalg.ldl_factor_ex(tg.tensor(singular)).info) == int(tinfo) == 2


def test_ldl_errors_and_no_derivative(rng):
    with pytest.raises(tg.linalg.LinAlgError, match="singular"):
        tg.linalg.ldl_factor(tg.tensor(np.diag([1.0, 0.0])))
    with pytest.raises(RuntimeError, match="square matrices"):
        tg.linalg.ldl_factor(tg.zeros(2, 3))
    LD, pivots = tg.linalg.ldl_factor(tg.tensor(_sym(rng, 3, np.float64, False)))
    with pytest.raises(RuntimeError, match="same dtype"):
        tg.linalg.ldl_solve(LD, pivots, tg.zeros(3, 1))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.linalg.ldl_solve(LD, pivots, tg.zeros(3, dtype=tg.float64))
    A = leaf64(rng, 3, 3)
    LD, _ = tg.linalg.ldl_factor(A + A.mT)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex"):
        LD.sum().backward()


def test_empty_tau_and_empty_matrices(rng):
    """No reflectors: Q = I, still in A's graph with a zero gradient (as PyTorch); LDL of
    0 x 0 matrices and of empty batches gives empty factors."""
    A = leaf64(rng, 4, 3)
    Q = tg.linalg.householder_product(A, tg.zeros(0, dtype=tg.float64))
    np.testing.assert_allclose(host(Q), np.eye(4, 3))
    Q.sum().backward()
    np.testing.assert_allclose(host(A.grad), np.zeros((4, 3)))
    for shape in ((0, 0), (0, 2, 2)):
        LD, piv = tg.linalg.ldl_factor(tg.zeros(*shape, dtype=tg.float64))
        assert LD.shape == shape and piv.shape == shape[:-1]
        B = tg.zeros(*shape[:-1], 5, dtype=tg.float64)
        assert tg.linalg.ldl_solve(LD, piv, B).shape == B.shape
