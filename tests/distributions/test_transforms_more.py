"""The rest of the transforms (Abs, Softplus, Independent, Reshape, Cat, Stack, StickBreaking,
LowerCholesky, PositiveDefinite, CorrCholesky, CumulativeDistribution), the new constraints and
``biject_to``/``transform_to``: round trips, log-dets against a finite-difference Jacobian,
gradchecks, and PyTorch when installed."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.distributions as D
from tinygen.distributions import constraints as C, transforms as T
from tinygen.distributions.constraint_registry import biject_to, transform_to
from tinygen.distributions.transforms_matrix import tril_matrix_to_vec


def _f64(v, requires_grad=False):
    return tg.tensor(v, dtype=tg.float64, requires_grad=requires_grad)


def _strict_lower(y):
    return tril_matrix_to_vec(y, diag=-1)


# (name, transform, x, the coordinates of y in which the map is square)
BIJECTIONS = [
    ("softplus", lambda: T.SoftplusTransform(), [-2.0, 0.3, 1.5], lambda y: y),
    ("stick", lambda: T.StickBreakingTransform(), [0.4, -1.2, 0.7], lambda y: y[..., :-1]),
    ("corr", lambda: T.CorrCholeskyTransform(), [0.4, -1.2, 0.7], _strict_lower),
    ("indep", lambda: T.IndependentTransform(T.ExpTransform(), 1), [0.4, -1.2, 0.7],
     lambda y: y),
    ("reshape", lambda: T.ReshapeTransform((3,), (3, 1)), [0.4, -1.2, 0.7],
     lambda y: y.reshape((3,))),
    ("cat", lambda: T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, -3.0)], 0,
                                   [2, 1]), [0.4, -1.2, 0.7], lambda y: y),
    ("stack", lambda: T.StackTransform([T.SigmoidTransform(), T.TanhTransform(),
                                        T.ExpTransform()], 0), [0.4, -1.2, 0.7], lambda y: y),
    ("cdf", lambda: T.CumulativeDistributionTransform(D.Normal(_f64(0.5), _f64(2.0))),
     [0.4, -1.2, 0.7], lambda y: y),
]


def _numeric_log_det(f, x, eps=1e-6):
    """log|det J| of f at the vector x by central differences."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for i in range(x.size):
        d = np.zeros_like(x)
        d[i] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.linalg.slogdet(np.stack(cols, axis=1))[1]


def _total_log_det(t, x, y):
    """The log-det summed to one number (elementwise transforms give one term per entry)."""
    return float(t.log_abs_det_jacobian(x, y).sum().item())


@pytest.mark.parametrize("name,make,x,square", BIJECTIONS, ids=[b[0] for b in BIJECTIONS])
def test_round_trip_and_log_det_against_finite_differences(name, make, x, square):
    t = make()
    xt = _f64(x)
    y = t(xt)
    np.testing.assert_allclose(t.inv(y).numpy(), x, rtol=1e-9, atol=1e-12)
    assert t.bijective
    assert bool(t.codomain.check(y).all())
    numeric = _numeric_log_det(lambda v: square(t(_f64(v))).numpy().reshape(-1), x)
    np.testing.assert_allclose(_total_log_det(t, xt, y), numeric, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_total_log_det(t.inv, y, xt), -numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,make,x,square", BIJECTIONS, ids=[b[0] for b in BIJECTIONS])
def test_gradcheck_forward_and_log_det(name, make, x, square):
    t = make()
    xt = _f64(x, True)
    assert tg.autograd.gradcheck(lambda v: t(v), (xt,))
    assert tg.autograd.gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (xt,))


@pytest.mark.parametrize("make", [lambda: T.StickBreakingTransform(),
                                  lambda: T.CorrCholeskyTransform()])
def test_gradgradcheck_of_log_det(make):
    t = make()
    assert tg.autograd.gradgradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)),
                                     (_f64([0.4, -1.2, 0.7], True),))


def test_matrix_transforms_round_trip_and_gradcheck():
    x = _f64([[[0.3, 9.0], [-0.5, -0.2]], [[1.0, 2.0], [0.7, 0.1]]], True)
    lower = T.LowerCholeskyTransform()
    L = lower(x)
    assert bool(C.lower_cholesky.check(L).all())
    np.testing.assert_allclose(L.detach().numpy()[0], [[np.exp(0.3), 0.0], [-0.5, np.exp(-0.2)]])
    np.testing.assert_allclose(lower.inv(L).detach().numpy(), np.tril(x.detach().numpy()))
    pd = T.PositiveDefiniteTransform()
    S = pd(x)
    assert bool(C.positive_definite.check(S).all())
    np.testing.assert_allclose(S.detach().numpy(), L.detach().numpy() @ np.swapaxes(
        L.detach().numpy(), -1, -2), rtol=1e-12)
    np.testing.assert_allclose(pd.inv(S).detach().numpy(), np.tril(x.detach().numpy()),
                               rtol=1e-10)
    assert tg.autograd.gradcheck(lambda v: pd(v), (x,))
    assert not lower.bijective and not pd.bijective and not T.AbsTransform().bijective
    np.testing.assert_allclose(T.AbsTransform()(_f64([-2.0, 3.0])).numpy(), [2.0, 3.0])


def test_corr_cholesky_rows_have_unit_length_and_shapes():
    t = T.CorrCholeskyTransform()
    y = t(_f64([[0.1, 2.0, -3.0, 0.5, 0.2, -0.4]]))
    assert tuple(y.shape) == (1, 4, 4)
    np.testing.assert_allclose((y.numpy() ** 2).sum(-1), np.ones((1, 4)), rtol=1e-12)
    assert t.forward_shape((5, 6)) == (5, 4, 4) and t.inverse_shape((5, 4, 4)) == (5, 6)
    with pytest.raises(ValueError, match="flattened lower-diagonal"):
        t.forward_shape((5,))
    stick = T.StickBreakingTransform()
    assert stick.forward_shape((2, 3)) == (2, 4) and stick.inverse_shape((2, 4)) == (2, 3)
    reshape = T.ReshapeTransform((6,), (2, 3))
    assert reshape.forward_shape((4, 6)) == (4, 2, 3) and reshape.inverse_shape((4, 2, 3)) == \
        (4, 6)
    with pytest.raises(ValueError, match="Shape mismatch"):
        reshape.forward_shape((4, 5))
    with pytest.raises(ValueError, match="different numbers of elements"):
        T.ReshapeTransform((2,), (3,))


def test_cat_log_det_over_event_dim_sums_and_errors():
    inner = T.IndependentTransform(T.ExpTransform(), 1)
    t = T.CatTransform([inner, T.identity_transform], dim=-1, lengths=[2, 1])
    x = _f64([[0.5, -1.0, 3.0], [0.1, 0.2, 0.3]])
    y = t(x)
    assert t.event_dim == 1
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, y).numpy(), [-0.5, 0.3], rtol=1e-12)
    with pytest.raises(AssertionError, match="must equal length 3"):
        t(_f64([[1.0, 2.0]]))
    with pytest.raises(AssertionError, match="must equal len"):
        T.StackTransform([T.ExpTransform()], 0)(_f64([1.0, 2.0]))
    with pytest.raises(AssertionError, match="Transform instances"):
        T.CatTransform([1])


def test_equality_and_caching():
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.AbsTransform()
    assert T.SoftplusTransform() == T.SoftplusTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.PowerTransform(_f64(2.0)) == T.PowerTransform(_f64(2.0))
    assert T.ComposeTransform([T.ExpTransform()]) == T.ComposeTransform([T.ExpTransform()])
    assert T.StickBreakingTransform().inv == T.StickBreakingTransform().inv
    assert T.AffineTransform(0.0, -2.0).sign == -1 and T.AffineTransform(0.0, 0.0).sign == 0
    x = _f64([0.2, -0.3])
    for t in [T.CatTransform([T.ExpTransform(), T.SoftplusTransform()], 0, [1, 1],
                             cache_size=1),
              T.StackTransform([T.ExpTransform(), T.SoftplusTransform()], cache_size=1),
              T.IndependentTransform(T.ExpTransform(), 1, cache_size=1),
              T.StickBreakingTransform(cache_size=1)]:
        y = t(x)
        assert t.inv(y) is x and t(x) is y
        assert t.with_cache(0)._cache_size == 0


# (constraint, the shape of a constrained value)
CONSTRAINTS = [
    (C.real, (2, 3)), (C.positive, (2, 3)), (C.nonnegative, (2, 3)),
    (C.greater_than(2.0), (2, 3)), (C.greater_than_eq(-1.0), (2, 3)), (C.less_than(3.0), (2, 3)),
    (C.unit_interval, (2, 3)), (C.interval(-2.0, 5.0), (2, 3)),
    (C.half_open_interval(0.0, 2.0), (2, 3)), (C.simplex, (2, 4)), (C.corr_cholesky, (2, 3, 3)),
    (C.independent(C.positive, 1), (2, 3)), (C.cat([C.positive, C.unit_interval], 0, [2, 1]),
                                             (3, 2)),
    (C.stack([C.positive, C.real], -1), (3, 2)),
]


@pytest.mark.parametrize("c,shape", CONSTRAINTS, ids=[repr(c[0]) for c in CONSTRAINTS])
def test_biject_to_and_transform_to_land_in_the_support(c, shape):
    tg.manual_seed(0)
    for registry in (biject_to, transform_to):
        t = registry(c)
        x = tg.randn(*t.inverse_shape(shape), dtype=tg.float64)
        y = t(x)
        assert tuple(y.shape) == shape
        assert bool(c.check(y).all()), (registry, c)
        if registry is biject_to:
            assert t.bijective
            np.testing.assert_allclose(t.inv(y).numpy(), x.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("c", [C.lower_cholesky, C.positive_definite,
                               C.positive_semidefinite])
def test_transform_to_matrices(c):
    x = tg.randn(2, 3, 3, dtype=tg.float64)
    assert bool(c.check(transform_to(c)(x)).all())
    with pytest.raises(NotImplementedError, match="Cannot transform"):
        biject_to(c)


def test_registry_register_and_errors():
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        transform_to(C.boolean)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        biject_to.register(int, lambda c: None)
    registry = type(biject_to)()
    registry.register(C.positive)(lambda c: T.SoftplusTransform())
    assert registry(C.greater_than(5.0)) == T.SoftplusTransform()
    assert D.biject_to is biject_to and D.transform_to is transform_to


def test_new_constraints_check():
    assert C.square.check(tg.ones(2, 2, 3)).tolist() == [False, False]
    assert C.symmetric.check(_f64([[1.0, 2.0], [2.0, 1.0]])).item()
    assert not C.symmetric.check(_f64([[1.0, 2.0], [0.0, 1.0]])).item()
    assert C.positive_semidefinite.check(_f64([[1.0, 1.0], [1.0, 1.0]])).item()
    assert not C.positive_definite.check(_f64([[1.0, 1.0], [1.0, 1.0]])).item()
    assert C.corr_cholesky.check(_f64([[1.0, 0.0], [0.6, 0.8]])).item()
    assert not C.corr_cholesky.check(_f64([[1.0, 0.0], [0.6, 0.7]])).item()
    assert C.cat([C.positive, C.real], 0, [2, 1]).check(_f64([1.0, -1.0, -1.0])).tolist() == \
        [True, False, True]
    assert C.stack([C.positive, C.real], 1).check(_f64([[-1.0, -1.0]])).tolist() == \
        [[False, True]]
    assert C.stack([C.simplex], -2).event_dim == 2 and C.stack([C.simplex], -1).event_dim == 1


TORCH_PAIRS = [
    ("SoftplusTransform", (), [-2.0, 0.3, 1.5]),
    ("StickBreakingTransform", (), [0.4, -1.2, 0.7]),
    ("CorrCholeskyTransform", (), [0.4, -1.2, 0.7, 0.1, 0.2, -2.0]),
    ("ReshapeTransform", ((6,), (2, 3)), [0.4, -1.2, 0.7, 0.1, 0.2, -2.0]),
]


@pytest.mark.parametrize("name,args,x", TORCH_PAIRS, ids=[p[0] for p in TORCH_PAIRS])
def test_against_torch(name, args, x):
    torch = pytest.importorskip("torch")
    TT = torch.distributions.transforms
    t, tt = getattr(T, name)(*args), getattr(TT, name)(*args)
    xs = [x, [v * 0.5 + 0.1 for v in x]]
    tx = torch.tensor(xs, dtype=torch.float64)
    y, ty = t(_f64(xs)), tt(tx)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.log_abs_det_jacobian(_f64(xs), y).numpy(),
                               tt.log_abs_det_jacobian(tx, ty).numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.inv(y).numpy(), tt.inv(ty).numpy(), rtol=1e-10, atol=1e-12)
    assert t.domain.event_dim == tt.domain.event_dim
    assert t.codomain.event_dim == tt.codomain.event_dim
    assert t.bijective == tt.bijective


def test_functors_and_registry_against_torch():
    torch = pytest.importorskip("torch")
    TT, TC = torch.distributions.transforms, torch.distributions.constraints
    x = [[0.5, -1.0, 3.0], [0.1, 0.2, 0.3]]
    t = T.CatTransform([T.ExpTransform(), T.SoftplusTransform()], 1, [2, 1])
    tt = TT.CatTransform([TT.ExpTransform(), TT.SoftplusTransform()], 1, [2, 1])
    s = T.StackTransform([T.ExpTransform(), T.SigmoidTransform()], 0)
    ts = TT.StackTransform([TT.ExpTransform(), TT.SigmoidTransform()], 0)
    for a, b in [(t, tt), (s, ts)]:
        y, ty = a(_f64(x)), b(torch.tensor(x, dtype=torch.float64))
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)
        np.testing.assert_allclose(a.log_abs_det_jacobian(_f64(x), y).numpy(),
                                   b.log_abs_det_jacobian(torch.tensor(x, dtype=torch.float64),
                                                          ty).numpy(), rtol=1e-12)
    pairs = [(C.greater_than(2.0), TC.greater_than(2.0)), (C.simplex, TC.simplex),
             (C.interval(-2.0, 5.0), TC.interval(-2.0, 5.0)), (C.less_than(1.0),
                                                                 TC.less_than(1.0))]
    xv = [[0.3, -0.7, 1.1]]
    for c, tc in pairs:
        for ours, theirs in [(biject_to, torch.distributions.biject_to),
                             (transform_to, torch.distributions.transform_to)]:
            np.testing.assert_allclose(ours(c)(_f64(xv)).numpy(),
                                       theirs(tc)(torch.tensor(xv, dtype=torch.float64)).numpy(),
                                       rtol=1e-12)


def test_matrix_abs_and_cdf_transforms_against_torch():
    torch = pytest.importorskip("torch")
    TT, TD = torch.distributions.transforms, torch.distributions
    m = [[[0.3, 9.0], [-0.5, -0.2]], [[1.0, 2.0], [0.7, 0.1]]]
    tm = torch.tensor(m, dtype=torch.float64)
    for name in ("LowerCholeskyTransform", "PositiveDefiniteTransform", "AbsTransform"):
        t, tt = getattr(T, name)(), getattr(TT, name)()
        y, ty = t(_f64(m)), tt(tm)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)
        np.testing.assert_allclose(t.inv(y).numpy(), tt.inv(ty).numpy(), rtol=1e-10)
        assert repr(t.codomain) == repr(tt.codomain)
    x = [0.4, -1.2, 0.7]
    t = T.CumulativeDistributionTransform(D.Normal(_f64(0.5), _f64(2.0)))
    tt = TT.CumulativeDistributionTransform(TD.Normal(torch.tensor(0.5, dtype=torch.float64),
                                                      torch.tensor(2.0, dtype=torch.float64)))
    tx = torch.tensor(x, dtype=torch.float64)
    np.testing.assert_allclose(t(_f64(x)).numpy(), tt(tx).numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.log_abs_det_jacobian(_f64(x), t(_f64(x))).numpy(),
                               tt.log_abs_det_jacobian(tx, tt(tx)).numpy(), rtol=1e-12)
    ind = T.IndependentTransform(T.SoftplusTransform(), 1)
    tind = TT.IndependentTransform(TT.SoftplusTransform(), 1)
    np.testing.assert_allclose(ind.log_abs_det_jacobian(_f64(x), ind(_f64(x))).numpy(),
                               tind.log_abs_det_jacobian(tx, tind(tx)).numpy(), rtol=1e-12)
    assert repr(ind) == repr(tind)
