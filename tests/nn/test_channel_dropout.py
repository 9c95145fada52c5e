"""Dropout1d / Dropout2d (whole channels) and AlphaDropout: mask shapes, scaling, statistics,
the gradient as the same mask, eval identity, reprs and errors."""

import warnings

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn


@pytest.mark.parametrize("fn, shape", [(F.dropout1d, (50, 40, 6)), (F.dropout1d, (400, 6)),
                                       (F.dropout2d, (50, 40, 3, 4))])
def test_whole_channels_are_dropped(device, fn, shape):
    tg.manual_seed(0)
    y = host(fn(tg.ones(*shape, device=device), 0.3))
    spatial = (-1,) if fn is F.dropout1d else (-2, -1)
    assert np.all(y.min(spatial) == y.max(spatial))            # constant over each channel
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.05


def test_gradient_is_the_mask(rng):
    x = leaf64(rng, 4, 5, 3, 3)
    tg.manual_seed(1)
    y = F.dropout2d(x, 0.5)
    g = rng.standard_normal(y.shape)
    y.backward(tg.tensor(g))
    mask = host(y) / host(x)
    np.testing.assert_allclose(host(x.grad), g * mask)


def test_three_d_input_to_dropout2d_warns_and_masks_per_n_c():
    tg.manual_seed(0)
    with pytest.warns(UserWarning, match="3-D input"):
        y = host(F.dropout2d(tg.ones(20, 30, 5), 0.5))
    assert np.all(y.min(-1) == y.max(-1))


def test_identity_when_off_and_modules():
    x = tg.randn(2, 3, 4)
    assert F.dropout1d(x, 0.5, training=False) is x
    image = tg.randn(2, 3, 4, 4)
    for layer, name, x in ((nn.Dropout1d(0.2), "Dropout1d", x), (nn.Dropout2d(), "Dropout2d",
                                                                 image),
                           (nn.AlphaDropout(0.1), "AlphaDropout", x)):
        assert repr(layer) == f"{name}(p={layer.p}, inplace=False)"
        assert not isinstance(layer, nn.Dropout)
        layer.eval()
        assert layer(x) is x
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.Dropout2d().train()(tg.ones(2, 3, 4, 4)).shape == (2, 3, 4, 4)


def test_errors():
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(tg.ones(1, 2, 3, 4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(-0.1)


def test_alpha_dropout_keeps_selu_statistics():
    tg.manual_seed(0)
    x = F.selu(tg.randn(200000, dtype=tg.float64))
    y = host(F.alpha_dropout(x, 0.2, training=True))
    assert abs(y.mean() - host(x).mean()) < 0.01 and abs(y.std() - host(x).std()) < 0.01
    # dropped elements all take one value: a * (-alpha') + b
    a = ((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8) ** -0.5
    dropped = np.isclose(y, a * -1.7580993408473766 + a * 1.7580993408473766 * 0.2)
    assert abs(dropped.mean() - 0.2) < 0.01
    assert F.alpha_dropout(x, 0.2) is x                          # training=False by default
    np.testing.assert_array_equal(host(F.alpha_dropout(x, 1.0, training=True)), 0.0)


@pytest.mark.parametrize("fn", [F.alpha_dropout, F.feature_alpha_dropout])
def test_inplace_alpha_dropout_with_p_one_zeroes_the_input_itself(fn):
    x = tg.ones(2, 3)
    assert fn(x, 1.0, training=True, inplace=True) is x
    np.testing.assert_array_equal(host(x), 0.0)
    assert x._version == 1


def test_inplace_channel_dropout():
    tg.manual_seed(0)
    x = tg.ones(10, 8, 3)
    y = F.dropout1d(x, 0.5, inplace=True)
    assert y is x and (host(x) == 0).any()


@pytest.mark.parametrize("fn, shape", [(F.dropout1d, (3, 4, 5)), (F.dropout2d, (2, 4, 2, 3)),
                                       (F.alpha_dropout, (4, 5))])
def test_gradcheck_with_a_fixed_mask(rng, fn, shape):
    """Re-seeded on every call, so finite differences see one mask: the gradient is that mask,
    scaled (and, for alpha dropout, the affine correction's slope)."""
    def seeded(x):
        tg.manual_seed(3)
        return fn(x, 0.4, training=True)
    assert tg.autograd.gradcheck(seeded, (leaf64(rng, *shape),))
