"""PixelShuffle / PixelUnshuffle: PyTorch's channel order, the inverse pair, gradients, errors,
reprs, and PyTorch's values."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck


def test_channel_order(rng):
    """Channel c*r*r + i*r + j of pixel (h, w) lands on pixel (h*r + i, w*r + j) of channel c."""
    r, x = 2, leaf64(rng, 1, 8, 3, 4)
    y, xs = host(F.pixel_shuffle(x, r)), host(x)
    assert y.shape == (1, 2, 6, 8)
    for c in range(2):
        for i in range(r):
            for j in range(r):
                np.testing.assert_array_equal(y[0, c, i::r, j::r], xs[0, c * r * r + i * r + j])


@pytest.mark.parametrize("shape, r", [((2, 9, 2, 3), 3), ((3, 2, 8, 2, 2), 2), ((4, 1, 1), 2)])
def test_unshuffle_inverts_shuffle_and_gradcheck(rng, device, shape, r):
    x = leaf64(rng, *shape, device=device)
    y = F.pixel_shuffle(x, r)
    np.testing.assert_array_equal(host(F.pixel_unshuffle(y, r)), host(x))
    assert gradcheck(lambda x: F.pixel_shuffle(x, r), (x,))
    assert gradcheck(lambda y: F.pixel_unshuffle(y, r), (y.detach().requires_grad_(),))


def test_errors():
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(tg.zeros(4, 4), 2)
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=5 is not divisible by 4"):
        F.pixel_shuffle(tg.zeros(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match=r"height .* input.size\(-2\)=5 is not divisible by 2"):
        F.pixel_unshuffle(tg.zeros(1, 1, 5, 4), 2)


def test_reprs():
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"


def test_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 12, 3, 5))
    np.testing.assert_array_equal(host(nn.PixelShuffle(2)(tg.tensor(x))),
                                  torch.nn.PixelShuffle(2)(torch.tensor(x)).numpy())
    x = rng.standard_normal((2, 3, 6, 9))
    np.testing.assert_array_equal(host(nn.PixelUnshuffle(3)(tg.tensor(x))),
                                  torch.nn.PixelUnshuffle(3)(torch.tensor(x)).numpy())
