"""tinygen.distributions: closed forms, seeded sampling, gradients, extreme logits, and PyTorch
itself when it is installed."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.distributions import (
    Bernoulli, Categorical, Independent, Normal, kl_divergence)


def _f64(values, requires_grad=False):
    return tg.tensor(values, dtype=tg.float64, requires_grad=requires_grad)


def test_normal_log_prob_entropy_and_moments():
    loc, scale, x = np.array([0.0, 1.5, -2.0]), np.array([1.0, 0.5, 3.0]), np.array([0.3, 1.0, 2.0])
    d = Normal(_f64(loc), _f64(scale))
    expected = -(x - loc) ** 2 / (2 * scale ** 2) - np.log(scale) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(d.log_prob(_f64(x)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(d.entropy().numpy(), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale))
    np.testing.assert_allclose(d.variance.numpy(), scale ** 2)
    assert d.mean is d.loc and d.stddev is d.scale and d.batch_shape == (3,)
    assert Normal(0.0, 1.0).rsample((4, 2)).shape == (4, 2)
    assert Normal(0.0, 1.0).loc.dtype == tg.float32


def test_normal_samples_seeded_with_right_moments():
    d = Normal(_f64([2.0]), _f64([0.5]))
    tg.manual_seed(0)
    a = d.sample((20000,))
    tg.manual_seed(0)
    assert np.array_equal(a.numpy(), d.sample((20000,)).numpy())
    assert a.shape == (20000, 1) and not a.requires_grad
    assert abs(a.mean().item() - 2.0) < 0.02 and abs(a.std().item() - 0.5) < 0.02


def test_normal_rsample_and_log_prob_gradcheck():
    loc, scale = _f64([0.2, -1.0], True), _f64([0.7, 1.3], True)
    x = _f64([0.5, 0.1], True)

    def rsample(loc, scale):
        tg.manual_seed(3)                   # the same eps at every evaluation
        return Normal(loc, scale).rsample((3,))
    assert tg.autograd.gradcheck(rsample, (loc, scale))
    assert tg.autograd.gradcheck(lambda l, s, v: Normal(l, s).log_prob(v), (loc, scale, x))
    assert tg.autograd.gradcheck(lambda l, s: Normal(l, s).entropy(), (loc, scale))


def test_kl_normal_closed_form():
    p, q = Normal(_f64([0.0, 1.0]), _f64([1.0, 2.0])), Normal(_f64([1.0, -1.0]), _f64([2.0, 0.5]))
    m1, s1, m2, s2 = np.array([0, 1.0]), np.array([1, 2.0]), np.array([1, -1.0]), np.array([2, .5])
    expected = np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    np.testing.assert_allclose(kl_divergence(p, q).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(kl_divergence(p, p).numpy(), 0, atol=1e-15)
    lp, sp = _f64([0.1, 0.2], True), _f64([0.9, 1.1], True)
    assert tg.autograd.gradcheck(lambda l, s: kl_divergence(Normal(l, s), q), (lp, sp))


def test_independent_sums_event_dims():
    base = Normal(_f64(np.zeros((4, 3))), _f64(np.ones((4, 3))))
    d = Independent(base, 1)
    assert d.batch_shape == (4,) and d.event_shape == (3,) and d.has_rsample
    x = _f64(np.full((4, 3), 0.5))
    np.testing.assert_allclose(d.log_prob(x).numpy(), base.log_prob(x).sum(-1).numpy())
    np.testing.assert_allclose(kl_divergence(d, d).numpy(), np.zeros(4))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        Independent(base, 3)


def test_bernoulli_probs_and_logits_agree():
    p = np.array([0.1, 0.5, 0.8])
    a, b = Bernoulli(probs=_f64(p)), Bernoulli(logits=_f64(np.log(p / (1 - p))))
    x = _f64([1.0, 0.0, 0.0])
    expected = x.numpy() * np.log(p) + (1 - x.numpy()) * np.log(1 - p)
    for d in (a, b):
        np.testing.assert_allclose(d.log_prob(x).numpy(), expected, rtol=1e-10)
        np.testing.assert_allclose(d.entropy().numpy(), -(p * np.log(p) + (1 - p) * np.log(1 - p)),
                                   rtol=1e-10)
    np.testing.assert_allclose(a.logits.numpy(), b.logits.numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.probs.numpy(), p, rtol=1e-12)
    q = np.array([0.3, 0.3, 0.9])
    kl = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    np.testing.assert_allclose(kl_divergence(a, Bernoulli(_f64(q))).numpy(), kl, rtol=1e-10)
    with pytest.raises(ValueError, match="not both"):
        Bernoulli(probs=_f64(p), logits=_f64(p))
    with pytest.raises(ValueError, match="not both"):
        Bernoulli()


def test_bernoulli_sample_frequency_and_log_prob_grad():
    tg.manual_seed(0)
    draws = Bernoulli(probs=_f64([0.2, 0.9])).sample((20000,))
    assert draws.shape == (20000, 2) and set(np.unique(draws.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(0).numpy(), [0.2, 0.9], atol=0.015)
    logits = _f64([-2.0, 0.3, 4.0], True)
    x = _f64([1.0, 0.0, 1.0])
    assert tg.autograd.gradcheck(lambda l: Bernoulli(logits=l).log_prob(x), (logits,))
    assert tg.autograd.gradcheck(lambda l: Bernoulli(logits=l).entropy(), (logits,))


def test_extreme_logits_stay_finite():
    logits = _f64([1e4, -1e4, 1e4, -1e4], True)
    x = _f64([1.0, 0.0, 0.0, 1.0])
    d = Bernoulli(logits=logits)
    lp = d.log_prob(x)
    np.testing.assert_allclose(lp.detach().numpy(), [0, 0, -1e4, -1e4])
    lp.sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), [0, 0, -1, 1])
    np.testing.assert_allclose(d.entropy().detach().numpy(), 0, atol=1e-12)
    c = Categorical(logits=_f64([[1e4, -1e4, 0.0]]))
    np.testing.assert_allclose(c.log_prob(tg.tensor([0])).numpy(), [0.0])
    np.testing.assert_allclose(c.log_prob(tg.tensor([1])).numpy(), [-2e4])
    assert np.isfinite(c.entropy().numpy()).all() and abs(c.entropy().item()) < 1e-12
    assert np.isfinite(kl_divergence(c, Categorical(logits=_f64([[0.0, 0.0, 0.0]]))).numpy()).all()


def test_categorical_normalises_and_log_prob():
    c = Categorical(probs=_f64([[1.0, 3.0], [2.0, 2.0]]))
    np.testing.assert_allclose(c.probs.numpy(), [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(c.logits.numpy(), np.log([[0.25, 0.75], [0.5, 0.5]]))
    l = Categorical(logits=_f64([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(np.exp(l.logits.numpy()).sum(), 1.0)
    np.testing.assert_allclose(l.log_prob(tg.tensor([2, 0])).numpy(),
                               [3 - np.log(np.exp([1, 2, 3]).sum()),
                                1 - np.log(np.exp([1, 2, 3]).sum())])
    assert c.batch_shape == (2,) and c.event_shape == ()
    np.testing.assert_allclose(c.log_prob(tg.tensor([[1], [0]])).numpy(),
                               np.log([[0.75, 0.5], [0.25, 0.5]]))   # value broadcast (2, 1)
    np.testing.assert_allclose(c.entropy().numpy(), [-(0.25 * np.log(.25) + .75 * np.log(.75)),
                                                     np.log(2)])
    p, q = np.array([0.2, 0.8]), np.array([0.5, 0.5])
    kl = kl_divergence(Categorical(_f64(p)), Categorical(_f64(q)))
    np.testing.assert_allclose(kl.item(), (p * np.log(p / q)).sum())
    logits = _f64([[0.1, -0.4, 1.2]], True)
    assert tg.autograd.gradcheck(lambda z: Categorical(logits=z).log_prob(tg.tensor([2])),
                                 (logits,))
    assert tg.autograd.gradcheck(lambda z: Categorical(logits=z).entropy(), (logits,))


def test_categorical_sample_frequencies_seeded():
    c = Categorical(probs=_f64([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]]))
    tg.manual_seed(0)
    s = c.sample((30000,))
    tg.manual_seed(0)
    assert np.array_equal(s.numpy(), c.sample((30000,)).numpy())
    assert s.shape == (30000, 2) and s.dtype == tg.int64
    freq = [np.bincount(s.numpy()[:, r], minlength=3) / 30000 for r in range(2)]
    np.testing.assert_allclose(freq, [[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]], atol=0.015)
    assert c.sample().shape == (2,)


def test_kl_unregistered_pair_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="Normal.*Bernoulli"):
        kl_divergence(Normal(0.0, 1.0), Bernoulli(probs=0.5))


def test_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    def t64(values):
        return torch.tensor(values, dtype=torch.float64)
    loc, scale, x = [0.3, -1.0], [0.5, 2.0], [0.1, 0.4]
    ours, theirs = Normal(_f64(loc), _f64(scale)), td.Normal(t64(loc), t64(scale))
    np.testing.assert_allclose(ours.log_prob(_f64(x)).numpy(), theirs.log_prob(t64(x)).numpy())
    logits = [[2.0, -1.0, 0.5], [1e4, -1e4, 0.0]]
    for ours, theirs in [(Categorical(logits=_f64(logits)), td.Categorical(logits=t64(logits))),
                         (Bernoulli(logits=_f64(logits)), td.Bernoulli(logits=t64(logits)))]:
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.probs.numpy(), theirs.probs.numpy())
        np.testing.assert_allclose(kl_divergence(ours, ours).numpy(),
                                   td.kl_divergence(theirs, theirs).numpy(), atol=1e-12)
    value = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    np.testing.assert_allclose(Bernoulli(logits=_f64(logits)).log_prob(_f64(value)).numpy(),
                               td.Bernoulli(logits=t64(logits)).log_prob(t64(value)).numpy())
