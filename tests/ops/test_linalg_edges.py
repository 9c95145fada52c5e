"""Edge cases of tg.linalg found in review: matrix_power(A, 0) in the graph, slogdet's sign
requiring grad with a zero gradient, norms and cond of empty matrices, and det/inv/solve/slogdet
of (0, 0) matrices and of batches with a 0 batch dim - each as PyTorch does it."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck

MATRIX_ORDS = ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]
EMPTY_SHAPES = [(0, 0), (3, 0), (0, 3), (2, 0, 0), (2, 3, 0)]


def rand(*shape, seed=0, grad=False):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


def test_matrix_power_zero_is_in_the_graph():
    A = rand(2, 3, 3, grad=True)
    I = tg.linalg.matrix_power(A, 0)
    np.testing.assert_array_equal(I.detach().numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    assert I.requires_grad
    I.sum().backward()
    np.testing.assert_array_equal(A.grad.numpy(), np.zeros((2, 3, 3)))
    assert gradcheck(lambda a: tg.linalg.matrix_power(a, 0), (A,))
    assert gradgradcheck(lambda a: tg.linalg.matrix_power(a, 0) * a, (A,))
    assert not tg.linalg.matrix_power(A.detach(), 0).requires_grad


def test_slogdet_sign_requires_grad_with_zero_gradient():
    A = rand(2, 3, 3, seed=1, grad=True)
    sign, logabsdet = tg.linalg.slogdet(A)
    assert sign.requires_grad and logabsdet.requires_grad
    np.testing.assert_array_equal(sign.detach().numpy(), np.sign(np.linalg.det(A.detach().numpy())))
    sign.sum().backward()
    assert A.grad is None                               # as PyTorch: no gradient reaches A
    sign, logabsdet = tg.linalg.slogdet(A)
    (sign * logabsdet).sum().backward()
    want = np.sign(np.linalg.det(A.detach().numpy()))[:, None, None] * \
        np.linalg.inv(A.detach().numpy()).swapaxes(-1, -2)
    np.testing.assert_allclose(A.grad.numpy(), want, atol=1e-12)
    assert gradgradcheck(lambda a: tuple(tg.linalg.slogdet(a)), (A,))
    assert tg.logdet(A).requires_grad


def test_slogdet_sign_against_torch():
    torch = pytest.importorskip("torch")
    t = torch.tensor(rand(3, 3, seed=2).numpy(), requires_grad=True)
    A = tg.tensor(t.detach().numpy(), requires_grad=True)
    assert tg.linalg.slogdet(A).sign.requires_grad == torch.linalg.slogdet(t).sign.requires_grad
    torch.linalg.slogdet(t).sign.sum().backward()
    tg.linalg.slogdet(A).sign.sum().backward()
    assert (A.grad is None) == (t.grad is None)


def _empty_norm_closed_form(shape, ord):
    """0, or IndexError for a min over an empty set of sums / singular values."""
    m, n = shape[-2:]
    reduced = {math.inf: m, -math.inf: m, 1: n, -1: n, 2: min(m, n), -2: min(m, n)}
    if ord in ("fro", "nuc") or ord > 0 or reduced[ord] > 0:
        return np.zeros(shape[:-2])
    return IndexError


@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_matrix_norm_of_empty_matrices(shape):
    A = tg.zeros(*shape, dtype=tg.float64, requires_grad=True)
    for ord in MATRIX_ORDS:
        want = _empty_norm_closed_form(shape, ord)
        if want is IndexError:
            with pytest.raises(IndexError, match="non-zero size"):
                tg.linalg.matrix_norm(A, ord)
        else:
            y = tg.linalg.matrix_norm(A, ord)
            np.testing.assert_array_equal(y.detach().numpy(), want)
            assert y.requires_grad


@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_cond_of_empty_matrices(shape):
    A = tg.zeros(*shape, dtype=tg.float64)
    for p in [None] + MATRIX_ORDS:
        if p in ("fro", "nuc") and shape[-1] != shape[-2]:
            with pytest.raises(RuntimeError, match="square"):
                tg.linalg.cond(A, p)
            continue
        np.testing.assert_array_equal(tg.linalg.cond(A, p).numpy(), np.zeros(shape[:-2]))


@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_empty_norms_and_cond_against_torch(shape):
    torch = pytest.importorskip("torch")
    t = torch.zeros(shape, dtype=torch.float64)
    A = tg.zeros(*shape, dtype=tg.float64)
    for fn, tfn, ords in [(tg.linalg.matrix_norm, torch.linalg.matrix_norm, MATRIX_ORDS),
                          (tg.linalg.cond, torch.linalg.cond, [None] + MATRIX_ORDS)]:
        for ord in ords:
            try:
                want = tfn(t, ord).numpy()
            except (IndexError, RuntimeError) as error:
                with pytest.raises(type(error)):
                    fn(A, ord)
                continue
            np.testing.assert_array_equal(fn(A, ord).numpy(), want)


@pytest.mark.parametrize("batch", [(), (0,), (2,)])
def test_det_inv_solve_of_empty(batch):
    n = 0 if batch != (0,) else 3
    A = tg.zeros(*batch, n, n, dtype=tg.float64, requires_grad=True)
    d = tg.linalg.det(A)
    assert d.shape == batch
    np.testing.assert_array_equal(d.detach().numpy(), np.ones(batch))    # det of 0x0 is 1
    sign, logabsdet = tg.linalg.slogdet(A)
    np.testing.assert_array_equal(sign.detach().numpy(), np.ones(batch))
    np.testing.assert_array_equal(logabsdet.detach().numpy(), np.zeros(batch))
    assert tg.linalg.inv(A).shape == batch + (n, n)
    B = tg.zeros(*batch, n, 2, dtype=tg.float64)
    assert tg.linalg.solve(A, B).shape == batch + (n, 2)
    assert tg.linalg.inv_ex(A).info.shape == batch
    d.sum().backward()
    assert A.grad.shape == A.shape
    LU, piv = tg.linalg.lu_factor(A)
    assert LU.shape == A.shape and piv.shape == batch + (n,)


def test_empty_against_torch():
    torch = pytest.importorskip("torch")
    for shape in [(0, 0), (0, 3, 3), (2, 0, 0)]:
        t = torch.zeros(shape, dtype=torch.float64)
        A = tg.zeros(*shape, dtype=tg.float64)
        np.testing.assert_array_equal(tg.linalg.det(A).numpy(), torch.linalg.det(t).numpy())
        assert tg.linalg.inv(A).shape == tuple(torch.linalg.inv(t).shape)
        for mine, theirs in zip(tg.linalg.slogdet(A), torch.linalg.slogdet(t)):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
        rhs = torch.zeros(shape[:-1] + (2,), dtype=torch.float64)
        got = tg.linalg.solve(A, tg.tensor(rhs.numpy()))
        assert got.shape == tuple(torch.linalg.solve(t, rhs).shape)
