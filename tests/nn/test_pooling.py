"""MaxPool2d, AvgPool2d and Upsample: the modules equal their functional forms, keep PyTorch's
defaults and reprs, and give PyTorch's outputs."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck

MODULES = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("AvgPool2d", ((2, 3),), dict(divisor_override=4)),
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", ((5, 9),), dict(mode="bilinear")),
    ("Upsample", (), dict(scale_factor=(1.5, 2), mode="bilinear", align_corners=True)),
    ("Upsample", (), dict(scale_factor=2, mode="bicubic")),
    ("Upsample", ((4, 11),), dict(mode="bicubic", align_corners=True)),
]


@pytest.mark.parametrize("kind, args, kwargs", MODULES)
def test_modules_match_torch(rng, kind, args, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, kind)(*args, **kwargs), getattr(torch.nn, kind)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    np.testing.assert_allclose(host(ours(tg.tensor(x))), theirs(torch.tensor(x)).cpu().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_modules_equal_functional_forms(rng):
    x = leaf64(rng, 1, 2, 6, 5)
    np.testing.assert_array_equal(host(nn.MaxPool2d(2)(x)), host(F.max_pool2d(x, 2, 2)))
    np.testing.assert_array_equal(host(nn.AvgPool2d(3, 1, 1)(x)), host(F.avg_pool2d(x, 3, 1, 1)))
    up = nn.Upsample(size=(4, 7), mode="bilinear", align_corners=False)
    np.testing.assert_array_equal(host(up(x)), host(F.interpolate(x, (4, 7), mode="bilinear",
                                                                  align_corners=False)))
    assert gradcheck(up, (x,))
    up = nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True)
    np.testing.assert_array_equal(host(up(x)), host(F.interpolate(x, None, 1.5, "bicubic", True)))
    assert gradcheck(up, (x,))


def test_defaults():
    pool = nn.MaxPool2d(3)
    assert (pool.stride, pool.padding, pool.dilation, pool.ceil_mode) == (3, 0, 1, False)
    avg = nn.AvgPool2d(2)
    assert (avg.stride, avg.count_include_pad, avg.divisor_override) == (2, True, None)
    up = nn.Upsample(scale_factor=2)
    assert (up.scale_factor, up.mode, up.align_corners, up.size) == (2.0, "nearest", None, None)


def test_max_pool_module_returns_indices(rng):
    x = leaf64(rng, 1, 2, 4, 4)
    y, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == indices.shape == (1, 2, 2, 2)
    assert list(nn.MaxPool2d(2).parameters()) == []
