"""Vector norms: values against NumPy, gradients against finite differences, and PyTorch's
subgradient 0 at x = 0 (which a WGAN-GP penalty relies on)."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

ORDS = [2, 1, 3, 1.5, 0.5, -1, -2.5, math.inf, -math.inf]


def numpy_norm(a, ord, axis=None, keepdims=False):
    a = np.abs(a)
    if ord == math.inf:
        return a.max(axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return a.min(axis=axis, keepdims=keepdims)
    if ord == 0:
        return (a != 0).sum(axis=axis, keepdims=keepdims).astype(a.dtype)
    return (a ** ord).sum(axis=axis, keepdims=keepdims) ** (1 / ord)


@pytest.mark.parametrize("ord", ORDS + [0])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_vector_norm_matches_numpy(ord, dim, keepdim, device, rng, leaf):
    x = leaf(rng, 2, 3, 4, device=device, requires_grad=False)
    y = tg.linalg.vector_norm(x, ord, dim, keepdim)
    expected = numpy_norm(host(x), ord, dim, keepdim)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12)


@pytest.mark.parametrize("ord", ORDS)
def test_vector_norm_gradcheck(ord, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, away_from=(0,))
    for dim in (None, 1):
        f = lambda x: tg.linalg.vector_norm(x, ord, dim)   # noqa: E731
        assert gradcheck(f, (x,))
        assert gradgradcheck(f, (x,))


def test_two_norm_gradient_is_x_over_norm(device, rng, leaf):
    x = leaf(rng, 5, device=device)
    x.norm().backward()
    a = host(x)
    np.testing.assert_allclose(host(x.grad), a / np.sqrt((a * a).sum()), rtol=1e-12)


@pytest.mark.parametrize("ord", ORDS)
def test_gradient_at_zero_is_zero_not_nan(ord, device):
    """A zero row next to a non-zero one: the zero row's gradient is 0 (PyTorch's subgradient),
    and the other row's is unaffected."""
    x = tg.tensor([[0.0, 0.0, 0.0], [3.0, -4.0, 1.0]], dtype=tg.float64, device=device,
                  requires_grad=True)
    norms = tg.linalg.vector_norm(x, ord, dim=1)
    assert host(norms)[0] == 0
    norms.backward(tg.tensor([1.0, 2.0], dtype=tg.float64, device=device))
    grad = host(x.grad)
    assert np.isfinite(grad).all()
    np.testing.assert_array_equal(grad[0], 0)
    assert np.abs(grad[1]).sum() > 0


def test_gradient_penalty_at_zero_gradient_is_finite(device):
    """WGAN-GP: (||grad D(x)|| - 1)^2 where grad D(x) = 0 (D constant in x) differentiates
    twice without nan."""
    w = tg.tensor([0.0, 0.0], dtype=tg.float64, device=device, requires_grad=True)
    x = tg.tensor([[1.0, 2.0]], dtype=tg.float64, device=device, requires_grad=True)
    (grad_x,) = tg.autograd.grad((x * w).sum(), x, create_graph=True)
    penalty = ((grad_x.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    assert penalty.item() == 1.0
    assert np.isfinite(host(w.grad)).all()


def test_inf_norm_ties_share_the_gradient(device):
    x = tg.tensor([3.0, -3.0, 1.0], dtype=tg.float64, device=device, requires_grad=True)
    tg.linalg.vector_norm(x, math.inf).backward()
    np.testing.assert_allclose(host(x.grad), [0.5, -0.5, 0.0])


@pytest.mark.parametrize("p", ["fro", 2, 1, math.inf])
def test_norm_method_and_function(p, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, requires_grad=False)
    ord = 2 if p == "fro" else p
    np.testing.assert_allclose(host(x.norm(p)), numpy_norm(host(x), ord), rtol=1e-12)
    np.testing.assert_allclose(host(tg.norm(x, p, dim=0, keepdim=True)),
                               numpy_norm(host(x), ord, 0, True), rtol=1e-12)


def test_norm_float32_stays_float32(device):
    x = tg.ones(4, device=device)
    assert x.norm().dtype == tg.float32 and x.norm().item() == 2.0


def test_half_norm_accumulates_without_overflow(device):
    """|x|^4 = 160000 is beyond float16's 65504; the sum is taken in float32, as PyTorch."""
    x = tg.full((4,), 20.0, dtype=tg.float16, device=device)
    y = tg.linalg.vector_norm(x, 4)
    assert y.dtype == tg.float16 and abs(y.item() - 20 * 4 ** 0.25) < 0.01


def test_complex_norm_is_the_norm_of_the_moduli(device):
    """|z| first, so the norm is real; d||z||_2 / d conj(z) gives PyTorch's grad z / ||z||."""
    z = tg.tensor([3 + 4j, -12j, 0j], dtype=tg.complex128, device=device, requires_grad=True)
    y = tg.norm(z)
    assert y.dtype == tg.float64 and y.item() == 13.0
    y.backward()
    np.testing.assert_allclose(host(z.grad), np.array([3 + 4j, -12j, 0j]) / 13, rtol=1e-12)
    assert tg.dist(z, tg.zeros_like(z), 1).item() == 17.0


def test_zero_norm_counts_and_has_a_zero_gradient(device):
    """ord 0 is a step function: PyTorch keeps it in the graph with gradient 0."""
    x = tg.tensor([[0.0, 2.0], [-1.0, 3.0]], dtype=tg.float64, device=device,
                  requires_grad=True)
    y = tg.linalg.vector_norm(x, 0, dim=1)
    assert y.requires_grad
    np.testing.assert_array_equal(host(y), [1.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.zeros((2, 2)))


def test_nuclear_norm_sums_the_singular_values(device, rng, leaf):
    x = leaf(rng, 2, 3, 4, device=device)
    y = tg.norm(x, "nuc", dim=(1, 2))
    expected = np.linalg.svd(host(x), compute_uv=False).sum(-1)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12)
    assert gradcheck(lambda a: tg.norm(a[0], "nuc"), (x,))


def test_norm_errors():
    x = tg.ones(3)
    with pytest.raises(RuntimeError, match="2 dimensions"):
        x.norm("nuc")
    with pytest.raises(RuntimeError, match="floating point"):
        tg.linalg.vector_norm(tg.ones(3, dtype=tg.int64))


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, -1, math.inf])
def test_matches_torch(ord, rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((3, 5))
    a[1] = 0
    x = tg.tensor(a, dtype=tg.float64, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    g = rng.standard_normal(3)
    tg.linalg.vector_norm(x, ord, dim=1).backward(tg.tensor(g))
    torch.linalg.vector_norm(t, ord, dim=1).backward(torch.tensor(g))
    np.testing.assert_allclose(host(x.grad), t.grad.cpu().numpy(), rtol=1e-12, atol=1e-15)
