"""dropout: inverted scaling (the mean is preserved), the fraction of zeros, eval and p=0 as the
identity, p=1 as zeros, repeatability under manual_seed, the gradient as the same mask, errors."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_scaling_and_zero_fraction(p, device):
    x = tg.ones(200, 500, device=device)
    y = host(F.dropout(x, p))
    zeros = (y == 0).mean()
    assert abs(zeros - p) < 0.01                      # 1e5 draws: the std of the mean is ~0.0016
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.03


def test_identity_when_off():
    x = tg.randn(5, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_p_one_gives_zeros():
    y = F.dropout(tg.randn(3, 4), 1.0)
    np.testing.assert_array_equal(host(y), 0.0)


def test_repeatable_with_manual_seed():
    tg.manual_seed(7)
    a = host(F.dropout(tg.ones(100), 0.5))
    tg.manual_seed(7)
    b = host(F.dropout(tg.ones(100), 0.5))
    np.testing.assert_array_equal(a, b)


def test_gradient_is_the_same_mask(rng):
    x = tg.tensor(rng.standard_normal((6, 7)), requires_grad=True)
    y = F.dropout(x, 0.4)
    mask = host(y) / host(x)
    g = rng.standard_normal((6, 7))
    y.backward(tg.tensor(g))
    np.testing.assert_allclose(host(x.grad), g * mask, rtol=1e-12)


def test_gradcheck_with_a_fixed_mask(rng):
    x = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)

    def f(x):
        tg.manual_seed(1)                             # the same mask at every evaluation
        return F.dropout(x, 0.3)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_inplace():
    x = tg.ones(1000)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x
    assert set(np.unique(host(x))) <= {0.0, 2.0}


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_probability(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(tg.ones(3), p)
