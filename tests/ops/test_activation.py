"""gelu (exact and tanh), leaky_relu, relu(inplace) and silu: values against closed forms and
PyTorch, first and second derivatives against finite differences, in-place forms."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


def gelu_ref(a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))
    return 0.5 * a * (1 + np.vectorize(math.erf)(a / math.sqrt(2)))


ACTIVATIONS = [
    ("gelu", F.gelu, lambda a: gelu_ref(a, "none")),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda a: gelu_ref(a, "tanh")),
    ("leaky_relu", F.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a)),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda a: np.where(a > 0, a, 0.2 * a)),
    ("relu", F.relu, lambda a: np.maximum(a, 0)),
    ("silu", F.silu, lambda a: a / (1 + np.exp(-a))),
]
IDS = [a[0] for a in ACTIVATIONS]


@pytest.mark.parametrize("name, fn, ref", ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_values(name, fn, ref, dtype, device, rng):
    a = rng.uniform(-5, 5, size=(3, 7)).astype(dtype)
    y = fn(tg.tensor(a, device=device))
    assert y.dtype == dtype
    np.testing.assert_allclose(host(y), ref(a.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, fn, ref", ACTIVATIONS, ids=IDS)
def test_gradients(name, fn, ref, device, rng, leaf):
    x = leaf(rng, 4, 5, device=device, low=-3, high=3, away_from=(0,))
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_third_derivative(approximate, rng, leaf):
    """gelu'' is written in tensor ops, so even the third derivative is exact."""
    x = leaf(rng, 6, low=-3, high=3)

    def second(x):
        (g,) = tg.autograd.grad(F.gelu(x, approximate).sum(), [x], create_graph=True)
        return g
    assert gradgradcheck(second, (x,))


@pytest.mark.parametrize("name, fn, ref", ACTIVATIONS[:4], ids=IDS[:4])
def test_fused_backward_equals_composite(name, fn, ref, rng, leaf):
    """The backward without create_graph (fused kernel) and with it (tensor ops) agree."""
    x = leaf(rng, 5, 6, low=-3, high=3, away_from=(0,))
    g = tg.tensor(rng.standard_normal((5, 6)))
    (fused,) = tg.autograd.grad(fn(x), [x], g)
    (composite,) = tg.autograd.grad(fn(x), [x], g, create_graph=True)
    np.testing.assert_allclose(host(fused), host(composite), rtol=1e-10, atol=1e-12)


def test_leaky_relu_slope_at_zero():
    """At x == 0 the derivative is negative_slope, as in PyTorch."""
    x = tg.zeros(3, requires_grad=True)
    F.leaky_relu(x, 0.3).sum().backward()
    np.testing.assert_allclose(host(x.grad), [0.3, 0.3, 0.3])


@pytest.mark.parametrize("create_graph", [False, True], ids=["fused", "composite"])
def test_relu_gradient_selects_as_pytorch(create_graph, device):
    """PyTorch's threshold_backward: 0 where relu(x) <= 0, even under an infinite gradient (not
    inf * 0 = nan), and a nan input passes its gradient; with and without a graph."""
    x = tg.tensor([-1.0, 0.0, 2.0, float("nan"), -3.0, 4.0], device=device, requires_grad=True)
    g = tg.tensor([1.0, 1.0, 1.0, 7.0, float("inf"), float("inf")], device=device)
    (grad,) = tg.autograd.grad(F.relu(x), [x], g, create_graph=create_graph)
    np.testing.assert_array_equal(host(grad), [0.0, 0.0, 1.0, 7.0, 0.0, float("inf")])


@pytest.mark.parametrize("fn", [F.relu, F.leaky_relu, F.silu], ids=["relu", "leaky", "silu"])
def test_inplace_matches_out_of_place(fn, rng):
    a = rng.standard_normal((4, 3))
    x = tg.tensor(a, requires_grad=True)
    expected = fn(x * 1)
    (g_expected,) = tg.autograd.grad(expected.sum(), [x])
    y = x * 1
    out = fn(y, inplace=True)
    assert out is y
    np.testing.assert_allclose(host(y), host(expected))
    (g,) = tg.autograd.grad(out.sum(), [x])
    np.testing.assert_allclose(host(g), host(g_expected))


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(tg.ones(2), approximate="fast")


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((6, 5)).astype(np.float32) * 3
    tf = torch.nn.functional
    cases = [(F.gelu, tf.gelu),
             (lambda x: F.gelu(x, "tanh"), lambda t: tf.gelu(t, approximate="tanh")),
             (lambda x: F.leaky_relu(x, 0.2), lambda t: tf.leaky_relu(t, 0.2)),
             (F.silu, tf.silu)]
    g = rng.standard_normal((6, 5)).astype(np.float32)
    for ours, theirs in cases:
        x = tg.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        y, ty = ours(x), theirs(t)
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(y), ty.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(host(x.grad), t.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)
