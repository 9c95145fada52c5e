"""Forward-mode AD (tinygen.autograd.forward_ad) and the tg.func transforms built on it:
tangents against central finite differences and torch's forward AD, forward-over-reverse
Hessian-vector products, torch's errors, jacfwd == jacrev, linearize."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.autograd.forward_ad as fwAD
import tinygen.nn.functional as F
from tinygen import func as tf


def _rand(*shape, seed=0):
    return np.random.default_rng(seed + 7 * len(shape)).standard_normal(shape)


# name: (function of tinygen or torch module and inputs, input shapes). Inputs are kept off
# kinks and positive where a log or sqrt needs it (see _inputs).
def _conv(m, x, w, b):
    return m.nn.functional.conv2d(x, w, b, padding=1)


CASES = {
    "add_sub_scalars": (lambda m, x, y: (x + y) - 1.5 + (2 - y), [(2, 3), (3,)]),
    "mul_div": (lambda m, x, y: x * y / (y * y + 1) * 3 / (1 + x * x), [(2, 3), (2, 1)]),
    "pow": (lambda m, x, y: (x * x + 1) ** (y * 0.3) + x ** 3 + 2 ** x, [(2, 3), (2, 3)]),
    "unary": (lambda m, x: (x.exp() + (x * x + 1).log() + x.tanh() + x.sigmoid() + x.relu()
                            + x.abs() + (x * x + 1).sqrt() + x.sin() * x.cos() - x), [(2, 4)]),
    "gelu": (lambda m, x: m.nn.functional.gelu(x) + m.nn.functional.gelu(x, approximate="tanh"),
             [(2, 4)]),
    "softmax": (lambda m, x: x.softmax(-1) * 2 + x.log_softmax(0), [(3, 4)]),
    "matmul_linear": (lambda m, x, w, b: m.nn.functional.linear(x, w, b) + (x @ w.T) @ w @ w.T,
                      [(2, 3), (4, 3), (4,)]),
    "reductions": (lambda m, x: x.sum() + x.mean(1) + x.sum(0, keepdim=True).expand(2, 3).sum(1),
                   [(2, 3)]),
    "shapes": (lambda m, x: x.reshape(3, 2).transpose(0, 1) + x.view(6).view(2, 3)[:, [2, 0, 1]]
               + x.permute(1, 0).T + x[1] - x[:, 1:2], [(2, 3)]),
    "cat_stack": (lambda m, x, y: m.cat([x, y], 1).sum(1) + m.stack([x, x * y], 0)[1, :, 0],
                  [(2, 3), (2, 3)]),
    "where": (lambda m, x, y: m.where(x > 0, x * y, 0.5) + m.where(y > 0, 1.0, x), [(3,), (3,)]),
    "conv2d": (_conv, [(1, 2, 4, 4), (3, 2, 3, 3), (3,)]),
    # no rule: the double-vjp fallback on the op (and the cases in FALLBACK)
    "fallback": (lambda m, x: m.nn.functional.layer_norm(x, (4,)) + x.clamp(-0.5, 0.5)
                 + x.amax(1, keepdim=True), [(3, 4)]),
    # step functions: the fallback's J^T u does not depend on u, so the tangent is 0
    "steps": (lambda m, x: m.ceil(x) + x.sign() * x + m.div(x, 0.7, rounding_mode="floor")
              + x.round(decimals=1), [(3, 4)]),
    # its backward reads the sign of its incoming gradient: a rule of its own
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x, 1) + m.logcumsumexp(x * 0.5, 0), [(3, 4)]),
    # the running statistics are updated in place with the batch's, tangent left out
    "batch_norm_train": (lambda m, x: m.nn.functional.batch_norm(
        x, m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64), training=True), [(4, 3)]),
    # an input that does not require grad used to take a graph-free path, losing its tangent
    "as_strided": (lambda m, x: x.as_strided((2, 2), (1, 2), 1) + m.as_strided(x, (2, 2), (2, 1)),
                   [(2, 3)]),
}


def _inputs(shapes, seed=0):
    return [_rand(*s, seed=seed + i) for i, s in enumerate(shapes)]


def _tg_jvp(fn, arrays, tangents):
    with fwAD.dual_level():
        duals = [fwAD.make_dual(tg.tensor(a), tg.tensor(t)) for a, t in zip(arrays, tangents)]
        out = fwAD.unpack_dual(fn(tg, *duals))
    return out.primal.numpy(), out.tangent.numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_finite_differences(name):
    fn, shapes = CASES[name]
    arrays, tangents = _inputs(shapes), _inputs(shapes, seed=10)
    value, tangent = _tg_jvp(fn, arrays, tangents)
    eps = 1e-6
    shifted = [fn(tg, *[tg.tensor(a + s * eps * t) for a, t in zip(arrays, tangents)]).numpy()
               for s in (1, -1)]
    assert value.shape == tangent.shape
    np.testing.assert_allclose(tangent, (shifted[0] - shifted[1]) / (2 * eps), rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, shapes = CASES[name]
    arrays, tangents = _inputs(shapes), _inputs(shapes, seed=10)
    value, tangent = _tg_jvp(fn, arrays, tangents)
    with torch.autograd.forward_ad.dual_level():
        duals = [torch.autograd.forward_ad.make_dual(torch.tensor(a), torch.tensor(t))
                 for a, t in zip(arrays, tangents)]
        out = torch.autograd.forward_ad.unpack_dual(fn(torch, *duals))
    np.testing.assert_allclose(value, out.primal.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, out.tangent.numpy(), rtol=1e-10, atol=1e-12)


def test_tangents_are_differentiable():
    """Reverse over forward: the jvp as a function of the primal passes gradcheck."""
    v = tg.tensor(_rand(2, 3, seed=3))
    w = tg.tensor(_rand(4, 3, seed=4), requires_grad=True)

    def tangent_of(x, w):
        return tf.jvp(lambda x: F.gelu(x @ w.T).softmax(-1) * x.sum(), (x,), (v,))[1]
    x = tg.tensor(_rand(2, 3), requires_grad=True)
    assert tg.autograd.gradcheck(tangent_of, (x, w))
    assert tg.autograd.gradgradcheck(tangent_of, (x, w))


def test_forward_over_reverse_hvp():
    def f(x):
        return (x.tanh() * x.exp()).sum() + F.log_softmax(x, 0)[1] + (x @ x) ** 2

    x, v = tg.tensor(_rand(4)), tg.tensor(_rand(4, seed=1))
    with fwAD.dual_level():
        dual = fwAD.make_dual(x.detach().requires_grad_(True), v)
        (g,) = tg.autograd.grad(f(dual), dual, create_graph=True)
        hv = fwAD.unpack_dual(g).tangent
    _, expected = tg.autograd.functional.hvp(f, x, v)
    np.testing.assert_allclose(hv.detach().numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tf.jvp(tf.grad(f), (x,), (v,))[1].numpy(), expected.numpy(),
                               rtol=1e-10, atol=1e-12)


def test_dual_semantics():
    x, v = tg.tensor(_rand(3)), tg.tensor(_rand(3, seed=1))
    with fwAD.dual_level() as level:
        assert level == 0
        dual = fwAD.make_dual(x, v)
        assert fwAD.unpack_dual(x).tangent is None and fwAD.unpack_dual(dual).tangent is v
        primal = fwAD.unpack_dual(dual).primal
        assert fwAD.unpack_dual(primal).tangent is None
        np.testing.assert_array_equal(primal.numpy(), x.numpy())
        assert fwAD.unpack_dual(dual.detach()).tangent is None
        assert fwAD.unpack_dual(x * 2).tangent is None
        with tg.no_grad():                                  # forward AD ignores grad mode
            y = dual * x
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), (v * x).numpy())
        assert isinstance(fwAD.unpack_dual(y), fwAD.UnpackedDualTensor)
    assert fwAD.unpack_dual(y).tangent is None                # leaving the level drops it
    assert fwAD.unpack_dual(y).primal is y
    level = fwAD.enter_dual_level()
    try:
        assert fwAD.unpack_dual(fwAD.make_dual(x, v, level=level)).tangent is v
    finally:
        fwAD.exit_dual_level(level=level)
    assert tg.autograd.function._forward_ad is None            # the apply hook is off again


def test_errors_match_torch():
    x = tg.tensor(_rand(3))
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(x, x)
    with pytest.raises(RuntimeError, match="not the last one"):
        fwAD.exit_dual_level()
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[3\] while the given "
                                               r"forward gradient is of size \[4\]"):
            fwAD.make_dual(x, tg.tensor(_rand(4)))
        with pytest.raises(ValueError, match="Expected primal to be floating point"):
            fwAD.make_dual(tg.arange(3), tg.arange(3))
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fwAD.make_dual(x, tg.arange(3))
        with pytest.raises(RuntimeError, match="Invalid level"):
            fwAD.make_dual(x, x, level=2)
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()


def test_jvp_transform_matches_torch_func():
    torch = pytest.importorskip("torch")
    fn = CASES["matmul_linear"][0]
    arrays, tangents = _inputs([(2, 3), (4, 3), (4,)]), _inputs([(2, 3), (4, 3), (4,)], 10)
    out, tangent = tf.jvp(lambda *a: fn(tg, *a), tuple(map(tg.tensor, arrays)),
                          tuple(map(tg.tensor, tangents)))
    t_out, t_tangent = torch.func.jvp(lambda *a: fn(torch, *a),
                                      tuple(map(torch.tensor, arrays)),
                                      tuple(map(torch.tensor, tangents)))
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tangent.numpy(), t_tangent.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match="same shape"):
        tf.jvp(lambda a: a, (tg.tensor(_rand(2)),), (tg.tensor(_rand(3)),))


def test_jacfwd_equals_jacrev():
    def f(x, y):
        return {"a": (x @ y).tanh(), "b": (x * 2).sum()}, x.sum()

    x, y = tg.tensor(_rand(2, 3)), tg.tensor(_rand(3))
    fwd, aux = tf.jacfwd(f, argnums=(0, 1), has_aux=True)(x, y)
    rev, _ = tf.jacrev(f, argnums=(0, 1), has_aux=True)(x, y)
    assert aux.item() == pytest.approx(x.sum().item())
    for key in ("a", "b"):
        for j in range(2):
            assert fwd[key][j].shape == rev[key][j].shape
            np.testing.assert_allclose(fwd[key][j].numpy(), rev[key][j].numpy(), atol=1e-12)
    hess = tf.jacfwd(tf.jacfwd(lambda x: (x.sin() * x).sum()))(y)     # nested: double-vjp
    np.testing.assert_allclose(
        hess.numpy(), np.diag(2 * np.cos(y.numpy()) - y.numpy() * np.sin(y.numpy())), atol=1e-12)


def test_linearize():
    def f(x):
        return (x.exp() * x).softmax(0)

    x = tg.tensor(_rand(4))
    out, jvp_fn = tf.linearize(f, x)
    np.testing.assert_allclose(out.numpy(), f(x).numpy())
    for seed in (1, 2):                                  # the graph is reused by each call
        v = tg.tensor(_rand(4, seed=seed))
        np.testing.assert_allclose(jvp_fn(v).numpy(), tf.jvp(f, (x,), (v,))[1].numpy(),
                                   rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match="doesn't match the shape"):
        jvp_fn(tg.tensor(_rand(3)))


def test_abs_of_complex_has_a_real_tangent():
    """|z| is real: its tangent is Re(conj(sgn z) dz), not the complex dz sgn z."""
    z = _rand(2, 3) + 1j * _rand(2, 3, seed=1)
    dz = _rand(2, 3, seed=2) + 1j * _rand(2, 3, seed=3)
    value, tangent = _tg_jvp(lambda m, x: x.abs(), [z], [dz])
    eps = 1e-6
    expected = (np.abs(z + eps * dz) - np.abs(z - eps * dz)) / (2 * eps)
    assert tangent.dtype == np.float64
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)


FALLBACK = {"fallback", "steps", "batch_norm_train", "as_strided"}


@pytest.mark.parametrize("name", sorted(set(CASES) - FALLBACK))
def test_ops_with_rules_skip_the_fallback(name, monkeypatch):
    def refuse(cls, *args):
        raise AssertionError(f"{cls.__name__} took the double-vjp fallback")
    monkeypatch.setattr(fwAD, "_double_vjp", refuse)
    fn, shapes = CASES[name]
    _tg_jvp(fn, _inputs(shapes), _inputs(shapes, seed=10))


def test_a_dual_tensor_changed_in_place_through_its_primal_is_refused():
    """make_dual gives a view of the primal: a change made through the primal (no tangent, so
    allowed) is caught when the dual tensor is next used."""
    with fwAD.dual_level():
        primal = tg.tensor(_rand(3))
        dual = fwAD.make_dual(primal, tg.tensor(_rand(3, seed=1)))
        primal.mul_(2)
        with pytest.raises(RuntimeError, match="in-place"):
            dual + 1


def test_in_place_ops_with_dual_tensors_are_refused():
    """No silent loss of a tangent: writing a dual value into a plain tensor, or changing a dual
    tensor, in place, raises inside a level; plain in-place ops still work there."""
    buffer = tg.zeros(3)
    with fwAD.dual_level():
        dual = fwAD.make_dual(tg.randn(3), tg.ones(3))
        for write in (lambda: buffer.add_(dual), lambda: buffer.__setitem__(0, dual[0]),
                      lambda: dual.mul_(2.0), lambda: buffer.copy_(dual)):
            with pytest.raises(RuntimeError, match="in-place"):
                write()
        buffer.add_(1.0)
    assert buffer.tolist() == [1.0, 1.0, 1.0]
