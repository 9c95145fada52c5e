"""LogisticNormal, Wishart and LKJCholesky: log densities against closed forms (one-dimensional
Wishart is a Gamma, the 2 x 2 LKJ correlation a scaled Beta) and PyTorch when installed, seeded
sample moments, samples in the support, gradchecks and bad input."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.distributions as D
from tinygen.distributions import constraints as C
from tinygen.distributions.exp_family import ExponentialFamily

SIGMA = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])
X = np.array([[3.0, 0.5, 0.2], [0.5, 2.0, 0.1], [0.2, 0.1, 1.5]])


def _f64(v, requires_grad=False):
    return tg.tensor(v, dtype=tg.float64, requires_grad=requires_grad)


def test_logistic_normal_sample_log_prob_and_grad():
    tg.manual_seed(0)
    loc, scale = _f64([0.3, -0.2], True), _f64([1.2, 0.5], True)
    d = D.LogisticNormal(loc, scale)
    assert d.batch_shape == () and d.event_shape == (3,)
    y = d.rsample((50,))
    assert tuple(y.shape) == (50, 3) and bool(C.simplex.check(y).all())
    y.sum().backward()                          # rsample reaches the parameters
    assert loc.grad is not None
    # the density is the Normal's at the preimage minus the stick-breaking log-det
    v = _f64([0.2, 0.5, 0.3])
    t = D.StickBreakingTransform()
    x = t.inv(v)
    ref = D.Normal(loc, scale).log_prob(x).sum() - t.log_abs_det_jacobian(x, v)
    np.testing.assert_allclose(d.log_prob(v).item(), ref.item(), rtol=1e-12)
    assert tg.autograd.gradcheck(lambda a, b: D.LogisticNormal(a, b).log_prob(v),
                                 (loc.detach().requires_grad_(), scale.detach().requires_grad_()))
    np.testing.assert_allclose(D.LogisticNormal(loc, scale).loc.detach().numpy(), [0.3, -0.2])


def _digamma(a, h=1e-5):
    return (math.lgamma(a + h) - math.lgamma(a - h)) / (2 * h)


def _wishart_ref_1d(x, df, var):
    """W_1(df, var) is Gamma(df / 2, rate 1 / (2 var))."""
    a, rate = df / 2, 1 / (2 * var)
    return a * math.log(rate) - math.lgamma(a) + (a - 1) * math.log(x) - rate * x


def test_wishart_one_dimensional_is_a_gamma():
    for df, var, x in [(2.5, 1.3, 0.7), (4.0, 0.5, 2.0)]:
        w = D.Wishart(df, covariance_matrix=_f64([[var]]))
        np.testing.assert_allclose(w.log_prob(_f64([[x]])).item(), _wishart_ref_1d(x, df, var),
                                   rtol=1e-12)
        a = df / 2                                       # Gamma entropy
        ent = a - math.log(1 / (2 * var)) + math.lgamma(a) + (1 - a) * _digamma(a)
        np.testing.assert_allclose(w.entropy().item(), ent, rtol=1e-8)


def test_wishart_parameterisations_agree_and_moments():
    L = np.linalg.cholesky(SIGMA)
    ws = [D.Wishart(5.0, covariance_matrix=_f64(SIGMA)),
          D.Wishart(5.0, precision_matrix=_f64(np.linalg.inv(SIGMA))),
          D.Wishart(_f64(5.0), scale_tril=_f64(L))]
    for w in ws:
        np.testing.assert_allclose(w.log_prob(_f64(X)).item(), ws[0].log_prob(_f64(X)).item(),
                                   rtol=1e-10)
        np.testing.assert_allclose(w.scale_tril.numpy(), L, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(w.mean.numpy(), 5.0 * SIGMA, rtol=1e-10)
        np.testing.assert_allclose(w.mode.numpy(), (5.0 - 4) * SIGMA, rtol=1e-10)
    d = np.diag(SIGMA)
    np.testing.assert_allclose(ws[0].variance.numpy(), 5.0 * (SIGMA ** 2 + np.outer(d, d)))
    # the exponential-family entropy (from the log-normaliser by autograd) agrees
    np.testing.assert_allclose(ExponentialFamily.entropy(ws[0]).item(), ws[0].entropy().item(),
                               rtol=1e-10)
    tg.manual_seed(1)
    s = ws[2].sample((4000,))
    assert bool(C.positive_definite.check(s).all())
    np.testing.assert_allclose(s.mean(0).numpy(), 5.0 * SIGMA, rtol=0.1, atol=0.1)


def test_wishart_batched_rsample_grad_and_gradcheck():
    L = _f64(np.linalg.cholesky(SIGMA), True)
    df = _f64([4.0, 6.0], True)
    w = D.Wishart(df, scale_tril=L)
    assert w.batch_shape == (2,) and w.event_shape == (3, 3)
    tg.manual_seed(2)
    s = w.rsample((3,))
    assert tuple(s.shape) == (3, 2, 3, 3)
    s.sum().backward()
    assert L.grad is not None and df.grad is not None
    assert tuple(w.expand((4, 2)).sample().shape) == (4, 2, 3, 3)
    assert np.isnan(D.Wishart(3.5, covariance_matrix=_f64(SIGMA)).mode.numpy()).all()

    def log_prob(tril, nu, x):
        return D.Wishart(nu, scale_tril=tril, validate_args=False).log_prob(x @ x.mT)
    assert tg.autograd.gradcheck(log_prob, (L.detach().requires_grad_(), _f64(4.5, True),
                                            _f64(np.linalg.cholesky(X), True)))


def test_wishart_bad_input():
    with pytest.raises(AssertionError, match="Exactly one of"):
        D.Wishart(4.0, covariance_matrix=_f64(SIGMA), scale_tril=_f64(SIGMA))
    with pytest.raises(ValueError, match="greater than ndim - 1 = 2"):
        D.Wishart(1.5, covariance_matrix=_f64(SIGMA))
    with pytest.raises(ValueError, match="at least two-dimensional"):
        D.Wishart(4.0, covariance_matrix=_f64([1.0, 2.0]))
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.Wishart(4.0, covariance_matrix=_f64(-SIGMA))
    with pytest.warns(UserWarning, match="Low df"):
        D.Wishart(2.5, covariance_matrix=_f64(SIGMA))


def test_lkj_two_dimensional_correlation_is_a_scaled_beta():
    for eta in (0.5, 1.0, 3.0):
        d = D.LKJCholesky(2, _f64(eta))
        for r in (-0.7, 0.1, 0.9):
            L = _f64([[1.0, 0.0], [r, math.sqrt(1 - r * r)]])
            u = (r + 1) / 2                              # (r + 1) / 2 ~ Beta(eta, eta)
            log_beta = 2 * math.lgamma(eta) - math.lgamma(2 * eta)
            ref = (eta - 1) * math.log(u * (1 - u)) - log_beta - math.log(2)
            np.testing.assert_allclose(d.log_prob(L).item(), ref, rtol=1e-10)
    tg.manual_seed(3)
    s = D.LKJCholesky(2, 2.0).sample((4000,))
    r = s[:, 1, 0].numpy()
    np.testing.assert_allclose([r.mean(), (r ** 2).mean()], [0.0, 1 / 5], atol=0.02)


def test_lkj_samples_in_support_batch_and_gradcheck():
    tg.manual_seed(4)
    d = D.LKJCholesky(4, _f64([0.5, 2.0]))
    s = d.sample((5,))
    assert tuple(s.shape) == (5, 2, 4, 4) and bool(C.corr_cholesky.check(s).all())
    assert tuple(d.log_prob(s).shape) == (5, 2)
    assert tuple(d.expand((3, 2)).sample().shape) == (3, 2, 4, 4)
    value = s[0, 0]
    assert tg.autograd.gradcheck(lambda c: D.LKJCholesky(4, c).log_prob(value),
                                 (_f64([0.7, 1.5], True),))
    with pytest.raises(ValueError, match="dim to be an integer greater than or equal to 2"):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="concentration"):
        D.LKJCholesky(3, _f64(-1.0))
    with pytest.raises(ValueError, match="support"):
        d.log_prob(_f64(np.eye(4) * 2))


def test_against_torch():
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    loc, scale, v = [0.3, -0.2, 1.0], [1.2, 0.5, 0.8], [0.1, 0.2, 0.3, 0.4]
    np.testing.assert_allclose(
        D.LogisticNormal(_f64(loc), _f64(scale)).log_prob(_f64(v)).item(),
        TD.LogisticNormal(torch.tensor(loc, dtype=torch.float64),
                          torch.tensor(scale, dtype=torch.float64)).log_prob(
            torch.tensor(v, dtype=torch.float64)).item(), rtol=1e-12)
    P = np.linalg.inv(SIGMA)
    for kw, m in [("covariance_matrix", SIGMA), ("precision_matrix", P),
                  ("scale_tril", np.linalg.cholesky(SIGMA))]:
        ours = D.Wishart(_f64([4.5, 7.0]), **{kw: _f64(m)})
        theirs = TD.Wishart(torch.tensor([4.5, 7.0], dtype=torch.float64),
                            **{kw: torch.tensor(m)})
        np.testing.assert_allclose(ours.log_prob(_f64(X)).numpy(),
                                   theirs.log_prob(torch.tensor(X)).numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.variance.numpy(), theirs.variance.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.precision_matrix.numpy(),
                                   theirs.precision_matrix.numpy(), rtol=1e-10, atol=1e-12)
    conc = torch.tensor([0.5, 2.0], dtype=torch.float64)
    torch.manual_seed(0)
    value = TD.LKJCholesky(3, conc).sample((4,))
    np.testing.assert_allclose(D.LKJCholesky(3, _f64([0.5, 2.0])).log_prob(
        _f64(value.numpy())).numpy(), TD.LKJCholesky(3, conc).log_prob(value).numpy(),
        rtol=1e-10)
