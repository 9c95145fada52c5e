"""prod and cumsum (ops/reduce.py): values against NumPy, gradients against finite differences,
and prod's exact gradient where the input has zeros."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True),
                                          (-1, False)])
def test_prod_matches_numpy(dim, keepdim, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=0.5, high=1.5)
    y = tg.prod(x, dim, keepdim)
    expected = np.prod(host(x), axis=dim, keepdims=keepdim)
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-13)
    assert gradcheck(lambda x: x.prod(dim, keepdim), (x,))
    assert gradgradcheck(lambda x: x.prod(dim, keepdim), (x,))


def test_prod_gradient_with_zeros(device):
    """Row 0: no zero (grad = y / x); row 1: one zero (only the zero gets the product of the
    others); row 2: two zeros (all 0). y / x would give nan in rows 1 and 2."""
    a = np.array([[1.5, 2.0, -3.0, 0.5], [1.0, 0.0, 2.0, 3.0], [0.0, 2.0, 0.0, 4.0]])
    x = tg.tensor(a, dtype=tg.float64, device=device, requires_grad=True)
    y = x.prod(1)
    np.testing.assert_allclose(host(y), [-4.5, 0, 0])
    g = np.array([1.0, 2.0, 3.0])
    y.backward(tg.tensor(g, device=device))
    expected = [[-3.0, -2.25, 1.5, -9.0], [0, 6.0, 0, 0], [0, 0, 0, 0]]
    np.testing.assert_allclose(host(x.grad), np.array(expected) * g[:, None])
    assert gradcheck(lambda x: x.prod(1), (x,))
    assert gradgradcheck(lambda x: x.prod(1), (x,))     # row 2: d2y/dx0 dx2 = 2 * 4


def test_prod_second_derivative_with_zeros_matches_torch(rng):
    """Two or three zeros in a row: the second derivative pairs a zero with the other zero."""
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((3, 5))
    a[1, [0, 3]] = 0
    a[2, [1, 2, 4]] = 0
    x, t = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    w, v = rng.standard_normal(3), rng.standard_normal((3, 5))
    (gx,) = tg.autograd.grad((x.prod(1) * tg.tensor(w)).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad((t.prod(1) * torch.tensor(w)).sum(), t, create_graph=True)
    (ggx,) = tg.autograd.grad((gx * tg.tensor(v)).sum(), x)
    (ggt,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), t)
    np.testing.assert_allclose(host(ggx), ggt.numpy(), rtol=1e-12, atol=1e-12)
    assert np.abs(host(ggx)[1]).sum() > 0


def test_prod_dtypes_and_scalars():
    assert tg.tensor([2, 3, 4]).prod().item() == 24
    assert tg.tensor([2, 3, 4]).prod().dtype == tg.int64
    assert tg.tensor([True, False]).prod().dtype == tg.int64
    assert tg.tensor(3.0).prod(0).item() == 3.0
    assert tg.ones(2, 0).prod(1).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_matches_numpy_and_gradchecks(dim, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    np.testing.assert_allclose(host(tg.cumsum(x, dim)), np.cumsum(host(x), axis=dim),
                               rtol=1e-13)
    assert gradcheck(lambda x: x.cumsum(dim), (x,))
    assert gradgradcheck(lambda x: x.cumsum(dim), (x,))


def test_cumsum_gradient_is_a_reversed_cumsum(device):
    x = tg.zeros(4, dtype=tg.float64, device=device, requires_grad=True)
    x.cumsum(0).backward(tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64, device=device))
    assert host(x.grad).tolist() == [10.0, 9.0, 7.0, 4.0]


def test_cumsum_dtypes():
    assert tg.tensor([True, True, False]).cumsum(0).tolist() == [1, 2, 2]
    assert tg.tensor([1, 2], dtype=tg.int32).cumsum(0).dtype == tg.int64
    assert tg.tensor([1, 2]).cumsum(0, dtype=tg.float64).dtype == tg.float64
    with pytest.raises(IndexError, match="dimension out of range"):
        tg.ones(2, 3).cumsum(2)


def test_prod_matches_torch_with_zeros(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((4, 5))
    a[1, 2] = 0
    a[2, [0, 3]] = 0
    x = tg.tensor(a, dtype=tg.float64, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    g = rng.standard_normal(4)
    x.prod(1).backward(tg.tensor(g))
    t.prod(1).backward(torch.tensor(g))
    np.testing.assert_allclose(host(x.grad), t.grad.cpu().numpy(), rtol=1e-13)
