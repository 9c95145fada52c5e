"""tg.autograd.functional: jacobian, hessian, vjp, jvp, vhp, hvp against closed forms, their
nesting of tuples and tensors and strict-mode errors, and against torch.autograd.functional."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import functional as F

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
S = RNG.standard_normal((4, 4))
X, Y = RNG.standard_normal(4), RNG.standard_normal((2, 3))


def t64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_closed_forms():
    a, s = t64(A), t64(S)
    np.testing.assert_allclose(F.jacobian(lambda x: a @ x, t64(X)).numpy(), A, rtol=1e-14)
    hess = F.hessian(lambda x: x @ s @ x, t64(X))
    np.testing.assert_allclose(hess.numpy(), S + S.T, rtol=1e-13)
    v = RNG.standard_normal(4)
    out, prod = F.hvp(lambda x: x @ s @ x, t64(X), t64(v))
    np.testing.assert_allclose(out.numpy(), X @ S @ X, rtol=1e-13)
    np.testing.assert_allclose(prod.numpy(), (S + S.T) @ v, rtol=1e-13)
    _, prod = F.vhp(lambda x: x @ s @ x, t64(X), t64(v))
    np.testing.assert_allclose(prod.numpy(), v @ (S + S.T), rtol=1e-13)
    u = RNG.standard_normal(3)
    _, prod = F.vjp(lambda x: a @ x, t64(X), t64(u))
    np.testing.assert_allclose(prod.numpy(), u @ A, rtol=1e-13)
    _, prod = F.jvp(lambda x: a @ x.tanh(), t64(X), t64(v))
    np.testing.assert_allclose(prod.numpy(), A @ ((1 - np.tanh(X) ** 2) * v), rtol=1e-13)


def _two_out(x, y):
    return x.exp().sum() * y, (x * x)[:2]


def test_structures():
    x, y = t64(X), t64(Y)
    assert isinstance(F.jacobian(lambda x: x * 2, x), tg.Tensor)
    jac = F.jacobian(_two_out, (x, y))
    assert isinstance(jac, tuple) and all(isinstance(row, tuple) for row in jac)
    assert [[tuple(j.shape) for j in row] for row in jac] == [
        [(2, 3, 4), (2, 3, 2, 3)], [(2, 4), (2, 2, 3)]]
    jac = F.jacobian(lambda x: (x, x.sum()), x)
    assert isinstance(jac, tuple) and isinstance(jac[0], tg.Tensor)
    jac = F.jacobian(lambda x, y: x.sum() * y, (x, y))
    assert isinstance(jac, tuple) and isinstance(jac[1], tg.Tensor)
    assert tuple(jac[1].shape) == (2, 3, 2, 3)
    hess = F.hessian(lambda x, y: (x.sum() * y).sum(), (x, y))
    assert tuple(hess[0][1].shape) == (4, 2, 3)
    np.testing.assert_allclose(hess[0][1].numpy(), np.ones((4, 2, 3)))
    np.testing.assert_allclose(hess[1][1].numpy(), np.zeros((2, 3, 2, 3)))
    out, grads = F.vjp(lambda x: x.sum(), x)           # v may be omitted for one element
    assert isinstance(grads, tg.Tensor) and not grads.requires_grad
    np.testing.assert_allclose(grads.numpy(), np.ones(4))


def test_create_graph_and_independent_inputs():
    x = t64(X, requires_grad=True)
    _, g = F.vjp(lambda x: (x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    (gx,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gx.numpy(), 6 * X, rtol=1e-13)
    jac = F.jacobian(lambda x, y: x * 2, (t64(X), t64(Y)))
    np.testing.assert_allclose(jac[1].numpy(), np.zeros((4, 2, 3)))
    _, g = F.vjp(lambda x: t64(X), t64(X), t64(X))    # an output that needs no grad: zeros
    np.testing.assert_allclose(g.numpy(), np.zeros(4))


def test_errors():
    x, y = t64(X), t64(Y)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.jacobian(lambda x, y: x * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.vjp(lambda x, y: x.sum(), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        F.vjp(lambda x: t64(X), x, t64(X), strict=True)
    with pytest.raises(RuntimeError, match="can only be None"):
        F.vjp(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match="can only be None"):
        F.jvp(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        F.jvp(lambda x: x * 2, x, t64([1.0]))
    with pytest.raises(RuntimeError, match="invalid length"):
        F.vjp(lambda x: (x, x), x, (t64(X),))
    with pytest.raises(RuntimeError, match="single element"):
        F.hessian(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match="single Tensor"):
        F.vhp(lambda x: (x.sum(), x.sum()), x, x)
    with pytest.raises(TypeError, match="index 1"):
        F.jacobian(lambda x, y: x, (x, 3))
    with pytest.raises(ValueError, match="strategy"):
        F.jacobian(lambda x: x, x, strategy="sideways")
    with pytest.raises(NotImplementedError):
        F.jacobian(lambda x: x, x, strategy="forward-mode")
    with pytest.raises(RuntimeError, match="strict"):
        F.jacobian(lambda x: x, x, strict=True, vectorize=True)


def _compare(ours, theirs):
    """The same nesting of tuples and tensors, and the same values."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _compare(a, b)
        return
    assert isinstance(ours, tg.Tensor)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12,
                               atol=1e-14)


def test_against_torch():
    torch = pytest.importorskip("torch")
    fns = {  # tinygen and torch share these methods
        "one": lambda x: (x.sin() * x).sum(),
        "vec": lambda x: x.tanh() * x[0],
        "two": lambda x, y: (x.exp().sum() * y, (x * x)[:2]),
        "scalar2": lambda x, y: (x.sin().sum() * y * y).sum(),
    }

    def args(lib, names):
        values = {"x": X, "y": Y}
        made = tuple(lib.tensor(values[n], dtype=lib.float64) for n in names)
        return made if len(names) > 1 else made[0]

    def vs(lib, shapes):
        made = tuple(lib.tensor(RNG_V[i][: int(np.prod(s))].reshape(s), dtype=lib.float64)
                     for i, s in enumerate(shapes))
        return made if len(made) > 1 else made[0]

    RNG_V = np.random.default_rng(1).standard_normal((3, 12))
    calls = [
        ("jacobian", "vec", "x", None), ("jacobian", "two", "xy", None),
        ("jacobian", "one", "x", None), ("hessian", "one", "x", None),
        ("hessian", "scalar2", "xy", None), ("vjp", "two", "xy", [(2, 3), (2,)]),
        ("vjp", "one", "x", None), ("jvp", "two", "xy", [(4,), (2, 3)]),
        ("jvp", "vec", "x", [(4,)]), ("vhp", "scalar2", "xy", [(4,), (2, 3)]),
        ("hvp", "one", "x", [(4,)])]
    for api, fn, names, v_shapes in calls:
        extra_t = () if v_shapes is None else (vs(torch, v_shapes),)
        extra_g = () if v_shapes is None else (vs(tg, v_shapes),)
        theirs = getattr(torch.autograd.functional, api)(fns[fn], args(torch, names), *extra_t)
        ours = getattr(F, api)(fns[fn], args(tg, names), *extra_g)
        _compare(ours, theirs)
