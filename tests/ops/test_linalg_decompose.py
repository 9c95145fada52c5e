"""linalg.cholesky, qr, eigh, svd: factors against NumPy and PyTorch, gradients (to second
order) of sign-invariant functions of the factors, and PyTorch's errors."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def _spd(a):
    """A symmetric positive-definite matrix from any square a."""
    return a @ a.mT + 3 * tg.eye(a.shape[-1], dtype=a.dtype)


def test_cholesky_values_and_grads(rng, device):
    A = leaf64(rng, 2, 3, 3, device=device)
    L = tg.linalg.cholesky(_spd(A))
    ref = np.linalg.cholesky(host(_spd(A)))
    np.testing.assert_allclose(host(L), ref, rtol=1e-10)
    np.testing.assert_allclose(host(tg.linalg.cholesky(_spd(A), upper=True)),
                               np.swapaxes(ref, -1, -2), rtol=1e-10)
    assert gradcheck(lambda a: tg.linalg.cholesky(_spd(a)), (A,))
    assert gradgradcheck(lambda a: tg.linalg.cholesky(_spd(a), upper=True), (A,))


def test_cholesky_not_positive_definite():
    A = tg.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0], [0.0, 2.0, 1.0]])
    with pytest.raises(tg.linalg.LinAlgError, match="leading minor of order 3"):
        tg.linalg.cholesky(A)
    L, info = tg.linalg.cholesky_ex(tg.stack([tg.eye(3), A]))
    assert host(info).tolist() == [0, 3]
    np.testing.assert_allclose(host(L[0]), np.eye(3))


@pytest.mark.parametrize("shape", [(2, 4, 3), (3, 3), (3, 5)])
def test_qr(rng, shape):
    A = leaf64(rng, *shape)
    Q, R = tg.linalg.qr(A)
    np.testing.assert_allclose(host(Q @ R), host(A), atol=1e-12)
    k = min(shape[-2:])
    np.testing.assert_allclose(host(Q.mT @ Q), np.broadcast_to(np.eye(k), Q.shape[:-2] + (k, k)),
                               atol=1e-12)
    assert np.allclose(np.tril(host(R), -1), 0)
    assert gradcheck(tg.linalg.qr, (A,))
    assert gradgradcheck(tg.linalg.qr, (A,))


def test_qr_modes(rng):
    A = leaf64(rng, 4, 2)
    Q, R = tg.linalg.qr(A, mode="complete")
    assert Q.shape == (4, 4) and R.shape == (4, 2)
    Q, R = tg.linalg.qr(A, mode="r")
    assert Q.numel() == 0 and R.shape == (2, 2)
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        tg.linalg.qr(A, mode="full")
    Q, R = tg.linalg.qr(A, mode="complete")
    with pytest.raises(RuntimeError, match="not differentiable"):
        (Q.sum() + R.sum()).backward()


def _sym_eigh(a):
    L, V = tg.linalg.eigh(a + a.mT)
    return L, V.abs(), (V * L.unsqueeze(-2)) @ V.mT


def test_eigh(rng, device):
    A = leaf64(rng, 2, 3, 3, device=device)
    S = host(A + A.mT)
    L, V = tg.linalg.eigh(tg.tensor(S, device=device))
    np.testing.assert_allclose(host(L), np.linalg.eigvalsh(S), rtol=1e-10)
    np.testing.assert_allclose(host(V @ tg.diag_embed(L) @ V.mT), S, atol=1e-12)
    U = tg.linalg.eigvalsh(tg.tensor(np.triu(S), device=device), UPLO="U")
    np.testing.assert_allclose(host(U), host(L), rtol=1e-10)
    assert gradcheck(_sym_eigh, (A,))
    assert gradgradcheck(_sym_eigh, (A,))


@pytest.mark.parametrize("shape", [(2, 4, 3), (3, 3), (2, 5)])
def test_svd(rng, shape):
    A = leaf64(rng, *shape)
    U, S, Vh = tg.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(host(S), np.linalg.svd(host(A), compute_uv=False), rtol=1e-10)
    np.testing.assert_allclose(host((U * S.unsqueeze(-2)) @ Vh), host(A), atol=1e-12)
    np.testing.assert_allclose(host(tg.linalg.svdvals(A)), host(S))

    def parts(a):
        U, S, Vh = tg.linalg.svd(a, full_matrices=False)
        return (U * S.unsqueeze(-2)) @ Vh, S, U.abs(), Vh.abs()
    assert gradcheck(parts, (A,))
    assert gradgradcheck(parts, (A,))

    def full(a):
        U, S, Vh = tg.linalg.svd(a)               # only the first k vectors are unique
        k = min(a.shape[-2:])
        return U[..., :k].abs(), Vh[..., :k, :].abs()
    assert gradcheck(full, (A,))
    U, _, Vh = tg.linalg.svd(A)
    assert U.shape[-1] == shape[-2] and Vh.shape[-2] == shape[-1]


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((2, 4, 3))
    g = rng.standard_normal((2, 4, 3))
    A, TA = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    Q, R = tg.linalg.qr(A)
    TQ, TR = torch.linalg.qr(TA)
    np.testing.assert_allclose(np.abs(host(R)), np.abs(TR.detach().numpy()), atol=1e-12)
    (Q @ R * tg.tensor(g)).sum().backward()
    (TQ @ TR * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(host(A.grad), TA.grad.numpy(), atol=1e-10)
    s = a[0, :3] @ a[0, :3].T + 3 * np.eye(3)
    for name in ("cholesky", "eigvalsh", "svdvals"):
        B, TB = tg.tensor(s, requires_grad=True), torch.tensor(s, requires_grad=True)
        y, ty = getattr(tg.linalg, name)(B), getattr(torch.linalg, name)(TB)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10)
        w = rng.standard_normal(y.shape)
        (y * tg.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(host(B.grad), TB.grad.numpy(), atol=1e-10)


def test_svdvals_gradient_at_repeated_singular_values():
    """The singular values alone have the gradient U diag(gS) V^T even where two coincide
    (the identity, an orthogonal matrix); only U and V carry 1 / (s_i^2 - s_j^2) terms."""
    eye = tg.eye(3, dtype=tg.float64, requires_grad=True)
    tg.linalg.svdvals(eye).sum().backward()
    np.testing.assert_allclose(host(eye.grad), np.eye(3), atol=1e-12)
    Q = tg.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=tg.float64, requires_grad=True)
    tg.linalg.matrix_norm(Q, "nuc").backward()                 # d ||Q||_* = U V^T = Q here
    np.testing.assert_allclose(host(Q.grad), host(Q), atol=1e-12)
    A = tg.tensor(np.diag([3.0, 2.0]) + 0.25, requires_grad=True)
    assert gradgradcheck(lambda a: tg.linalg.svdvals(a), (A,))
