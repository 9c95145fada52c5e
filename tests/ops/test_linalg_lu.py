"""LU with partial pivoting: linalg.lu_factor(_ex), lu, lu_solve, lu_unpack, the old torch.lu /
torch.lu_solve, tensorinv and tensorsolve. Closed forms (A = P L U, hand-worked pivots) without
torch; exact values, pivots and gradients against torch where it is installed."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck

SHAPES = [(3, 3), (2, 3, 4), (4, 3), (2, 2, 4, 4)]


def rand(*shape, seed=0, grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return tg.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("shape", SHAPES)
def test_lu_reconstructs_a(shape):
    A = rand(*shape)
    P, L, U = tg.linalg.lu(A)
    k = min(shape[-2:])
    assert L.shape == shape[:-1] + (k,) and U.shape == shape[:-2] + (k, shape[-1])
    np.testing.assert_allclose((P @ L @ U).numpy(), A.numpy(), atol=1e-12)
    np.testing.assert_array_equal(np.triu(L.numpy(), 1), 0)
    np.testing.assert_array_equal(np.diagonal(L.numpy(), 0, -2, -1), 1)
    np.testing.assert_array_equal(np.tril(U.numpy(), -1), 0)
    assert np.all(np.abs(L.numpy()) <= 1)                 # partial pivoting bounds L
    Pn = P.numpy()
    np.testing.assert_array_equal(Pn.sum(-1), 1)
    np.testing.assert_array_equal(Pn.sum(-2), 1)


def test_lu_factor_hand_worked():
    LU, piv = tg.linalg.lu_factor(tg.tensor([[1., 2.], [3., 4.]], dtype=tg.float64))
    np.testing.assert_allclose(LU.numpy(), [[3, 4], [1 / 3, 2 - 4 / 3]])
    assert piv.dtype == tg.int32 and piv.tolist() == [2, 2]
    P, L, U = tg.lu_unpack(LU, piv)
    np.testing.assert_array_equal(P.numpy(), [[0, 1], [1, 0]])


def test_singular_info_and_errors():
    LU, piv, info = tg.linalg.lu_factor_ex(tg.tensor([[1., 2.], [2., 4.]]))
    np.testing.assert_allclose(LU.numpy(), [[2, 4], [0.5, 0]])
    assert piv.tolist() == [2, 2] and info.item() == 2 and info.dtype == tg.int32
    LU, piv, info = tg.linalg.lu_factor_ex(tg.zeros(3, 3))
    assert piv.tolist() == [1, 2, 3] and info.item() == 1 and not LU.numpy().any()
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): U\[2,2\] is zero"):
        tg.linalg.lu_factor(tg.stack([tg.eye(2), tg.tensor([[1., 2.], [2., 4.]])]))
    with pytest.raises(RuntimeError, match="U\\[1,1\\] is zero"):
        tg.linalg.lu_factor_ex(tg.zeros(2, 2), check_errors=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.linalg.lu_factor(tg.ones(2, 2, dtype=tg.int64))
    assert tg.linalg.lu(tg.zeros(2, 2)).U.abs().sum().item() == 0     # no error


def test_lu_without_pivoting():
    A = rand(3, 3) + 5 * tg.eye(3, dtype=tg.float64)
    P, L, U = tg.linalg.lu(A, pivot=False)
    assert P.numel() == 0
    np.testing.assert_allclose((L @ U).numpy(), A.numpy(), atol=1e-12)
    LU, piv = tg.linalg.lu_factor(A, pivot=False)
    assert piv.tolist() == [1, 2, 3]


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 3, 3)])
def test_lu_factor_gradients(shape):
    A = rand(*shape, seed=1, grad=True)
    assert gradcheck(lambda x: tg.linalg.lu_factor(x).LU, (A,))
    assert gradgradcheck(lambda x: tuple(tg.linalg.lu(x))[1:], (A,))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_closed_form_and_gradients(left, adjoint):
    A = rand(2, 3, 3, seed=2, grad=True)
    B = rand(2, 3, 2, seed=3, grad=True) if left else rand(2, 2, 3, seed=3, grad=True)
    LU, piv = tg.linalg.lu_factor(A)
    X = tg.linalg.lu_solve(LU, piv, B, left=left, adjoint=adjoint)
    a = A.detach().numpy()
    a = np.swapaxes(a, -1, -2) if adjoint else a
    b = B.detach().numpy()
    want = np.linalg.solve(a, b) if left else np.swapaxes(
        np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    np.testing.assert_allclose(X.detach().numpy(), want, atol=1e-12)

    def f(a, b):
        return tg.linalg.lu_solve(*tg.linalg.lu_factor(a), b, left=left, adjoint=adjoint)
    assert gradgradcheck(f, (A, B))


def test_lu_solve_shape_error():
    LU, piv = tg.linalg.lu_factor(tg.eye(2))
    with pytest.raises(RuntimeError, match=r"AX = B \(2x2 and 3x1\)"):
        tg.linalg.lu_solve(LU, piv, tg.ones(3, 1))


def test_old_api():
    A = rand(3, 3, seed=4)
    LU, piv = tg.lu(A)
    LU2, piv2, info = A.lu(get_infos=True)
    np.testing.assert_array_equal(LU.numpy(), LU2.numpy())
    assert piv.tolist() == piv2.tolist() and info.item() == 0
    b = rand(3, 2, seed=5)
    want = np.linalg.solve(A.numpy(), b.numpy())
    np.testing.assert_allclose(tg.lu_solve(b, LU, piv).numpy(), want, atol=1e-12)
    np.testing.assert_allclose(b.lu_solve(LU, piv).numpy(), want, atol=1e-12)
    assert len(tg.lu(tg.zeros(2, 2))) == 2                 # singular: no error, as torch.lu
    P, L, U = tg.lu_unpack(LU, piv, unpack_data=False)
    assert L.numel() == 0 and U.numel() == 0 and P.shape == (3, 3)


def test_tensorinv_and_tensorsolve():
    A = rand(4, 6, 8, 3, seed=6, grad=True)
    Ainv = tg.linalg.tensorinv(A, ind=2)
    np.testing.assert_allclose(Ainv.detach().numpy(), np.linalg.tensorinv(A.detach().numpy(), 2),
                               atol=1e-10)
    assert Ainv.shape == (8, 3, 4, 6)
    B = rand(4, 6, seed=7, grad=True)
    X = tg.linalg.tensorsolve(A, B)
    np.testing.assert_allclose(X.detach().numpy(),
                               np.linalg.tensorsolve(A.detach().numpy(), B.detach().numpy()),
                               atol=1e-10)
    C, D = rand(6, 2, 3, seed=8), rand(2, 3, seed=9)
    Y = tg.linalg.tensorsolve(C, D, dims=(0,))
    np.testing.assert_allclose(Y.numpy(), np.linalg.tensorsolve(C.numpy(), D.numpy(), axes=(0,)),
                               atol=1e-10)
    small = rand(2, 2, 4, seed=10, grad=True)
    assert gradcheck(lambda a: tg.linalg.tensorinv(a, ind=2), (small,))
    assert gradcheck(lambda a, b: tg.linalg.tensorsolve(a, b), (small, rand(2, 2, grad=True)))
    with pytest.raises(RuntimeError, match="prod"):
        tg.linalg.tensorinv(rand(2, 3, 4), ind=2)


def test_tensorsolve_dims_reorder_to_other_shape():
    """Only the sizes' products must agree: A (2, 3, 6) with dims (0, 2) is (3, 2, 6) against
    B (2, 3), as PyTorch."""
    A, B = rand(2, 3, 6, seed=11), rand(2, 3, seed=12)
    X = tg.linalg.tensorsolve(A, B, dims=(0, 2))
    moved = np.moveaxis(A.numpy(), (0, 2), (1, 2)).reshape(6, 6)
    np.testing.assert_allclose(moved @ X.numpy().reshape(6), B.numpy().reshape(6), atol=1e-10)


def test_complex_pivot_as_lapack():
    """LAPACK picks the complex pivot of largest |Re| + |Im|: 2+2j (4) over 3 (|2+2j| < 3)."""
    A = tg.tensor(np.array([[3, 1], [2 + 2j, 1]], dtype=np.complex128))
    assert tg.linalg.lu_factor(A).pivots.numpy().tolist() == [2, 2]


@pytest.mark.parametrize("shape", SHAPES)
def test_against_torch(shape):
    torch = pytest.importorskip("torch")
    A = rand(*shape, seed=11)
    t = torch.tensor(A.numpy())
    LU, piv = tg.linalg.lu_factor(A)
    tLU, tpiv = torch.linalg.lu_factor(t)
    np.testing.assert_allclose(LU.numpy(), tLU.numpy(), atol=1e-12)
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    for mine, theirs in zip(tg.linalg.lu(A), torch.linalg.lu(t)):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
    for mine, theirs in zip(tg.lu_unpack(LU, piv), torch.lu_unpack(tLU, tpiv)):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
    info = tg.linalg.lu_factor_ex(tg.tensor([[1., 2.], [2., 4.]])).info
    assert info.item() == torch.linalg.lu_factor_ex(torch.tensor([[1., 2.], [2., 4.]])).info


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_gradients_against_torch(shape):
    torch = pytest.importorskip("torch")
    A = rand(*shape, seed=12, grad=True)
    G = rand(*shape, seed=13)
    t = torch.tensor(A.detach().numpy(), requires_grad=True)
    (tg.linalg.lu_factor(A).LU * G).sum().backward()
    (torch.linalg.lu_factor(t).LU * torch.tensor(G.numpy())).sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), t.grad.numpy(), atol=1e-10)
    B = rand(shape[-2], 2, seed=14, grad=True)
    if shape[0] == shape[1]:
        A.grad = None
        tb = torch.tensor(B.detach().numpy(), requires_grad=True)
        t.grad = None
        tg.linalg.lu_solve(*tg.linalg.lu_factor(A), B, adjoint=True).sum().backward()
        torch.linalg.lu_solve(*torch.linalg.lu_factor(t), tb, adjoint=True).sum().backward()
        np.testing.assert_allclose(A.grad.numpy(), t.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(B.grad.numpy(), tb.grad.numpy(), atol=1e-10)
