"""KL divergences registered beyond Normal/Bernoulli/Categorical: against PyTorch with the same
parameters, against Monte Carlo estimates E_p[log p - log q] and closed forms without it, zero
for KL(p || p), and gradients."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.distributions as D


def _f64(v, requires_grad=False):
    return tg.tensor(v, dtype=tg.float64, requires_grad=requires_grad)


TRIL_P, TRIL_Q = [[1.0, 0.0], [0.5, 2.0]], [[1.5, 0.0], [-0.3, 0.8]]
PAIRS = [
    ("Uniform", dict(low=[0.0, 0.5], high=[1.0, 1.0]), dict(low=[-1.0, 0.0], high=[2.0, 0.9])),
    ("Exponential", dict(rate=[0.5, 2.0]), dict(rate=[1.5, 0.3])),
    ("Gamma", dict(concentration=[0.5, 3.0], rate=[1.0, 2.0]),
     dict(concentration=[2.0, 1.0], rate=[0.5, 3.0])),
    ("Beta", dict(concentration1=[0.5, 3.0], concentration0=[1.0, 2.0]),
     dict(concentration1=[2.0, 1.0], concentration0=[0.5, 3.0])),
    ("Dirichlet", dict(concentration=[[0.5, 3.0, 1.0]]), dict(concentration=[[2.0, 1.0, 1.5]])),
    ("Laplace", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), dict(loc=[1.0, -1.0], scale=[2.0, 0.3])),
    ("HalfNormal", dict(scale=[1.0, 0.5]), dict(scale=[2.0, 0.3])),
    ("MultivariateNormal", dict(loc=[1.0, -1.0], scale_tril=TRIL_P),
     dict(loc=[0.0, 0.5], scale_tril=TRIL_Q)),
    ("OneHotCategorical", dict(probs=[[0.2, 0.3, 0.5]]), dict(probs=[[0.5, 0.25, 0.25]])),
    ("Poisson", dict(rate=[0.5, 3.0]), dict(rate=[1.5, 2.0])),
    ("Geometric", dict(probs=[0.3, 0.7]), dict(probs=[0.5, 0.2])),
    ("Binomial", dict(total_count=[5.0], probs=[0.3, 0.7]), dict(total_count=[5.0],
                                                                   probs=[0.5, 0.2])),
]
IDS = [p[0] for p in PAIRS]


def _make(lib, name, params, tensor, **kwargs):
    return getattr(lib, name)(**{k: tensor(v) for k, v in params.items()}, **kwargs)


@pytest.mark.parametrize("name,p,q", PAIRS, ids=IDS)
def test_kl_against_torch(name, p, q):
    torch = pytest.importorskip("torch")
    t64 = lambda v: torch.tensor(v, dtype=torch.float64)     # noqa: E731
    expected = torch.distributions.kl_divergence(_make(torch.distributions, name, p, t64),
                                                 _make(torch.distributions, name, q, t64))
    got = D.kl_divergence(_make(D, name, p, _f64), _make(D, name, q, _f64))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name,p,q", PAIRS, ids=IDS)
def test_kl_matches_monte_carlo_and_is_zero_on_itself(name, p, q):
    dp, dq = _make(D, name, p, _f64), _make(D, name, q, _f64, validate_args=False)
    np.testing.assert_allclose(D.kl_divergence(dp, dp).numpy(), 0, atol=1e-12)
    kl = D.kl_divergence(dp, dq).numpy()
    tg.manual_seed(0)
    x = dp.sample((20000,))
    log_ratio = (dp.log_prob(x) - dq.log_prob(x)).numpy()
    finite = np.isfinite(kl)
    se = log_ratio[:, finite].std(0) / math.sqrt(20000) if finite.any() else 0
    assert (np.abs(log_ratio.mean(0)[finite] - kl[finite]) < 5 * se + 1e-9).all(), name


def test_uniform_kl_infinite_outside_and_gradients():
    p, q = D.Uniform(_f64([0.0]), _f64([2.0])), D.Uniform(_f64([0.5]), _f64([1.0]))
    assert D.kl_divergence(p, q).item() == math.inf
    assert abs(D.kl_divergence(q, p).item() - math.log(4.0)) < 1e-15
    a, b = _f64([0.5, 2.0], True), _f64([1.5, 0.7], True)
    q_gamma = D.Gamma(_f64([1.0, 2.0]), _f64([2.0, 1.0]))
    assert tg.autograd.gradcheck(lambda c, r: D.kl_divergence(D.Gamma(c, r), q_gamma), (a, b))
    assert tg.autograd.gradcheck(
        lambda c, r: D.kl_divergence(D.Beta(c, r), D.Beta(_f64(1.5), _f64(2.5))), (a, b))
    loc = _f64([0.3, -0.2], True)
    tril = _f64([[1.0, 0.0], [0.4, 1.3]], True)
    q_mvn = D.MultivariateNormal(_f64([0.0, 0.5]), scale_tril=_f64(TRIL_Q))
    assert tg.autograd.gradcheck(lambda l, t: D.kl_divergence(
        D.MultivariateNormal(l, scale_tril=t.tril()), q_mvn), (loc, tril))


def test_missing_pair_raises():
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Gamma(_f64(1.0), _f64(1.0)), D.Exponential(_f64(1.0)))
