"""Transforms (values, inverses, log-dets, caching), TransformedDistribution, constraints and
MixtureSameFamily: against autograd derivatives and closed forms, and PyTorch when installed."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.distributions as D
from tinygen.distributions import constraints, transforms as T


def _f64(v, requires_grad=False):
    return tg.tensor(v, dtype=tg.float64, requires_grad=requires_grad)


ELEMENTWISE = [
    (lambda: T.ExpTransform(), [-1.0, 0.3, 2.0]),
    (lambda: T.SigmoidTransform(), [-3.0, 0.3, 2.0]),
    (lambda: T.TanhTransform(), [-3.0, 0.3, 2.0]),
    (lambda: T.AffineTransform(_f64(1.0), _f64(-2.5)), [-3.0, 0.3, 2.0]),
    (lambda: T.AffineTransform(1.0, 3.0), [-3.0, 0.3, 2.0]),
    (lambda: T.PowerTransform(_f64(2.5)), [0.5, 1.3, 2.0]),
    (lambda: T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.TanhTransform()]),
     [-1.0, 0.3, 0.7]),
]


@pytest.mark.parametrize("make,x", ELEMENTWISE)
def test_elementwise_transform_inverse_and_log_det(make, x):
    t = make()
    x = _f64(x, True)
    y = t(x)
    np.testing.assert_allclose(t.inv(y).detach().numpy(), x.detach().numpy(), rtol=1e-10)
    (dydx,) = tg.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, y).detach().numpy(),
                               np.log(np.abs(dydx.numpy())), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.inv.log_abs_det_jacobian(y, x).detach().numpy(),
                               -np.log(np.abs(dydx.numpy())), rtol=1e-10, atol=1e-12)
    assert t.inv.inv is t and t.bijective
    assert tg.autograd.gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (x,))


def test_against_torch_transforms():
    torch = pytest.importorskip("torch")
    x = [-1.5, 0.2, 3.0]
    pairs = [(T.ExpTransform(), torch.distributions.transforms.ExpTransform()),
             (T.SigmoidTransform(), torch.distributions.transforms.SigmoidTransform()),
             (T.TanhTransform(), torch.distributions.transforms.TanhTransform()),
             (T.AffineTransform(2.0, -0.5),
              torch.distributions.transforms.AffineTransform(2.0, -0.5))]
    for t, tt in pairs:
        y, ty = t(_f64(x)), tt(torch.tensor(x, dtype=torch.float64))
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)
        np.testing.assert_allclose(t.log_abs_det_jacobian(_f64(x), y).numpy(),
                                   tt.log_abs_det_jacobian(torch.tensor(x, dtype=torch.float64),
                                                           ty).numpy(), rtol=1e-12)
        assert repr(t.codomain) == repr(tt.codomain)


def test_caching_returns_the_same_object():
    x = _f64([0.5, 1.0])
    cached = T.ExpTransform(cache_size=1)
    y = cached(x)
    assert cached.inv(y) is x and cached(x) is y
    plain = T.ExpTransform()
    assert plain.inv(plain(x)) is not x
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def test_softmax_affine_event_dims_and_compose_log_det():
    x = _f64([[0.1, 2.0, -1.0]])
    s = T.SoftmaxTransform()
    y = s(x)
    np.testing.assert_allclose(y.sum(-1).numpy(), [1.0])
    np.testing.assert_allclose(s(s.inv(y)).numpy(), y.numpy(), rtol=1e-12)
    a = T.AffineTransform(_f64(0.0), _f64([2.0, 3.0, 0.5]), event_dim=1)
    assert a.log_abs_det_jacobian(x, a(x)).shape == (1,)
    np.testing.assert_allclose(a.log_abs_det_jacobian(x, a(x)).item(), math.log(3.0))
    c = T.ComposeTransform([T.AffineTransform(1.0, 2.0), T.ExpTransform()])
    v = _f64([0.3])
    np.testing.assert_allclose(c.log_abs_det_jacobian(v, c(v)).numpy(),
                               [math.log(2.0) + 1.0 + 2 * 0.3])
    np.testing.assert_allclose(c.inv(c(v)).numpy(), [0.3])


def test_transformed_distribution_matches_closed_forms():
    base = D.Normal(_f64([0.0, 1.0]), _f64([1.0, 0.5]))
    shifted = D.TransformedDistribution(base, [T.AffineTransform(1.0, 2.0)])
    ref = D.Normal(_f64([1.0, 3.0]), _f64([2.0, 1.0]))
    v = _f64([0.3, 2.5])
    np.testing.assert_allclose(shifted.log_prob(v).numpy(), ref.log_prob(v).numpy(), rtol=1e-12)
    np.testing.assert_allclose(shifted.cdf(v).numpy(), ref.cdf(v).numpy(), rtol=1e-12)
    np.testing.assert_allclose(shifted.icdf(_f64([0.2, 0.9])).numpy(),
                               ref.icdf(_f64([0.2, 0.9])).numpy(), rtol=1e-12)
    flipped = D.TransformedDistribution(base, T.AffineTransform(0.0, -1.0))
    np.testing.assert_allclose(flipped.cdf(v).numpy(), 1 - base.cdf(-v).numpy(), rtol=1e-12)
    lognormal = D.TransformedDistribution(base, T.ExpTransform())
    np.testing.assert_allclose(lognormal.log_prob(v).numpy(),
                               D.LogNormal(base.loc, base.scale).log_prob(v).numpy())
    assert lognormal.has_rsample and lognormal.support is constraints.positive
    tg.manual_seed(0)
    assert (lognormal.sample((100,)).numpy() > 0).all()
    with pytest.raises(ValueError, match="within the support"):
        lognormal.log_prob(_f64([-1.0, 1.0]))

    def rsample(loc):
        tg.manual_seed(2)
        return D.TransformedDistribution(D.Normal(loc, _f64(0.5)), T.TanhTransform()).rsample((3,))
    assert tg.autograd.gradcheck(rsample, (_f64([0.1, -0.3], True),))


def test_transformed_distribution_against_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    f64 = torch.float64
    tbase = td.Normal(torch.tensor([0.0, 1.0], dtype=f64), torch.tensor(0.7, dtype=f64))
    tt = td.TransformedDistribution(tbase, [td.transforms.TanhTransform(),
                                            td.transforms.AffineTransform(1.0, 2.0)])
    t = D.TransformedDistribution(D.Normal(_f64([0.0, 1.0]), _f64(0.7)),
                                  [T.TanhTransform(), T.AffineTransform(1.0, 2.0)])
    v = [0.5, 2.0]
    np.testing.assert_allclose(t.log_prob(_f64(v)).numpy(),
                               tt.log_prob(torch.tensor(v, dtype=torch.float64)).numpy(),
                               rtol=1e-10)
    assert t.batch_shape == tuple(tt.batch_shape)


def test_constraints_check():
    v = _f64([-1.0, 0.0, 0.5, 2.0])
    assert constraints.positive.check(v).numpy().tolist() == [False, False, True, True]
    assert constraints.nonnegative.check(v).numpy().tolist() == [False, True, True, True]
    assert constraints.unit_interval.check(v).numpy().tolist() == [False, True, True, False]
    assert constraints.interval(-1, 1).check(v).numpy().tolist() == [True, True, True, False]
    assert constraints.half_open_interval(-1, 2).check(v).numpy().tolist() == [True] * 3 + [False]
    assert constraints.nonnegative_integer.check(v).numpy().tolist() == [False, True, False, True]
    assert constraints.simplex.check(_f64([[0.2, 0.8], [0.5, 0.6]])).numpy().tolist() == \
        [True, False]
    assert constraints.lower_cholesky.check(_f64([[1.0, 0.0], [2.0, 1.0]])).item()
    assert not constraints.lower_cholesky.check(_f64([[1.0, 1.0], [2.0, 1.0]])).item()
    assert constraints.positive_definite.check(_f64([[2.0, 1.0], [1.0, 2.0]])).item()
    assert not constraints.positive_definite.check(_f64([[1.0, 2.0], [2.0, 1.0]])).item()
    assert constraints.real_vector.event_dim == 1 and constraints.simplex.event_dim == 1
    assert constraints.is_dependent(constraints.dependent)
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"


def _mixture(lib, tensor):
    mix = lib.Categorical(probs=tensor([0.3, 0.7]))
    comp = lib.Normal(tensor([-1.0, 2.0]), tensor([0.5, 1.5]))
    return lib.MixtureSameFamily(mix, comp)


def test_mixture_same_family():
    m = _mixture(D, _f64)
    v = np.array([-1.0, 0.5, 3.0])
    pdf = 0.3 * np.exp(-(v + 1) ** 2 / 0.5) / math.sqrt(2 * math.pi * 0.25) + \
        0.7 * np.exp(-(v - 2) ** 2 / 4.5) / math.sqrt(2 * math.pi * 2.25)
    np.testing.assert_allclose(m.log_prob(_f64(v)).numpy(), np.log(pdf), rtol=1e-12)
    assert abs(m.mean.item() - (0.3 * -1 + 0.7 * 2)) < 1e-12
    var = 0.3 * (0.25 + 1) + 0.7 * (2.25 + 4) - m.mean.item() ** 2
    assert abs(m.variance.item() - var) < 1e-12
    tg.manual_seed(0)
    x = m.sample((20000,)).numpy()
    assert abs(x.mean() - m.mean.item()) < 5 * math.sqrt(var / 20000)
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(probs=_f64([0.5, 0.5])),
                            D.Normal(_f64([0.0, 1.0, 2.0]), _f64(1.0)))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(_f64(0.0), _f64(1.0)), D.Normal(_f64(0.0), _f64(1.0)))
    loc = _f64([-1.0, 2.0], True)
    mix = D.Categorical(probs=_f64([0.3, 0.7]))
    assert tg.autograd.gradcheck(
        lambda l: D.MixtureSameFamily(mix, D.Normal(l, _f64(0.5))).log_prob(_f64([0.4, -0.2])),
        (loc,))


def test_mixture_against_torch():
    torch = pytest.importorskip("torch")
    m, tm = _mixture(D, _f64), _mixture(torch.distributions,
                                        lambda v: torch.tensor(v, dtype=torch.float64))
    v = [-1.0, 0.5, 3.0]
    np.testing.assert_allclose(m.log_prob(_f64(v)).numpy(),
                               tm.log_prob(torch.tensor(v, dtype=torch.float64)).numpy())
    np.testing.assert_allclose(m.cdf(_f64(v)).numpy(),
                               tm.cdf(torch.tensor(v, dtype=torch.float64)).numpy())
    np.testing.assert_allclose(m.variance.numpy(), tm.variance.numpy())
