"""igamma / igammac (torch.special.gammainc / gammaincc): closed forms in each of the regions
the kernel switches between (series, continued fraction, Temme's expansion), the edge values,
PyTorch's dtype rules and gradients, and PyTorch's values in float32 and float64."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck


def t64(values, requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def upper_integer(n, x):
    """Q(n, x) for an integer n: the Poisson tail sum_{k<n} x**k e**-x / k!."""
    return math.fsum(math.exp(k * math.log(x) - x - math.lgamma(k + 1)) for k in range(n))


def lower_integer(n, x):
    """P(n, x) for an integer n: the Poisson head sum_{k>=n} x**k e**-x / k! (no cancellation)."""
    top = n + int(x + 40 * math.sqrt(x) + 60)
    return math.fsum(math.exp(k * math.log(x) - x - math.lgamma(k + 1)) for k in range(n, top))


# PyTorch's Temme expansion (a > 20 near x) divides by sqrt(2 pi a) with pi in float32, which
# costs it ~1e-9 there; the kernel keeps that, to give PyTorch's values.
@pytest.mark.parametrize("a, xs, rtol", [
    (1, [1e-3, 0.3, 0.9, 1.05, 3.0, 40.0], 1e-12),   # P = 1 - e**-x: series, both fractions
    (3, [0.2, 0.7, 1.5, 2.9, 8.0], 1e-12),
    (30, [12.0, 60.0], 1e-12),                       # a > 20 away from x: series, fraction
    (30, [25.0, 29.0, 33.0], 1e-8),                  # a > 20 near x: the asymptotic expansion
    (300, [290.0, 300.0, 320.0], 1e-8),              # a > 200: the expansion's other region
])
def test_integer_a_matches_poisson_tail(a, xs, rtol):
    q = np.array([upper_integer(a, x) for x in xs])
    p = np.array([lower_integer(a, x) for x in xs])
    got_q = tg.igammac(t64([float(a)] * len(xs)), t64(xs)).numpy()
    got_p = tg.igamma(t64([float(a)] * len(xs)), t64(xs)).numpy()
    np.testing.assert_allclose(got_q, q, rtol=rtol, atol=1e-15)
    np.testing.assert_allclose(got_p, p, rtol=rtol, atol=1e-15)


def test_half_a_is_erf_and_p_plus_q_is_one():
    x = np.array([1e-4, 0.2, 0.5, 1.0, 2.5, 9.0])
    np.testing.assert_allclose(tg.special.gammainc(t64(0.5), t64(x)).numpy(),
                               [math.erf(math.sqrt(v)) for v in x], rtol=1e-13)
    np.testing.assert_allclose(tg.special.gammaincc(t64(0.5), t64(x)).numpy(),
                               [math.erfc(math.sqrt(v)) for v in x], rtol=1e-12)
    rng = np.random.default_rng(0)
    a, x = 10 ** rng.uniform(-2, 2.5, 200), 10 ** rng.uniform(-2, 2.5, 200)
    total = tg.igamma(t64(a), t64(x)) + tg.igammac(t64(a), t64(x))
    np.testing.assert_allclose(total.numpy(), 1, atol=1e-13)


def test_edges_as_pytorch():
    a = t64([0.0, 0.0, 1.0, -1.0, math.inf, 1.0, math.nan, 0.0, math.inf, 2.0, 2.0])
    x = t64([0.0, 1.0, 0.0, 1.0, 1.0, math.inf, 1.0, math.inf, math.inf, -1.0, math.nan])
    nan = math.nan
    np.testing.assert_array_equal(tg.igamma(a, x).numpy(),
                                  [nan, 1, 0, nan, 0, 1, nan, 1, nan, nan, nan])
    np.testing.assert_array_equal(tg.igammac(a, x).numpy(),
                                  [nan, 0, 1, nan, 1, 0, nan, 0, nan, nan, nan])


def test_dtypes_broadcasting_and_methods():
    a32 = tg.tensor([[1.0], [2.5]], dtype=tg.float32)
    x32 = tg.tensor([0.5, 1.0, 4.0], dtype=tg.float32)
    out = tg.igamma(a32, x32)
    assert out.dtype == tg.float32 and out.shape == (2, 3)
    np.testing.assert_allclose(out.numpy()[0], 1 - np.exp(-x32.numpy()), rtol=1e-6)
    assert tg.igamma(a32, t64([1.0, 2.0, 3.0])).dtype == tg.float64
    assert tg.igammac(a32, tg.tensor([1, 2, 3])).dtype == tg.float32
    with pytest.raises(NotImplementedError, match="igamma"):
        tg.igamma(tg.tensor([1, 2]), tg.tensor([1, 2]))
    y = t64([1.0, 2.0])
    np.testing.assert_allclose(y.igamma(t64([1.0, 1.0])).numpy(), tg.igamma(y, t64(1.0)).numpy())
    z = t64([1.0, 2.0])
    assert z.igammac_(t64([1.0, 1.0])) is z
    np.testing.assert_allclose(z.numpy(), [math.exp(-1), 2 * math.exp(-1)], rtol=1e-14)


def test_gradient_in_x_and_none_in_a():
    a = t64([0.7, 2.0, 25.0, 3.0])
    x = t64([0.3, 3.0, 24.0, 0.9], requires_grad=True)
    assert gradcheck(lambda t: tg.igamma(a, t), (x,))
    assert gradcheck(lambda t: tg.igammac(a, t), (x,))
    assert gradgradcheck(lambda t: tg.igamma(a, t), (x,))
    tg.igamma(a, x).sum().backward()
    av, xv = a.numpy(), x.detach().numpy()
    density = np.exp((av - 1) * np.log(xv) - xv - np.array([math.lgamma(v) for v in av]))
    np.testing.assert_allclose(x.grad.numpy(), density, rtol=1e-12)
    a.requires_grad_()
    for fn, name in ((tg.igamma, "igamma"), (tg.igammac, "igammac")):
        with pytest.raises(NotImplementedError, match=f"derivative for '{name}: input'"):
            fn(a, x).sum().backward()


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(0, 3, 60), rng.uniform(0, 50, 60),
                        10 ** rng.uniform(-3, 3.5, 80), [0.0, 1.0, math.inf, math.nan, 2.0, 1e-3]])
    x = np.concatenate([rng.uniform(0, 3, 60), rng.uniform(0, 60, 60),
                        a[120:200] * rng.uniform(0.5, 1.5, 80),
                        [1.0, 0.0, 2.0, 1.0, math.inf, 5.0]])
    for dtype, rtol, atol in ((np.float64, 1e-11, 1e-15), (np.float32, 2e-5, 2e-7)):
        ta, tx = torch.from_numpy(a.astype(dtype)), torch.from_numpy(x.astype(dtype))
        ga, gx = tg.tensor(a.astype(dtype)), tg.tensor(x.astype(dtype))
        for ours, theirs in ((tg.igamma, torch.igamma), (tg.igammac, torch.igammac)):
            got, want = ours(ga, gx).numpy(), theirs(ta, tx).numpy()
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    xs = np.array([0.3, 2.0, 9.0])
    tx = torch.tensor(xs, requires_grad=True)
    torch.special.gammaincc(torch.tensor(2.5, dtype=torch.float64), tx).sum().backward()
    gx = t64(xs, requires_grad=True)
    tg.special.gammaincc(t64(2.5), gx).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-13)
