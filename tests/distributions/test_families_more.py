"""The families PyTorch has beyond the common ones: Weibull, Pareto, NegativeBinomial, VonMises,
ContinuousBernoulli, FisherSnedecor, InverseGamma, Kumaraswamy, GeneralizedPareto,
OneHotCategoricalStraightThrough and the ExponentialFamily base. Densities against NumPy closed
forms and against PyTorch (same parameters) when installed; seeded sample moments; gradients by
gradcheck in float64; validate_args errors; expand."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.distributions as D

CASES = [
    ("Weibull", dict(scale=[1.0, 2.0], concentration=[0.7, 3.0]), [0.5, 1.5]),
    ("Pareto", dict(scale=[1.0, 2.0], alpha=[2.5, 5.0]), [1.5, 3.0]),
    ("NegativeBinomial", dict(total_count=[3.0, 2.5], probs=[0.3, 0.6]), [0.0, 4.0]),
    ("VonMises", dict(loc=[0.0, 1.0], concentration=[0.5, 5.0]), [0.3, -1.0]),
    ("ContinuousBernoulli", dict(probs=[0.2, 0.4995]), [0.3, 0.8]),
    ("FisherSnedecor", dict(df1=[3.0, 6.0], df2=[5.0, 9.0]), [0.5, 1.5]),
    ("InverseGamma", dict(concentration=[1.5, 3.0], rate=[1.0, 2.0]), [0.5, 1.5]),
    ("Kumaraswamy", dict(concentration1=[1.5, 2.0], concentration0=[2.5, 3.0]), [0.3, 0.8]),
    ("GeneralizedPareto", dict(loc=[0.0, 1.0], scale=[1.0, 2.0], concentration=[0.2, -0.1]),
     [0.5, 1.5]),
]
IDS = [c[0] for c in CASES]


def make(name, params, dtype=tg.float64):
    return getattr(D, name)(**{k: tg.tensor(v, dtype=dtype) for k, v in params.items()})


def _lgamma(x):
    return np.vectorize(math.lgamma)(np.asarray(x, dtype=np.float64))


def ref_log_prob(name, p, x):
    """NumPy closed-form log densities."""
    x = np.asarray(x)
    p = {k: np.asarray(v) for k, v in p.items()}
    if name == "Weibull":
        s, k = p["scale"], p["concentration"]
        return np.log(k / s) + (k - 1) * np.log(x / s) - (x / s) ** k
    if name == "Pareto":
        a, s = p["alpha"], p["scale"]
        return np.log(a) + a * np.log(s) - (a + 1) * np.log(x)
    if name == "NegativeBinomial":
        r, q = p["total_count"], p["probs"]
        return _lgamma(x + r) - _lgamma(x + 1) - _lgamma(r) + r * np.log1p(-q) + x * np.log(q)
    if name == "VonMises":
        k = p["concentration"]
        return k * np.cos(x - p["loc"]) - np.log(2 * np.pi * np.i0(k))
    if name == "ContinuousBernoulli":
        q = p["probs"]
        log_c = np.log(2 * np.arctanh(1 - 2 * q) / (1 - 2 * q))
        return log_c + x * np.log(q) + (1 - x) * np.log1p(-q)
    if name == "FisherSnedecor":
        d1, d2 = p["df1"], p["df2"]
        lbeta = _lgamma(d1 / 2) + _lgamma(d2 / 2) - _lgamma((d1 + d2) / 2)
        return 0.5 * d1 * np.log(d1 / d2) + (d1 / 2 - 1) * np.log(x) \
            - (d1 + d2) / 2 * np.log1p(d1 * x / d2) - lbeta
    if name == "InverseGamma":
        c, r = p["concentration"], p["rate"]
        return c * np.log(r) - _lgamma(c) - (c + 1) * np.log(x) - r / x
    if name == "Kumaraswamy":
        a, b = p["concentration1"], p["concentration0"]
        return np.log(a * b) + (a - 1) * np.log(x) + (b - 1) * np.log1p(-x ** a)
    if name == "GeneralizedPareto":
        xi, s = p["concentration"], p["scale"]
        z = (x - p["loc"]) / s
        return -np.log(s) - (1 / xi + 1) * np.log1p(xi * z)
    raise KeyError(name)


@pytest.mark.parametrize("name,params,value", CASES, ids=IDS)
def test_log_prob_closed_form(name, params, value):
    d = make(name, params)
    got = d.log_prob(tg.tensor(value, dtype=tg.float64)).numpy()
    # VonMises' I0 is PyTorch's polynomial approximation (about 1e-7 relative)
    np.testing.assert_allclose(got, ref_log_prob(name, params, value), rtol=1e-6, atol=1e-7)


def test_moments_closed_form():
    w = make("Weibull", dict(scale=[2.0], concentration=[1.0]))    # Exponential(1/2)
    np.testing.assert_allclose([w.mean.item(), w.variance.item(), w.entropy().item()],
                               [2.0, 4.0, 1 + math.log(2.0)])
    p = make("Pareto", dict(scale=[1.0], alpha=[3.0]))
    np.testing.assert_allclose([p.mean.item(), p.variance.item()], [1.5, 0.75])
    ig = make("InverseGamma", dict(concentration=[3.0], rate=[2.0]))
    np.testing.assert_allclose([ig.mean.item(), ig.variance.item(), ig.mode.item()],
                               [1.0, 1.0, 0.5])
    k = make("Kumaraswamy", dict(concentration1=[1.0], concentration0=[1.0]))   # uniform
    np.testing.assert_allclose([k.mean.item(), k.variance.item(), k.entropy().item()],
                               [0.5, 1 / 12, 0.0], atol=1e-12)
    k = make("Kumaraswamy", dict(concentration1=[2.0], concentration0=[3.0]))
    np.testing.assert_allclose(k.mode.item(), (1 / 5) ** 0.5)      # ((a-1)/(ab-1))^(1/a)
    f = make("FisherSnedecor", dict(df1=[4.0], df2=[6.0]))
    np.testing.assert_allclose([f.mean.item(), f.mode.item()], [1.5, 0.375])
    assert math.isnan(make("FisherSnedecor", dict(df1=[1.0], df2=[2.0])).mean.item())
    g = make("GeneralizedPareto", dict(loc=[1.0], scale=[2.0], concentration=[0.0]))
    np.testing.assert_allclose([g.mean.item(), g.variance.item(), g.entropy().item()],
                               [3.0, 4.0, math.log(2.0) + 1])
    np.testing.assert_allclose(g.cdf(tg.tensor([3.0], dtype=tg.float64)).item(),
                               1 - math.exp(-1))
    nb = make("NegativeBinomial", dict(total_count=[4.0], probs=[0.25]))
    np.testing.assert_allclose([nb.mean.item(), nb.variance.item()], [4 / 3, 16 / 9])


@pytest.mark.parametrize("name,params,value", CASES, ids=IDS)
def test_against_torch(name, params, value):
    torch = pytest.importorskip("torch")
    import torch.distributions as TD
    # torch's GeneralizedPareto compares with a float32 zero, so it only runs in float32
    tdt, gdt = (torch.float32, tg.float32) if name == "GeneralizedPareto" else \
        (torch.float64, tg.float64)
    ours = make(name, params, gdt)
    theirs = getattr(TD, name)(**{k: torch.tensor(v, dtype=tdt) for k, v in params.items()})
    x, tx = tg.tensor(value, dtype=gdt), torch.tensor(value, dtype=tdt)
    rtol = 1e-5 if gdt == tg.float32 else 1e-9
    checks = [("log_prob", lambda d, v: d.log_prob(v)), ("entropy", lambda d, v: d.entropy()),
              ("mean", lambda d, v: d.mean), ("variance", lambda d, v: d.variance),
              ("cdf", lambda d, v: d.cdf(v))]
    if name != "Kumaraswamy":               # torch's Kumaraswamy.mode is always nan (a bug)
        checks.append(("mode", lambda d, v: d.mode))
    compared = 0
    for what, fn in checks:
        try:
            expected = fn(theirs, tx).numpy()
        except NotImplementedError:
            continue
        np.testing.assert_allclose(fn(ours, x).numpy(), expected, rtol=rtol, atol=rtol,
                                   err_msg=what)
        compared += 1
    assert compared >= 4
    assert ours.support.__class__.__name__ == theirs.support.__class__.__name__
    assert set(ours.arg_constraints) == set(theirs.arg_constraints)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.batch_shape == tuple(theirs.batch_shape)


@pytest.mark.parametrize("name,params,value", CASES, ids=IDS)
def test_sample_moments_and_expand(name, params, value):
    d = make(name, params)
    tg.manual_seed(0)
    s = d.sample((4000,))
    assert tuple(s.shape) == (4000, 2) and s.dtype == tg.float64
    assert bool(d.support.check(s).all())
    if name == "VonMises":                  # the circular mean: E cos(x - loc) = I1 / I0
        got = (s - d.loc).cos().mean(0).numpy()
        want = 1 - d.variance.numpy()
    else:
        got, want = s.mean(0).numpy(), d.mean.numpy()
    sd = np.sqrt(d.variance.numpy()) if name != "VonMises" else np.ones(2)
    assert np.all(np.abs(got - want) < 5 * sd / math.sqrt(4000)), (got, want)
    e = d.expand((3, 2))
    assert e.batch_shape == (3, 2) and tuple(e.sample((5,)).shape) == (5, 3, 2)
    np.testing.assert_allclose(e.log_prob(tg.tensor(value, dtype=tg.float64)).numpy(),
                               np.broadcast_to(d.log_prob(tg.tensor(value, dtype=tg.float64))
                                               .numpy(), (3, 2)))


RSAMPLE = [c for c in CASES if c[0] in ("Weibull", "Pareto", "Kumaraswamy",
                                        "GeneralizedPareto", "ContinuousBernoulli")]


@pytest.mark.parametrize("name,params,value", RSAMPLE, ids=[c[0] for c in RSAMPLE])
def test_rsample_gradcheck(name, params, value):
    names = list(params)
    leaves = [tg.tensor(params[k], dtype=tg.float64, requires_grad=True) for k in names]

    def fn(*args):
        tg.manual_seed(3)                   # the same noise at every evaluation
        return getattr(D, name)(**dict(zip(names, args)), validate_args=False).rsample((2,))

    assert tg.autograd.gradcheck(fn, leaves)


@pytest.mark.parametrize("name,params,value", CASES, ids=IDS)
def test_log_prob_gradcheck(name, params, value):
    names = [k for k in params if not (name == "NegativeBinomial" and k == "total_count")]
    leaves = [tg.tensor(params[k], dtype=tg.float64, requires_grad=True) for k in names]
    x = tg.tensor(value, dtype=tg.float64)

    def fn(*args):
        kw = dict(params, **dict(zip(names, args)))
        kw = {k: v if isinstance(v, tg.Tensor) else tg.tensor(v, dtype=tg.float64)
              for k, v in kw.items()}
        return getattr(D, name)(**kw, validate_args=False).log_prob(x)

    assert tg.autograd.gradcheck(fn, leaves)
    if name in ("Weibull", "VonMises", "InverseGamma"):
        assert tg.autograd.gradgradcheck(fn, leaves)


def test_rsample_gradient_through_gamma():
    """FisherSnedecor and InverseGamma reparameterise through Gamma draws: gradients flow."""
    for d, p in [(D.FisherSnedecor, "df1"), (D.InverseGamma, "rate")]:
        a = tg.tensor([3.0, 5.0], dtype=tg.float64, requires_grad=True)
        b = tg.tensor([4.0, 6.0], dtype=tg.float64)
        args = (a, b) if p == "df1" else (b, a)
        tg.manual_seed(0)
        d(*args).rsample((8,)).sum().backward()
        assert a.grad is not None and bool(a.grad.isfinite().all()) and bool((a.grad != 0).all())
    rate = tg.tensor([2.0], dtype=tg.float64, requires_grad=True)
    tg.manual_seed(0)
    s = D.InverseGamma(tg.tensor([3.0], dtype=tg.float64), rate).rsample()
    s.backward()                            # 1 / Gamma(c, r) = (1 / Gamma(c, 1)) * r
    np.testing.assert_allclose(rate.grad.item(), s.item() / 2.0)


def test_validate_args_errors():
    bad = [(D.Weibull, (0.0, 1.0)), (D.Pareto, (1.0, -1.0)), (D.VonMises, (0.0, -1.0)),
           (D.FisherSnedecor, (-1.0, 2.0)), (D.InverseGamma, (1.0, 0.0)),
           (D.Kumaraswamy, (0.0, 1.0)), (D.GeneralizedPareto, (0.0, -1.0, 0.1))]
    for cls, args in bad:
        with pytest.raises(ValueError, match="to satisfy the constraint"):
            cls(*[tg.tensor([a]) for a in args], validate_args=True)
    with pytest.raises(ValueError, match="to satisfy the constraint"):
        D.NegativeBinomial(2.0, probs=tg.tensor([1.0]), validate_args=True)   # [0, 1)
    with pytest.raises(ValueError, match="probs has invalid values"):
        D.ContinuousBernoulli(probs=tg.tensor([1.5]), validate_args=True)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.NegativeBinomial(2.0)
    outside = [(D.Pareto(tg.tensor([2.0]), tg.tensor([1.0])), 1.0),
               (D.NegativeBinomial(2.0, probs=tg.tensor([0.5])), 1.5),
               (D.Kumaraswamy(tg.tensor([2.0]), tg.tensor([2.0])), 1.5),
               (D.GeneralizedPareto(tg.tensor([0.0]), tg.tensor([1.0]), tg.tensor([-0.5])),
                3.0)]
    for d, v in outside:
        with pytest.raises(ValueError, match="within the support"):
            d.log_prob(tg.tensor([v]))


def test_negative_binomial_logits_and_samples():
    logits = tg.tensor([-1.0, 0.5], dtype=tg.float64)
    a = D.NegativeBinomial(tg.tensor([2.0, 3.0], dtype=tg.float64), logits=logits)
    b = D.NegativeBinomial(tg.tensor([2.0, 3.0], dtype=tg.float64), probs=logits.sigmoid())
    x = tg.tensor([1.0, 4.0], dtype=tg.float64)
    np.testing.assert_allclose(a.log_prob(x).numpy(), b.log_prob(x).numpy())
    tg.manual_seed(1)
    s = a.sample((3,))
    assert bool((s == s.floor()).all()) and bool((s >= 0).all())
    zero = D.NegativeBinomial(tg.tensor([0.0]), probs=tg.tensor([0.5]))
    assert zero.log_prob(tg.tensor([0.0])).item() == 0.0          # the 0 + 0 mass is 1


def test_continuous_bernoulli_exponential_family():
    """ExponentialFamily.entropy (Bregman divergence through autograd) matches the closed form,
    and the Taylor branch near p = 1/2 agrees with the closed form just outside it."""
    cb = D.ContinuousBernoulli(probs=tg.tensor([0.1, 0.3, 0.8], dtype=tg.float64))
    np.testing.assert_allclose(D.ExponentialFamily.entropy(cb).detach().numpy(),
                               cb.entropy().numpy(),
                               rtol=1e-9)
    near = D.ContinuousBernoulli(probs=tg.tensor([0.4999, 0.4989], dtype=tg.float64))
    np.testing.assert_allclose(near.mean.numpy(), [0.49996667, 0.49963334], rtol=1e-6)
    np.testing.assert_allclose(cb.cdf(cb.icdf(tg.tensor([0.25, 0.6, 0.9], dtype=tg.float64)))
                               .numpy(), [0.25, 0.6, 0.9])


def test_one_hot_straight_through():
    logits = tg.tensor([[0.1, 1.0, -0.5], [2.0, 0.0, 0.3]], dtype=tg.float64,
                       requires_grad=True)
    d = D.OneHotCategoricalStraightThrough(logits=logits)
    assert d.has_rsample and not D.OneHotCategorical.has_rsample
    tg.manual_seed(0)
    s = d.rsample((4,))
    assert tuple(s.shape) == (4, 2, 3)
    np.testing.assert_allclose(s.detach().sum(-1).numpy(), np.ones((4, 2)))
    assert set(np.unique(s.detach().numpy()).tolist()) <= {0.0, 1.0}
    w = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)
    (s * w).sum().backward()
    probs = logits.detach().softmax(-1).numpy()
    jac = probs[..., :, None] * (np.eye(3) - probs[..., None, :])     # d softmax / d logits
    np.testing.assert_allclose(logits.grad.numpy(), 4 * jac @ w.numpy())


def test_von_mises_samples_on_circle():
    d = D.VonMises(tg.tensor([3.0], dtype=tg.float64), tg.tensor([20.0], dtype=tg.float64))
    tg.manual_seed(0)
    s = d.sample((2000,))
    assert bool((s >= -math.pi).all()) and bool((s < math.pi).all())
    np.testing.assert_allclose(math.atan2(s.sin().mean().item(), s.cos().mean().item()), 3.0,
                               atol=0.02)
    with pytest.raises(NotImplementedError, match="rsample"):
        d.rsample()


def _lowrank_params():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.uniform(0.5, 1.5, size=(2, 3)),
            rng.normal(size=(4, 2, 3)))


def test_lowrank_mvn_matches_full_mvn():
    loc, w, d, x = _lowrank_params()
    lr = D.LowRankMultivariateNormal(tg.tensor(loc), tg.tensor(w), tg.tensor(d))
    cov = w @ w.T + np.stack([np.diag(r) for r in d])
    full = D.MultivariateNormal(tg.tensor(loc), covariance_matrix=tg.tensor(cov))
    assert lr.batch_shape == (2,) and lr.event_shape == (3,)
    np.testing.assert_allclose(lr.covariance_matrix.numpy(), cov)
    np.testing.assert_allclose(lr.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-10)
    np.testing.assert_allclose(lr.scale_tril.numpy(), np.linalg.cholesky(cov), rtol=1e-10)
    np.testing.assert_allclose(lr.variance.numpy(), np.diagonal(cov, axis1=-2, axis2=-1))
    np.testing.assert_allclose(lr.log_prob(tg.tensor(x)).numpy(),
                               full.log_prob(tg.tensor(x)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(lr.entropy().numpy(), full.entropy().numpy(), rtol=1e-10)
    e = lr.expand((5, 2))
    assert e.batch_shape == (5, 2) and tuple(e.log_prob(tg.tensor(x[0])).shape) == (5, 2)
    tg.manual_seed(0)
    s = lr.rsample((4000,)).numpy()[:, 0]
    np.testing.assert_allclose(np.cov(s.T), cov[0], atol=0.25)


def test_lowrank_mvn_against_torch_and_grad():
    torch = pytest.importorskip("torch")
    loc, w, d, x = _lowrank_params()
    ours = D.LowRankMultivariateNormal(tg.tensor(loc), tg.tensor(w), tg.tensor(d))
    theirs = torch.distributions.LowRankMultivariateNormal(
        torch.tensor(loc), torch.tensor(w), torch.tensor(d))
    np.testing.assert_allclose(ours.log_prob(tg.tensor(x)).numpy(),
                               theirs.log_prob(torch.tensor(x)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-10)
    leaves = [tg.tensor(a, requires_grad=True) for a in (loc, w, d)]

    def fn(*args):
        return D.LowRankMultivariateNormal(*args, validate_args=False).log_prob(tg.tensor(x))

    assert tg.autograd.gradcheck(fn, leaves)

    def sample(*args):
        tg.manual_seed(2)
        return D.LowRankMultivariateNormal(*args, validate_args=False).rsample((2,))

    assert tg.autograd.gradcheck(sample, leaves)


def test_lowrank_mvn_errors():
    loc, w, d = tg.zeros(3), tg.ones(3, 1), tg.ones(3)
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices"):
        D.LowRankMultivariateNormal(loc, tg.ones(2, 1), d)
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors"):
        D.LowRankMultivariateNormal(loc, w, tg.ones(2))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        D.LowRankMultivariateNormal(tg.zeros(2, 3), tg.ones(4, 3, 1), d)
    with pytest.raises(ValueError, match="to satisfy the constraint"):
        D.LowRankMultivariateNormal(loc, w, -d, validate_args=True)


def test_kl_new_pairs():
    p = D.Pareto(tg.tensor([1.0, 2.0], dtype=tg.float64), tg.tensor([3.0, 2.0], dtype=tg.float64))
    q = D.Pareto(tg.tensor([1.5, 1.0], dtype=tg.float64), tg.tensor([2.0, 4.0], dtype=tg.float64))
    kl = D.kl_divergence(p, q).numpy()
    assert kl[0] == math.inf                       # p puts mass below q's support
    tg.manual_seed(0)                              # Monte Carlo E_p[log p - log q]
    x = p.sample((20000,))[:, 1:]
    mc = (p.log_prob(x.expand(-1, 2))[:, 1] - q.log_prob(x.expand(-1, 2))[:, 1]).mean().item()
    np.testing.assert_allclose(kl[1], mc, rtol=0.05)
    a = D.ContinuousBernoulli(probs=tg.tensor([0.2, 0.7], dtype=tg.float64))
    b = D.ContinuousBernoulli(probs=tg.tensor([0.6, 0.4999], dtype=tg.float64))
    grid = (np.arange(20000) + 0.5) / 20000             # midpoint rule on [0, 1]
    xs = tg.tensor(np.broadcast_to(grid[:, None], (20000, 2)).copy())
    lp, lq = a.log_prob(xs).numpy(), b.log_prob(xs).numpy()
    np.testing.assert_allclose(D.kl_divergence(a, b).numpy(), (np.exp(lp) * (lp - lq)).mean(0),
                               rtol=1e-6)
    torch = pytest.importorskip("torch")
    tp = torch.distributions.Pareto(torch.tensor([1.0, 2.0], dtype=torch.float64),
                                    torch.tensor([3.0, 2.0], dtype=torch.float64))
    tq = torch.distributions.Pareto(torch.tensor([1.5, 1.0], dtype=torch.float64),
                                    torch.tensor([2.0, 4.0], dtype=torch.float64))
    np.testing.assert_allclose(kl, torch.distributions.kl_divergence(tp, tq).numpy())
