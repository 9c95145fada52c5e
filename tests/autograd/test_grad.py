"""``tg.autograd.grad``: returned gradients, grad_outputs, allow_unused, non-leaf inputs, and
higher derivatives (create_graph) against closed forms and finite differences."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen.autograd import grad, gradcheck, gradgradcheck


def test_grad_returns_gradients_and_leaves_dot_grad_alone(rng, device):
    x, w = leaf64(rng, 3, device=device), leaf64(rng, 3, device=device)
    w.grad = tg.ones(3, dtype=tg.float64, device=device)
    gx, gw = grad((x * w).sum(), (x, w))
    np.testing.assert_allclose(host(gx), host(w))
    np.testing.assert_allclose(host(gw), host(x))
    assert x.grad is None
    np.testing.assert_array_equal(host(w.grad), np.ones(3))


def test_grad_of_a_single_input_is_a_one_tuple_as_in_pytorch(rng):
    x = leaf64(rng, 3)
    result = grad((x * x).sum(), x)
    assert isinstance(result, tuple) and len(result) == 1
    np.testing.assert_allclose(result[0].cpu().numpy(), 2 * host(x))


def test_grad_with_grad_outputs(rng, device):
    x = leaf64(rng, 2, 3, device=device)
    v = rng.standard_normal((2, 3))
    (g,) = grad(x.sin(), x, grad_outputs=tg.tensor(v, dtype=tg.float64, device=device))
    np.testing.assert_allclose(host(g), np.cos(host(x)) * v)


def test_grad_with_several_outputs_and_grad_outputs(rng):
    x = leaf64(rng, 3)
    v1, v2 = rng.standard_normal(3), rng.standard_normal(())
    (g,) = grad([x * 2.0, (x * x).sum()], x,
             grad_outputs=[tg.tensor(v1, dtype=tg.float64), tg.tensor(v2, dtype=tg.float64)])
    np.testing.assert_allclose(g.cpu().numpy(), 2 * v1 + 2 * host(x) * v2)


def test_grad_outputs_of_wrong_count_is_an_error(rng):
    x = leaf64(rng, 3)
    with pytest.raises(ValueError, match="1 outputs but 2 gradients"):
        grad(x * 2.0, x, grad_outputs=[tg.ones(3), tg.ones(3)])


def test_unused_input_is_an_error_unless_allowed(rng):
    x, unused = leaf64(rng, 3), leaf64(rng, 2)
    with pytest.raises(RuntimeError, match=r"input 1 .*\(shape \(2,\)\).*allow_unused=True"):
        grad((x * x).sum(), (x, unused))
    gx, gu = grad((x * x).sum(), (x, unused), allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.cpu().numpy(), 2 * host(x))


def test_input_that_does_not_require_grad_is_an_error(rng):
    x = leaf64(rng, 3)
    with pytest.raises(RuntimeError, match="input 1 of grad.*does not require grad"):
        grad((x * 2.0).sum(), (x, tg.ones(3)))


def test_grad_with_respect_to_non_leaf_tensors(rng):
    x = leaf64(rng, 3)
    h = x * 3.0
    k = h.tanh()
    out = (k * h).sum()                       # h reaches out directly and through k
    gh, gk, gx = grad(out, (h, k, x))
    a = host(h)
    np.testing.assert_allclose(gk.cpu().numpy(), a)
    np.testing.assert_allclose(gh.cpu().numpy(), np.tanh(a) + a * (1 - np.tanh(a) ** 2))
    np.testing.assert_allclose(gx.cpu().numpy(), 3 * gh.cpu().numpy())
    assert x.grad is None and h.grad is None


def test_grad_of_an_intermediate_does_not_run_the_rest_of_the_graph(rng):
    x = leaf64(rng, 3)
    h = x.exp()
    seen = []
    x.register_hook(lambda g: seen.append(g))
    (g,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(g.cpu().numpy(), 2 * host(h))
    assert seen == []


def test_grad_runs_the_hooks_of_leaves_and_non_leaves(rng):
    x = leaf64(rng, 3)
    x.register_hook(lambda g: g * 10.0)
    y = x * 2.0
    y.register_hook(lambda g: g * -1.0)
    gx, gy = grad((y * y).sum(), (x, y))
    np.testing.assert_allclose(gy.cpu().numpy(), -2 * host(y))
    np.testing.assert_allclose(gx.cpu().numpy(), 10 * 2 * -2 * host(y))
    assert x.grad is None


def test_create_graph_false_gives_constant_gradients(rng):
    x = leaf64(rng, 3)
    (g,) = grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_backward_with_create_graph_makes_dot_grad_differentiable(rng):
    x = leaf64(rng, 3)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.cpu().numpy(), 6 * host(x))


# Higher derivatives against closed forms

def test_third_derivative_of_tanh(rng, device):
    x = leaf64(rng, 5, device=device)
    t = np.tanh(host(x))
    (d1,) = grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = grad(d1.sum(), x, create_graph=True)
    (d3,) = grad(d2.sum(), x)
    np.testing.assert_allclose(host(d1), 1 - t ** 2)
    np.testing.assert_allclose(host(d2), -2 * t * (1 - t ** 2))
    np.testing.assert_allclose(host(d3), (6 * t ** 2 - 2) * (1 - t ** 2))


@pytest.mark.parametrize("scalar", [True, False], ids=["0-d", "vector"])
def test_derivatives_of_x_cubed(rng, scalar):
    x = tg.tensor(rng.standard_normal(() if scalar else (4,)), dtype=tg.float64,
                  requires_grad=True)
    a = host(x)
    (d1,) = grad((x ** 3).sum(), x, create_graph=True)
    (d2,) = grad(d1.sum(), x, create_graph=True)
    (d3,) = grad(d2.sum(), x)
    np.testing.assert_allclose(host(d1), 3 * a ** 2)
    np.testing.assert_allclose(host(d2), 6 * a)
    np.testing.assert_allclose(host(d3), np.full_like(a, 6.0))


def test_mixed_partials_of_x_y_y():
    x = tg.tensor(1.5, dtype=tg.float64, requires_grad=True)
    y = tg.tensor(-0.7, dtype=tg.float64, requires_grad=True)
    f = x * y * y
    fx, fy = grad(f, (x, y), create_graph=True)
    assert (fx.item(), fy.item()) == pytest.approx((0.49, 2 * 1.5 * -0.7))
    fxx, fxy = grad(fx, (x, y), retain_graph=True, allow_unused=True)
    fyx, fyy = grad(fy, (x, y))
    assert fxx is None                            # fx = y*y does not depend on x
    assert fxy.item() == pytest.approx(2 * -0.7)
    assert fyx.item() == pytest.approx(fxy.item())  # Schwarz: the mixed partials agree
    assert fyy.item() == pytest.approx(2 * 1.5)


def _critic(x, w1, w2):
    return (x @ w1).tanh() @ w2                       # (B, D) -> (B, 1)


def _gradient_penalty(x, w1, w2):
    """WGAN-GP: mean over the batch of (||d critic / d x||_2 - 1)^2, differentiable in w."""
    scores = _critic(x, w1, w2)
    (g,) = grad(scores.sum(), x, create_graph=True)       # (B, D): one row per sample
    norms = ((g * g).sum(1) + 1e-12).sqrt()
    return ((norms - 1) ** 2).mean()


def test_gradient_penalty_gradient_matches_finite_differences(rng):
    x = leaf64(rng, 4, 3)
    w1, w2 = leaf64(rng, 3, 5), leaf64(rng, 5, 1)
    penalty = _gradient_penalty(x, w1, w2)
    penalty.backward()
    eps = 1e-6
    for w in (w1, w2):
        numeric = np.zeros(w.shape)
        flat = w.array.reshape(-1)
        for k in range(flat.size):
            old = flat[k]
            values = []
            for step in (eps, -eps):
                flat[k] = old + step
                values.append(_gradient_penalty(x, w1, w2).item())
            flat[k] = old
            numeric.reshape(-1)[k] = (values[0] - values[1]) / (2 * eps)
        np.testing.assert_allclose(w.grad.cpu().numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_gradient_penalty_passes_gradcheck(rng):
    x = leaf64(rng, 3, 2)
    assert gradcheck(_gradient_penalty, (x, leaf64(rng, 2, 4), leaf64(rng, 4, 1)))


def test_gradient_penalty_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    x, w1, w2 = (rng.standard_normal(s) for s in [(4, 3), (3, 5), (5, 1)])
    ours = [tg.tensor(a, dtype=tg.float64, requires_grad=True) for a in (x, w1, w2)]
    _gradient_penalty(*ours).backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w1, w2)]
    scores = torch.tanh(theirs[0] @ theirs[1]) @ theirs[2]
    (g,) = torch.autograd.grad(scores.sum(), theirs[0], create_graph=True)
    (((g * g).sum(1) + 1e-12).sqrt() - 1).pow(2).mean().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(host(a.grad), host(b.grad), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [
    lambda x, y: x * y * y,
    lambda x, y: (x @ y.T).tanh(),
    lambda x, y: (x.exp() + y).softmax(-1) * y,
    lambda x, y: ((x - y) ** 2).sum(1).sqrt(),
], ids=["xyy", "matmul-tanh", "softmax", "distance"])
def test_second_derivatives_pass_gradgradcheck(rng, f):
    assert gradgradcheck(f, (leaf64(rng, 2, 3), leaf64(rng, 2, 3)))
