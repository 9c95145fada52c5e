"""linalg.matrix_norm, norm, cond, matrix_rank, pinv, lstsq, matrix_exp, the small helpers
(vecdot, cross, diagonal, vander) and the top-level names (tg.det, x.inverse(), tg.svd, ...)."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck

ORDS = ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]


@pytest.mark.parametrize("ord", ORDS)
def test_matrix_norm(rng, ord):
    A = leaf64(rng, 2, 3, 4)
    ref = np.linalg.norm(host(A), ord=ord, axis=(-2, -1))
    np.testing.assert_allclose(host(tg.linalg.matrix_norm(A, ord)), ref, rtol=1e-10)
    y = tg.linalg.matrix_norm(A, ord, dim=(0, 2), keepdim=True)
    assert y.shape == (1, 3, 1)
    np.testing.assert_allclose(host(y).reshape(-1), np.linalg.norm(
        np.moveaxis(host(A), 1, 0), ord=ord, axis=(-2, -1)), rtol=1e-10)
    assert gradcheck(lambda a: tg.linalg.matrix_norm(a, ord), (A,))


def test_norm_dispatch(rng):
    A = leaf64(rng, 3, 4)
    np.testing.assert_allclose(host(tg.linalg.norm(A)), np.linalg.norm(host(A)))
    np.testing.assert_allclose(host(tg.linalg.norm(A, "nuc")), np.linalg.norm(host(A), "nuc"))
    np.testing.assert_allclose(host(tg.linalg.norm(A, 3, dim=1)),
                               np.linalg.norm(host(A), 3, axis=1))
    np.testing.assert_allclose(host(tg.linalg.norm(A[0], 1)), np.abs(host(A[0])).sum())
    with pytest.raises(RuntimeError, match="1D or 2D"):
        tg.linalg.norm(tg.ones(2, 2, 2), 2)
    with pytest.raises(RuntimeError, match="not supported"):
        tg.linalg.matrix_norm(A, 3)


def test_cond_rank_pinv(rng):
    A = leaf64(rng, 2, 4, 3)
    np.testing.assert_allclose(host(tg.linalg.cond(A)), np.linalg.cond(host(A)), rtol=1e-10)
    sq = host(A)[:, :3]
    np.testing.assert_allclose(host(tg.linalg.cond(tg.tensor(sq), 1)), np.linalg.cond(sq, 1),
                               rtol=1e-10)
    low = tg.tensor(np.outer([1.0, 2.0, 3.0], [1.0, -1.0]))
    assert host(tg.linalg.matrix_rank(low)).tolist() == 1
    assert host(tg.linalg.matrix_rank(A)).tolist() == [3, 3]
    np.testing.assert_allclose(host(tg.linalg.pinv(A)), np.linalg.pinv(host(A)), atol=1e-12)
    np.testing.assert_allclose(host(tg.linalg.pinv(low)), np.linalg.pinv(host(low)), atol=1e-12)
    assert gradcheck(tg.linalg.pinv, (A,))
    assert gradgradcheck(lambda a: tg.linalg.cond(a), (A,))


def test_pinv_hermitian_tensor_tolerances_and_rank_deficient_grad(rng):
    """hermitian=True reads the lower triangle only; atol/rtol may be tensors over the batch;
    the gradient holds at constant rank (PyTorch's pinv_backward), where the SVD's is nan."""
    A = leaf64(rng, 4, 4)
    sym = np.tril(host(A)) + np.tril(host(A), -1).T
    np.testing.assert_allclose(host(tg.linalg.pinv(A, hermitian=True)), np.linalg.pinv(sym),
                               atol=1e-10)
    batch = tg.tensor(np.stack([np.diag([1.0, 1e-3]), np.diag([1.0, 1e-3])]))
    cut = tg.linalg.pinv(batch, rtol=tg.tensor([1e-2, 1e-4]))
    assert host(cut)[:, 1, 1].tolist() == [0.0, 1e3]
    a, b = leaf64(rng, 4, 2), leaf64(rng, 4, 2)
    low = lambda a, b: tg.linalg.pinv(a @ b.mT)          # rank 2 of 4: two zero singular values
    assert not np.isnan(host(tg.autograd.grad(low(a, b).sum(), a)[0])).any()
    assert gradcheck(low, (a, b))
    assert gradgradcheck(low, (a, b))


def test_vander_of_a_scalar():
    V = tg.linalg.vander(tg.tensor(2.0), N=3)
    assert V.shape == (1, 3) and host(V).tolist() == [[1.0, 2.0, 4.0]]


def test_lstsq(rng):
    A = leaf64(rng, 5, 3)
    B = leaf64(rng, 5, 2)
    res = tg.linalg.lstsq(A, B, driver="gelsd")
    ref, resid, rank, sv = np.linalg.lstsq(host(A), host(B), rcond=None)
    np.testing.assert_allclose(host(res.solution), ref, atol=1e-12)
    np.testing.assert_allclose(host(res.residuals), resid, rtol=1e-10)
    np.testing.assert_allclose(host(res.singular_values), sv, rtol=1e-10)
    assert int(host(res.rank)) == rank
    assert gradcheck(lambda a, b: tg.linalg.lstsq(a, b).solution, (A, B))
    x = tg.linalg.lstsq(A, B[:, 0]).solution
    np.testing.assert_allclose(host(x), ref[:, 0], atol=1e-12)
    assert tuple(tg.linalg.lstsq(A, B[:, 0], driver="gels").residuals.shape) == (1,)


def test_lstsq_driver_outputs(rng):
    """As PyTorch on the CPU: the default 'gelsy' gives no residuals nor singular values,
    'gels' no rank either."""
    A, B = leaf64(rng, 5, 3), leaf64(rng, 5, 2)
    res = tg.linalg.lstsq(A, B)
    assert res.residuals.shape == (0,) and res.singular_values.shape == (0,)
    assert res.rank.shape == ()
    res = tg.linalg.lstsq(A, B, driver="gels")
    assert res.rank.shape == (0,) and res.residuals.shape == (2,)
    C = tg.tensor(host(A) * (1 + 1j))
    assert tg.linalg.lstsq(C, C, driver="gelsd").singular_values.dtype == tg.float64


def test_matrix_exp(rng, device):
    A = leaf64(rng, 2, 3, 3, device=device)
    a = host(A)
    # Taylor series as the reference (converges fast for these small norms)
    ref, term = np.broadcast_to(np.eye(3), a.shape).copy(), np.broadcast_to(np.eye(3), a.shape)
    for k in range(1, 40):
        term = term @ a / k
        ref = ref + term
    np.testing.assert_allclose(host(tg.linalg.matrix_exp(A)), ref, rtol=1e-12, atol=1e-12)
    big = tg.tensor(10 * a[0], device=device)      # needs scaling and squaring
    product = host(tg.linalg.matrix_exp(big) @ tg.linalg.matrix_exp(-big))
    np.testing.assert_allclose(product, np.eye(3), atol=1e-5)   # cancellation of ~e^20 terms
    assert gradcheck(tg.linalg.matrix_exp, (A,))
    assert gradgradcheck(tg.linalg.matrix_exp, (A,))


def test_matrix_exp_against_scipy(rng):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a = 8 * rng.standard_normal((4, 4))
    np.testing.assert_allclose(host(tg.linalg.matrix_exp(tg.tensor(a))), scipy_linalg.expm(a),
                               rtol=1e-9)
    f32 = tg.linalg.matrix_exp(tg.tensor(a / 8, dtype=tg.float32))
    assert f32.dtype == tg.float32
    np.testing.assert_allclose(host(f32), scipy_linalg.expm(a / 8), rtol=1e-5)


def test_small_helpers(rng):
    x, y = leaf64(rng, 2, 3), leaf64(rng, 2, 3)
    np.testing.assert_allclose(host(tg.linalg.vecdot(x, y)), (host(x) * host(y)).sum(-1))
    np.testing.assert_allclose(host(tg.linalg.cross(x, y)), np.cross(host(x), host(y)))
    A = leaf64(rng, 2, 3, 3)
    np.testing.assert_allclose(host(tg.linalg.diagonal(A, offset=1)),
                               np.diagonal(host(A), 1, -2, -1))
    V = tg.linalg.vander(x, N=4)
    np.testing.assert_allclose(host(V), host(x)[..., None] ** np.arange(4))
    assert gradcheck(lambda t: tg.linalg.vander(t, N=4), (x,))
    np.testing.assert_allclose(host(tg.linalg.matmul(A, A)), host(A) @ host(A))


def test_top_level_names(rng):
    A = leaf64(rng, 3, 3)
    spd = A @ A.mT + 3 * tg.eye(3, dtype=tg.float64)
    for name in ("det", "logdet", "slogdet", "inverse", "matrix_exp"):
        assert callable(getattr(tg, name)) and callable(getattr(A, name))
    np.testing.assert_allclose(host(A.det()), np.linalg.det(host(A)))
    np.testing.assert_allclose(host(A.inverse()), np.linalg.inv(host(A)), rtol=1e-10)
    np.testing.assert_allclose(host(tg.pinverse(A)), np.linalg.inv(host(A)), rtol=1e-8)
    np.testing.assert_allclose(host(A.matrix_power(2)), host(A) @ host(A), rtol=1e-12)
    L = spd.cholesky()
    B = leaf64(rng, 3, 2)
    np.testing.assert_allclose(host(tg.cholesky_solve(B, L)),
                               np.linalg.solve(host(spd), host(B)), rtol=1e-10)
    np.testing.assert_allclose(host(tg.cholesky_solve(B, L.mT, upper=True)),
                               np.linalg.solve(host(spd), host(B)), rtol=1e-10)
    np.testing.assert_allclose(host(L.cholesky_inverse()), np.linalg.inv(host(spd)), rtol=1e-10)
    assert gradcheck(lambda b, a: tg.cholesky_solve(b, tg.linalg.cholesky(
        a @ a.mT + 3 * tg.eye(3, dtype=tg.float64))), (B, A))
    U, S, V = tg.svd(leaf64(rng, 4, 3))
    assert U.shape == (4, 3) and V.shape == (3, 3)
    U, S, V = tg.svd(leaf64(rng, 4, 3), some=False)
    assert U.shape == (4, 4)
    Q, R = A.qr()
    np.testing.assert_allclose(host(Q @ R), host(A), atol=1e-12)


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((2, 3, 3))
    for fn, args in [("matrix_exp", ()), ("matrix_norm", ("nuc",)), ("pinv", ()),
                     ("cond", ())]:
        A, TA = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = getattr(tg.linalg, fn)(A, *args), getattr(torch.linalg, fn)(TA, *args)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-9, atol=1e-12)
        w = rng.standard_normal(y.shape)
        (y * tg.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(host(A.grad), TA.grad.numpy(), rtol=1e-7, atol=1e-10)
    U, S, V = tg.svd(tg.tensor(a[0]))
    TU, TS, TV = torch.svd(torch.tensor(a[0]))
    np.testing.assert_allclose(np.abs(host(V)), np.abs(TV.numpy()), atol=1e-12)


@pytest.mark.parametrize("p", ["fro", "nuc", 1, math.inf])
def test_cond_of_singular_matrix_is_inf(p):
    """PyTorch gives inf for a singular matrix in these norms (no LinAlgError), per matrix of
    a batch, and the other matrices keep finite values and gradients."""
    A = tg.tensor([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 1.0]]], dtype=tg.float64,
                  requires_grad=True)
    c = tg.linalg.cond(A, p)
    ref = np.linalg.cond(np.array([[2.0, 0.0], [0.0, 1.0]]), p)
    assert np.isinf(host(c)[0])
    np.testing.assert_allclose(host(c)[1], ref, rtol=1e-12)
    c[1].backward()
    assert np.isfinite(host(A.grad)).all()
    np.testing.assert_array_equal(host(A.grad)[0], np.zeros((2, 2)))


def test_cross_dim_does_not_broadcast():
    with pytest.raises(RuntimeError, match="must have length 3"):
        tg.linalg.cross(tg.zeros(5, 3), tg.zeros(5, 1))


def test_norms_and_matrix_exp_take_float16():
    # PyTorch runs these in float16; the spectral norms (SVD) still refuse it
    a = np.array([[1.0, -2.0], [3.0, 0.5]], dtype=np.float16)
    x = tg.tensor(a)
    for y, want in ((tg.linalg.norm(x), np.linalg.norm(a.astype(np.float64))),
                    (tg.linalg.matrix_norm(x, 1), 4.0),
                    (tg.linalg.matrix_norm(x, math.inf), 3.5)):
        assert y.dtype == tg.float16
        np.testing.assert_allclose(host(y), want, rtol=1e-3)
    assert tg.linalg.matrix_exp(tg.zeros(2, 2, dtype=tg.float16)).dtype == tg.float16
    with pytest.raises(RuntimeError, match="float16"):
        tg.linalg.matrix_norm(x, "nuc")
