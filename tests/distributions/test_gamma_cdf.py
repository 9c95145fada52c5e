"""Gamma.cdf, Chi2.cdf and InverseGamma.cdf (through igamma): closed forms, gradients in the
value and the rate (none in the concentration, as PyTorch), no icdf, and PyTorch's values."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.distributions import Chi2, Gamma, InverseGamma


def t64(values, requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_closed_forms():
    x = np.array([0.0, 0.1, 1.0, 3.5, 20.0])
    # concentration 1 is the exponential distribution; Chi2 with 2 dof is exponential with rate 1/2
    np.testing.assert_allclose(Gamma(t64(1.0), t64(2.5)).cdf(t64(x)).numpy(),
                               -np.expm1(-2.5 * x), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(Chi2(t64(2.0)).cdf(t64(x)).numpy(), -np.expm1(-x / 2),
                               rtol=1e-13, atol=1e-16)
    # Chi2 with 1 dof: erf(sqrt(x / 2)); concentration 2: 1 - e**-rx (1 + rx)
    np.testing.assert_allclose(Chi2(t64(1.0)).cdf(t64(x)).numpy(),
                               [math.erf(math.sqrt(v / 2)) for v in x], rtol=1e-13)
    np.testing.assert_allclose(Gamma(t64(2.0), t64(0.5)).cdf(t64(x)).numpy(),
                               1 - np.exp(-0.5 * x) * (1 + 0.5 * x), rtol=1e-12, atol=1e-16)
    # InverseGamma: P(1/X <= y) = P(X >= 1/y) = Q(c, r / y), taken as 1 - P(c, r / y) (as
    # PyTorch's TransformedDistribution does), so absolutely accurate only
    y = np.array([0.2, 1.0, 4.0])
    np.testing.assert_allclose(InverseGamma(t64(1.0), t64(3.0)).cdf(t64(y)).numpy(),
                               np.exp(-3.0 / y), rtol=1e-13, atol=1e-16)
    batch = Gamma(t64([1.0, 2.0]), t64([[1.0], [3.0]])).cdf(t64(0.5))
    assert batch.shape == (2, 2)
    np.testing.assert_allclose(batch.numpy()[1, 0], -math.expm1(-1.5), rtol=1e-13)


def test_gradients_and_no_icdf():
    c = t64([0.8, 2.0, 30.0])
    rate = t64([1.5, 0.7, 1.0], requires_grad=True)
    value = t64([0.4, 2.0, 28.0], requires_grad=True)
    assert gradcheck(lambda r, v: Gamma(c, r).cdf(v), (rate, value))
    assert gradgradcheck(lambda r, v: Gamma(c, r).cdf(v), (rate, value))
    assert gradcheck(lambda r, v: InverseGamma(c, r).cdf(v), (rate, value))
    df = t64([3.0])
    assert gradcheck(lambda v: Chi2(df).cdf(v), (t64([2.5], requires_grad=True),))
    # the exponential density is the CDF's derivative in the value
    value = t64([0.3, 1.7], requires_grad=True)
    Gamma(t64(1.0), t64(2.0)).cdf(value).sum().backward()
    np.testing.assert_allclose(value.grad.numpy(), 2 * np.exp(-2 * value.detach().numpy()),
                               rtol=1e-13)
    c.requires_grad_()
    with pytest.raises(NotImplementedError, match="derivative for 'igamma: input'"):
        Gamma(c, rate).cdf(value[:1]).sum().backward()
    for dist in (Gamma(t64(2.0), t64(1.0)), Chi2(t64(2.0)), InverseGamma(t64(2.0), t64(1.0))):
        with pytest.raises(NotImplementedError):
            dist.icdf(t64(0.5))


def test_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.05, 0.5, 1.0, 2.0, 7.5])
    cases = [(Gamma, torch.distributions.Gamma, (2.0, 3.0)),
             (Chi2, torch.distributions.Chi2, (3.0,)),
             (InverseGamma, torch.distributions.InverseGamma, (2.0, 3.0))]
    for ours, theirs, args in cases:
        for dtype, rtol in ((np.float64, 1e-13), (np.float32, 2e-6)):
            got = ours(*(tg.tensor(np.asarray(a, dtype)) for a in args)).cdf(
                tg.tensor(x.astype(dtype))).numpy()
            want = theirs(*(torch.tensor(a, dtype=getattr(torch, dtype.__name__))
                            for a in args)).cdf(torch.from_numpy(x.astype(dtype))).numpy()
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-7, err_msg=ours.__name__)
