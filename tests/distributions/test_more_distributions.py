"""The families beyond Normal/Bernoulli/Categorical: every density, entropy and moment against
PyTorch (same parameters) when it is installed, against closed forms and NumPy without it;
seeded sample moments; rsample gradients; validate_args errors; expand."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.distributions as D

TRIL = [[1.0, 0.0], [0.5, 2.0]]
COV = (np.array(TRIL) @ np.array(TRIL).T).tolist()
CASES = [
    ("Uniform", dict(low=[0.0, -1.0], high=[1.0, 2.0]), [0.5, 1.5]),
    ("Exponential", dict(rate=[0.5, 2.0]), [0.3, 1.7]),
    ("Laplace", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), [0.3, -1.0]),
    ("Cauchy", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), [0.3, -1.0]),
    ("Gumbel", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), [0.3, 1.2]),
    ("HalfNormal", dict(scale=[1.0, 2.0]), [0.3, 1.7]),
    ("HalfCauchy", dict(scale=[1.0, 2.0]), [0.3, 1.7]),
    ("LogNormal", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), [0.5, 2.0]),
    ("StudentT", dict(df=[3.0, 5.0], loc=[0.0, 1.0], scale=[1.0, 2.0]), [0.3, -1.0]),
    ("Poisson", dict(rate=[0.5, 3.0]), [0.0, 2.0]),
    ("Geometric", dict(probs=[0.3, 0.7]), [0.0, 3.0]),
    ("Binomial", dict(total_count=[5.0, 5.0], probs=[0.3, 0.6]), [2.0, 5.0]),
    ("Gamma", dict(concentration=[0.5, 3.0], rate=[1.0, 2.0]), [0.3, 1.7]),
    ("Chi2", dict(df=[1.0, 4.0]), [0.3, 1.7]),
    ("Beta", dict(concentration1=[1.5, 2.0], concentration0=[2.5, 3.0]), [0.3, 0.8]),
    ("Dirichlet", dict(concentration=[[1.5, 2.0, 3.0]]), [[0.2, 0.5, 0.3]]),
    ("OneHotCategorical", dict(probs=[[0.2, 0.3, 0.5]]), [[0.0, 1.0, 0.0]]),
    ("Multinomial", dict(total_count=4, probs=[[0.2, 0.3, 0.5]]), [[1.0, 2.0, 1.0]]),
    ("RelaxedBernoulli", dict(temperature=[0.5], probs=[0.3, 0.7]), [0.2, 0.9]),
    ("RelaxedOneHotCategorical", dict(temperature=[0.7], probs=[[0.2, 0.3, 0.5]]),
     [[0.1, 0.6, 0.3]]),
    ("MultivariateNormal", dict(loc=[1.0, -1.0], scale_tril=TRIL), [[0.3, 0.2], [1.0, 1.0]]),
    ("MultivariateNormal", dict(loc=[1.0, -1.0], covariance_matrix=COV), [[0.3, 0.2]]),
    ("MultivariateNormal", dict(loc=[1.0, -1.0], precision_matrix=np.linalg.inv(COV).tolist()),
     [[0.3, 0.2]]),
]
ATTRS = ["mean", "variance", "stddev", "mode", "entropy", "log_prob", "cdf", "icdf"]


def _f64(v, requires_grad=False):
    return tg.tensor(v, dtype=tg.float64, requires_grad=requires_grad)


def _build(lib, name, params, to_tensor):
    kwargs = {k: v if isinstance(v, int) else to_tensor(v) for k, v in params.items()}
    return getattr(lib, name)(**kwargs)


def _evaluate(d, attr, value):
    """d's ``attr`` (a property, or a method taking ``value``); icdf at cdf(value)."""
    if attr == "log_prob" or attr == "cdf":
        return getattr(d, attr)(value)
    if attr == "icdf":
        return d.icdf(d.cdf(value))
    out = getattr(d, attr)
    return out() if callable(out) else out


@pytest.mark.parametrize("name,params,value", CASES, ids=[f"{c[0]}-{i}" for i, c in
                                                         enumerate(CASES)])
def test_against_torch(name, params, value):
    torch = pytest.importorskip("torch")
    td = _build(torch.distributions, name, params, lambda v: torch.tensor(v, dtype=torch.float64))
    d = _build(D, name, params, _f64)
    assert d.batch_shape == tuple(td.batch_shape) and d.event_shape == tuple(td.event_shape)
    assert d.has_rsample == td.has_rsample
    compared = 0
    for attr in ATTRS:
        try:
            expected = _evaluate(td, attr, torch.tensor(value, dtype=torch.float64))
        except NotImplementedError:
            continue
        got = _evaluate(d, attr, _f64(value))
        rtol = 1e-7 if (name, attr) == ("Multinomial", "entropy") else 1e-9   # torch's is off
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=rtol, atol=1e-12,
                                   err_msg=f"{name}.{attr}")
        compared += 1
    assert compared >= 1


def test_closed_forms_without_torch():
    x = np.array([0.3, 1.7])
    rate = np.array([0.5, 2.0])
    d = D.Exponential(_f64(rate))
    np.testing.assert_allclose(d.log_prob(_f64(x)).numpy(), np.log(rate) - rate * x)
    np.testing.assert_allclose(d.cdf(_f64(x)).numpy(), 1 - np.exp(-rate * x))
    c, r = 3.0, 2.0
    g = D.Gamma(_f64([c]), _f64([r]))
    expected = c * math.log(r) + (c - 1) * np.log(x) - r * x - math.lgamma(c)
    np.testing.assert_allclose(g.log_prob(_f64(x)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(g.entropy().numpy(), c - math.log(r) + math.lgamma(c) +
                               (1 - c) * 0.9227843350984671)          # digamma(3)
    k, lam = np.array([0.0, 2.0, 5.0]), 1.5
    pmf = np.exp(-lam) * lam ** k / np.array([math.factorial(int(i)) for i in k])
    np.testing.assert_allclose(D.Poisson(_f64(lam)).log_prob(_f64(k)).exp().numpy(), pmf)
    u = D.Uniform(_f64([-1.0]), _f64([3.0]))
    np.testing.assert_allclose(u.log_prob(_f64([0.0])).numpy(), [-math.log(4)])
    assert D.Uniform(_f64([0.0]), _f64([1.0]), validate_args=False).log_prob(
        _f64([2.0])).item() == -math.inf
    cov = np.array(COV)
    m = D.MultivariateNormal(_f64([1.0, -1.0]), covariance_matrix=_f64(cov))
    diff = np.array([0.3, 0.2]) - np.array([1.0, -1.0])
    expected = -0.5 * (2 * math.log(2 * math.pi) + np.log(np.linalg.det(cov))
                       + diff @ np.linalg.solve(cov, diff))
    np.testing.assert_allclose(m.log_prob(_f64([0.3, 0.2])).item(), expected, rtol=1e-12)
    np.testing.assert_allclose(m.scale_tril.numpy(), TRIL, atol=1e-12)
    entropy = D.Multinomial(4, _f64([0.2, 0.3, 0.5])).entropy().item()
    assert abs(entropy - 2.349083981674511) < 1e-12          # by enumerating every outcome
    a, b = 2.0, 3.0
    beta = D.Beta(_f64(a), _f64(b))
    lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    np.testing.assert_allclose(beta.log_prob(_f64(0.3)).item(),
                               math.log(0.3) + 2 * math.log(0.7) - lbeta, rtol=1e-12)


MOMENT_CASES = [
    (D.Uniform, (0.5, 2.0)), (D.Exponential, (1.5,)), (D.Laplace, (1.0, 0.5)),
    (D.Gumbel, (1.0, 0.5)), (D.HalfNormal, (2.0,)), (D.LogNormal, (0.2, 0.3)),
    (D.StudentT, (6.0, 1.0, 2.0)), (D.Poisson, (3.5,)), (D.Geometric, (0.3,)),
    (D.Binomial, (7.0, 0.3)), (D.Gamma, (0.7, 2.0)), (D.Chi2, (3.0,)), (D.Beta, (0.5, 1.5)),
]


@pytest.mark.parametrize("cls,params", MOMENT_CASES, ids=[c[0].__name__ for c in MOMENT_CASES])
def test_sample_moments(cls, params):
    d = cls(*[_f64(p) for p in params])
    tg.manual_seed(0)
    x = d.sample((20000,))
    tg.manual_seed(0)
    assert np.array_equal(x.numpy(), d.sample((20000,)).numpy())
    assert x.shape == (20000,) and not x.requires_grad
    mean, var = d.mean.item(), d.variance.item()
    assert abs(x.numpy().mean() - mean) < 5 * math.sqrt(var / 20000)
    assert abs(x.numpy().var() / var - 1) < 0.1


def test_multivariate_sample_moments():
    tg.manual_seed(1)
    x = D.MultivariateNormal(_f64([1.0, -1.0]), scale_tril=_f64(TRIL)).sample((20000,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1.0, -1.0], atol=0.1)
    np.testing.assert_allclose(np.cov(x.T), COV, rtol=0.05, atol=0.05)
    c = np.array([1.0, 2.0, 3.0])
    x = D.Dirichlet(_f64(c)).sample((20000,)).numpy()
    np.testing.assert_allclose(x.sum(-1), 1.0)
    np.testing.assert_allclose(x.mean(0), c / c.sum(), atol=0.01)
    p = np.array([0.2, 0.3, 0.5])
    x = D.Multinomial(5, _f64(p)).sample((20000,)).numpy()
    assert x.shape == (20000, 3) and (x.sum(-1) == 5).all()
    np.testing.assert_allclose(x.mean(0), 5 * p, atol=0.05)
    x = D.OneHotCategorical(_f64(p)).sample((20000,)).numpy()
    assert (x.sum(-1) == 1).all()
    np.testing.assert_allclose(x.mean(0), p, atol=0.02)
    x = D.Cauchy(_f64(1.0), _f64(2.0)).sample((20000,)).numpy()
    assert abs(np.median(x) - 1.0) < 0.1
    x = D.RelaxedOneHotCategorical(_f64(0.5), _f64(p)).sample((20000,)).numpy()
    np.testing.assert_allclose(x.sum(-1), 1.0)
    np.testing.assert_allclose((x.argmax(-1)[:, None] == np.arange(3)).mean(0), p, atol=0.02)


def _seeded_rsample(make):
    def f(*params):
        tg.manual_seed(5)                     # the same noise at every evaluation
        return make(*params).rsample((3,))
    return f


RSAMPLE_CASES = [
    (D.Uniform, [[0.1, 0.2], [1.0, 1.5]]), (D.Exponential, [[0.5, 2.0]]),
    (D.Laplace, [[0.0, 1.0], [1.0, 0.5]]), (D.Cauchy, [[0.0, 1.0], [1.0, 0.5]]),
    (D.Gumbel, [[0.0, 1.0], [1.0, 0.5]]), (D.HalfNormal, [[1.0, 2.0]]),
    (D.HalfCauchy, [[1.0, 2.0]]), (D.LogNormal, [[0.0, 0.3], [0.5, 0.2]]),
    (lambda t, p: D.RelaxedBernoulli(t, probs=p), [[0.7], [0.3, 0.6]]),
    (lambda t, l: D.RelaxedOneHotCategorical(t, logits=l), [[0.7], [0.3, 0.6, -0.2]]),
    (lambda loc, tril: D.MultivariateNormal(loc, scale_tril=tril.tril()), [[1.0, -1.0], TRIL]),
]


@pytest.mark.parametrize("make,params", RSAMPLE_CASES)
def test_rsample_gradcheck(make, params):
    d = make(*[_f64(p) for p in params])
    assert d.has_rsample
    assert tg.autograd.gradcheck(_seeded_rsample(make), tuple(_f64(p, True) for p in params))


LOGPROB_CASES = [
    (D.Gamma, [[0.7, 2.0], [1.5, 0.5]], [0.3, 1.2]), (D.Beta, [[0.7, 2.0], [1.5, 0.5]], [0.3, 0.6]),
    (D.Dirichlet, [[0.7, 2.0, 1.2]], [0.3, 0.3, 0.4]), (D.Chi2, [[0.7, 2.5]], [0.3, 1.2]),
    (D.StudentT, [[3.0, 5.0], [0.0, 1.0], [1.0, 2.0]], [0.3, -1.0]),
    (lambda p: D.Binomial(5, p), [[0.3, 0.6]], [2.0, 5.0]),
    (lambda loc, tril: D.MultivariateNormal(loc, scale_tril=tril.tril()), [[1.0, -1.0], TRIL],
     [0.3, 0.2]),
]


@pytest.mark.parametrize("make,params,value", LOGPROB_CASES)
def test_log_prob_and_entropy_gradcheck(make, params, value):
    args = tuple(_f64(p, True) for p in params)
    assert tg.autograd.gradcheck(lambda *a: make(*a).log_prob(_f64(value)), args)
    if not isinstance(make(*args), D.Binomial):
        assert tg.autograd.gradcheck(lambda *a: make(*a).entropy(), args)


ALPHA = np.array([0.3, 1.0, 5.0, 50.0, 0.5, 0.5, 2.0])
X = np.array([0.1, 2.0, 3.0, 60.0, 20.0, 1e-5, 1.0])


def test_standard_gamma_implicit_gradient():
    """dx/dalpha at fixed CDF level u: against a central difference of the inverse CDF (SciPy)
    (exact to 1e-6) and against PyTorch's own _standard_gamma_grad (an approximation)."""
    from tinygen.distributions.standard_gamma import standard_gamma_grad
    got = standard_gamma_grad(ALPHA, X)
    special = pytest.importorskip("scipy.special")
    u, h = special.gammainc(ALPHA, X), 1e-6
    expected = (special.gammaincinv(ALPHA + h, u) - special.gammaincinv(ALPHA - h, u)) / (2 * h)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    torch = pytest.importorskip("torch")
    theirs = torch._standard_gamma_grad(torch.tensor(ALPHA), torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, theirs, rtol=3e-3)      # theirs is an approximation


def test_gamma_family_rsample_gradients_in_expectation():
    """E[dx/dparam] = dE[x]/dparam, estimated from 4000 reparameterised draws."""
    n = 4000
    conc, rate = _f64(np.full(n, 2.5), True), _f64(np.full(n, 2.0), True)
    tg.manual_seed(0)
    D.Gamma(conc, rate).rsample().sum().backward()
    for grad, expected in ((conc.grad, 1 / 2.0), (rate.grad, -2.5 / 4.0)):
        g = grad.numpy()
        assert abs(g.mean() - expected) < 5 * g.std() / math.sqrt(n)
    a, b = _f64(np.full(n, 1.5), True), _f64(np.full(n, 0.5), True)
    tg.manual_seed(1)
    D.Beta(a, b).rsample().sum().backward()
    for grad, expected in ((a.grad, 0.5 / 4.0), (b.grad, -1.5 / 4.0)):
        g = grad.numpy()
        assert abs(g.mean() - expected) < 5 * g.std() / math.sqrt(n)
    c = _f64(np.tile([1.0, 2.0, 3.0], (n, 1)), True)
    tg.manual_seed(2)
    (D.Dirichlet(c).rsample()[:, 0]).sum().backward()          # E[x_0] = c_0 / sum(c)
    g = c.grad.numpy()
    np.testing.assert_allclose(g.mean(0), [5 / 36, -1 / 36, -1 / 36], atol=5 * g.std() /
                               math.sqrt(n))
    for d in (D.Gamma(_f64(1.0), _f64(1.0)), D.Chi2(_f64(2.0)), D.StudentT(_f64(3.0))):
        assert d.has_rsample
    df = _f64([3.0], True)
    tg.manual_seed(3)
    D.StudentT(df).rsample((4,)).sum().backward()
    assert np.isfinite(df.grad.numpy()).all()
    with pytest.raises(RuntimeError, match="cannot be differentiated again"):
        x = D.Gamma(conc[:2], 1.0).rsample().sum()
        tg.autograd.grad(tg.autograd.grad(x, conc, create_graph=True)[0].sum(), conc)


def test_validate_args_errors():
    with pytest.raises(ValueError, match="Expected parameter scale .* to satisfy the "
                                         "constraint GreaterThan"):
        D.Normal(_f64([0.0]), _f64([-1.0]))
    with pytest.raises(ValueError, match="Expected parameter rate"):
        D.Exponential(_f64([-1.0]))
    with pytest.raises(ValueError, match="Expected parameter df"):
        D.Chi2(_f64([-1.0]))
    with pytest.raises(ValueError, match="Expected parameter low"):
        D.Uniform(_f64(1.0), _f64(0.0))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        D.Bernoulli(probs=_f64([1.5]))
    with pytest.raises(ValueError, match="Expected value argument .* within the support"):
        D.Gamma(_f64(1.0), _f64(1.0)).log_prob(_f64(-1.0))
    with pytest.raises(ValueError, match="within the support"):
        D.Poisson(_f64(1.0)).log_prob(_f64(0.5))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        D.MultivariateNormal(_f64([0.0, 0.0]))
    with pytest.raises(ValueError, match="must be at least one-dimensional"):
        D.Dirichlet(_f64(1.0))
    with pytest.raises(ValueError, match="Value is not broadcastable"):
        D.Normal(_f64([0.0, 0.0]), _f64([1.0, 1.0])).log_prob(_f64([0.0, 0.0, 0.0]))
    assert D.Normal(_f64([0.0]), _f64([-1.0]), validate_args=False).scale.item() == -1.0


def test_expand_and_shapes():
    d = D.Gamma(_f64([1.0, 2.0]), _f64(1.0)).expand((3, 2))
    assert d.batch_shape == (3, 2) and d.log_prob(_f64(0.5)).shape == (3, 2)
    assert d.sample((4,)).shape == (4, 3, 2)
    m = D.MultivariateNormal(_f64([0.0, 0.0]), scale_tril=_f64(TRIL)).expand((5,))
    assert m.batch_shape == (5,) and m.rsample((2,)).shape == (2, 5, 2)
    o = D.OneHotCategorical(_f64([0.2, 0.8])).expand((3,))
    assert o.sample().shape == (3, 2) and o.log_prob(_f64([0.0, 1.0])).shape == (3,)
    ln = D.LogNormal(_f64(0.0), _f64(1.0)).expand((4,))
    assert ln.batch_shape == (4,) and ln.sample().shape == (4,)
    assert "scale" in repr(D.Normal(_f64([0.0]), _f64([1.0])))
