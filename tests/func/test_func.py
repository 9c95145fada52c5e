"""tg.func transforms: closed forms, composition, functional_call, and torch.func values."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.func import (
    functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp, stack_module_state,
    vjp, vmap)
from tinygen.nn.utils.stateless import functional_call as stateless_call


def t64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


RNG = np.random.default_rng(0)
X = RNG.standard_normal(4)
A = RNG.standard_normal((3, 4))
S = RNG.standard_normal((4, 4))


def test_grad_closed_form_and_second_derivative():
    x = t64(X)
    g = grad(lambda x: (x ** 3).sum())(x)
    np.testing.assert_allclose(g.numpy(), 3 * X ** 2, rtol=1e-12)
    assert not g.requires_grad
    d2 = grad(grad(lambda x: x ** 3))(t64(1.5))
    assert abs(d2.item() - 9.0) < 1e-12
    g, v = grad_and_value(lambda x: (x ** 2).sum())(x)
    np.testing.assert_allclose(v.item(), (X ** 2).sum())


def test_grad_argnums_pytree_and_aux():
    fn = lambda p, y: ((p["w"] * y).sum() + p["b"] ** 2, "aux")  # noqa: E731
    p = {"w": t64(X), "b": t64(2.0)}
    (gp, gy), aux = grad(fn, argnums=(0, 1), has_aux=True)(p, t64(X[::-1].copy()))
    assert aux == "aux" and set(gp) == {"w", "b"}
    np.testing.assert_allclose(gp["w"].numpy(), X[::-1])
    np.testing.assert_allclose(gy.numpy(), X)
    assert abs(gp["b"].item() - 4.0) < 1e-12


def test_grad_errors():
    with pytest.raises(RuntimeError, match="scalar Tensor, got tensor with 1 dims"):
        grad(lambda x: x * 2)(t64(X))
    with pytest.raises(RuntimeError, match="only 1 positional inputs"):
        grad(lambda x: x.sum(), argnums=1)(t64(X))


def test_jacrev_jacfwd_linear_and_hessian_quadratic():
    a = t64(A)
    for jac in (jacrev, jacfwd):
        np.testing.assert_allclose(jac(lambda x: a @ x)(t64(X)).numpy(), A, rtol=1e-12)
    quad = lambda x: x @ (t64(S) @ x)  # noqa: E731
    np.testing.assert_allclose(hessian(quad)(t64(X)).numpy(), S + S.T, atol=1e-12)
    np.testing.assert_allclose(jacrev(jacrev(quad))(t64(X)).numpy(), S + S.T, atol=1e-12)


def test_jacrev_argnums_tuple_shapes():
    jx, jy = jacrev(lambda x, y: x[:, None] * y, argnums=(0, 1))(t64(X[:2]), t64(X[:3]))
    assert tuple(jx.shape) == (2, 3, 2) and tuple(jy.shape) == (2, 3, 3)
    np.testing.assert_allclose(jx.numpy()[1, 2, 1], X[2])


def test_vjp_and_jvp():
    x = t64(X)
    out, fn = vjp(lambda x: x.sin(), x)
    (g,) = fn(t64(np.ones(4)))
    np.testing.assert_allclose(g.numpy(), np.cos(X), rtol=1e-12)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        fn(t64(np.ones(3)))
    out, tangent = jvp(lambda x: x.sin() * 2, (x,), (t64(np.ones(4)),))
    np.testing.assert_allclose(tangent.numpy(), 2 * np.cos(X), rtol=1e-12)
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(lambda x: x, x, (x,))


def test_grad_keeps_graph_for_inputs_requiring_grad():
    x = t64(X, requires_grad=True)
    g = grad(lambda x: (x ** 3).sum())(x)
    (gg,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * X, rtol=1e-12)
    assert tg.autograd.gradcheck(lambda x: grad(lambda y: (y.sin() * y).sum())(x), (x,))


def test_per_sample_grads_match_loop_of_backward():
    tg.manual_seed(0)
    model = nn.Linear(3, 2).double()
    data, target = t64(RNG.standard_normal((5, 3))), t64(RNG.standard_normal((5, 2)))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(params, x, y):
        out = functional_call(model, params, (x.unsqueeze(0),))
        return ((out - y.unsqueeze(0)) ** 2).mean()

    per = vmap(grad(loss), in_dims=(None, 0, 0))(params, data, target)
    for i in range(5):
        model.zero_grad()
        ((model(data[i:i + 1]) - target[i:i + 1]) ** 2).mean().backward()
        for k, p in model.named_parameters():
            np.testing.assert_allclose(per[k][i].numpy(), p.grad.numpy(), rtol=1e-12)


def test_ensembling_with_stack_module_state():
    tg.manual_seed(1)
    models = [nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
              for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert tuple(params["0.weight"].shape) == (3, 4, 3) and params["0.weight"].is_leaf
    x = t64(RNG.standard_normal((5, 3)))
    base = models[0]

    def run(p, b, x):
        return functional_call(base, (p, b), (x,))

    out = vmap(run, in_dims=(0, 0, None))(params, buffers, x)
    for i, m in enumerate(models):
        np.testing.assert_allclose(out[i].detach().numpy(), m(x).detach().numpy(), rtol=1e-12)
    out.sum().backward()
    assert params["2.bias"].grad is not None


def test_functional_call_restores_and_routes_gradients():
    model = nn.Linear(2, 1).double()
    w0 = model.weight
    w = t64([[1.0, 2.0]], requires_grad=True)
    out = stateless_call(model, {"weight": w}, (t64([[3.0, 4.0]]),))
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[3.0, 4.0]])
    assert model.weight is w0 and w0.grad is None
    with pytest.raises((RuntimeError, ValueError)):        # restored also on errors
        functional_call(model, {"weight": t64(np.ones((1, 5)))}, (t64([[1.0, 2.0]]),))
    assert model.weight is w0
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(model, {"weight": w}, (t64([[1.0, 2.0]]),), strict=True)
    with pytest.raises(ValueError, match="multiple dictionaries"):
        functional_call(model, ({"weight": w}, {"weight": w}), (t64([[1.0, 2.0]]),))


def test_functional_call_tied_weights():
    m = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)).double()
    m[1].weight = m[0].weight
    eye = t64(np.eye(2))
    out = functional_call(m, {"0.weight": eye}, (t64([[1.0, 2.0]]),))
    np.testing.assert_allclose(out.numpy(), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="tied"):
        functional_call(m, {"0.weight": eye, "1.weight": eye * 2}, (t64([[1.0, 2.0]]),))


def test_against_torch_func():
    torch = pytest.importorskip("torch")
    f_tg = lambda x, y: (x.sin() * y).sum() + (x * x).sum() * y[0]  # noqa: E731
    f_t = lambda x, y: (x.sin() * y).sum() + (x * x).sum() * y[0]  # noqa: E731
    y = X[::-1].copy()
    for ours, theirs in ((grad(f_tg, argnums=(0, 1)), torch.func.grad(f_t, argnums=(0, 1))),
                         (hessian(f_tg), torch.func.hessian(f_t))):
        a = ours(t64(X), t64(y))
        b = theirs(torch.tensor(X), torch.tensor(y))
        a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
        for u, v in zip(a, b):
            np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-10)


def test_functional_call_gradcheck():
    model = nn.Linear(3, 2).double()
    x = t64(RNG.standard_normal((4, 3)))
    w = t64(RNG.standard_normal((2, 3)), requires_grad=True)
    b = t64(RNG.standard_normal(2), requires_grad=True)
    fn = lambda w, b: functional_call(model, {"weight": w, "bias": b}, x).tanh()  # noqa: E731
    assert tg.autograd.gradcheck(fn, (w, b))
    assert tg.autograd.gradgradcheck(fn, (w, b))
