"""Adaptive average/max pooling and the 1-D poolings: a loop reference with PyTorch's window
rule, gradients, module reprs, errors, the Upsampling aliases, and PyTorch's values and
gradients."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck


def adaptive_reference(x, out, reduce):
    """Window i spans floor(i*H/OH) .. ceil((i+1)*H/OH) (exclusive), in each spatial dim."""
    H, W = x.shape[-2:]
    OH, OW = out
    y = np.empty(x.shape[:-2] + (OH, OW))
    for i in range(OH):
        for j in range(OW):
            h0, h1 = (i * H) // OH, -(-((i + 1) * H) // OH)
            w0, w1 = (j * W) // OW, -(-((j + 1) * W) // OW)
            y[..., i, j] = reduce(x[..., h0:h1, w0:w1], axis=(-2, -1))
    return y


SIZES = [(3, 4), (1, 1), (7, 10), (5, 3), (10, 12)]


@pytest.mark.parametrize("out", SIZES)
@pytest.mark.parametrize("fn, reduce", [(F.adaptive_avg_pool2d, np.mean),
                                        (F.adaptive_max_pool2d, np.max)])
def test_adaptive_pools_match_reference_and_gradcheck(rng, device, fn, reduce, out):
    x = leaf64(rng, 2, 3, 7, 10, device=device)
    y = fn(x, out)
    np.testing.assert_allclose(host(y), adaptive_reference(host(x), out, reduce), rtol=1e-12)
    assert gradcheck(lambda x: fn(x, out), (x,))


def test_output_size_forms(rng):
    x = leaf64(rng, 3, 6, 9)                                     # unbatched
    assert F.adaptive_avg_pool2d(x, 2).shape == (3, 2, 2)
    assert F.adaptive_max_pool2d(x, (4, None)).shape == (3, 4, 9)
    np.testing.assert_allclose(host(F.adaptive_avg_pool2d(x, 1))[:, 0, 0],
                               host(x).mean((1, 2)), rtol=1e-12)


def test_adaptive_errors(rng):
    with pytest.raises(RuntimeError, match="3D or 4D"):
        F.adaptive_avg_pool2d(leaf64(rng, 4, 5), 2)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_max_pool2d(leaf64(rng, 1, 4, 5), (1, 2, 3))


def test_adaptive_max_pool2d_indices_point_at_the_maxima(rng):
    x = leaf64(rng, 2, 3, 5, 7)
    values, indices = F.adaptive_max_pool2d(x, (2, 3), return_indices=True)
    np.testing.assert_array_equal(host(values), host(F.adaptive_max_pool2d(x, (2, 3))))
    flat = host(x).reshape(2, 3, 35)
    np.testing.assert_array_equal(np.take_along_axis(flat, host(indices).reshape(2, 3, 6), -1),
                                  host(values).reshape(2, 3, 6))
    assert indices.dtype == tg.int64
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.adaptive_max_pool2d(torch.tensor(host(x)), (2, 3),
                                                   return_indices=True)[1]
    np.testing.assert_array_equal(host(indices), want.numpy())


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), (4, 1, 2)])
def test_pool1d_match_the_2d_ones_and_gradcheck(rng, kernel, stride, padding):
    x = leaf64(rng, 2, 3, 11)
    image = x.unsqueeze(-2)
    s = kernel if stride is None else stride
    expected = F.max_pool2d(image, (1, kernel), (1, s), (0, padding)).squeeze(-2)
    np.testing.assert_allclose(host(F.max_pool1d(x, kernel, stride, padding)), host(expected))
    expected = F.avg_pool2d(image, (1, kernel), (1, s), (0, padding)).squeeze(-2)
    np.testing.assert_allclose(host(F.avg_pool1d(x, kernel, stride, padding)), host(expected))
    assert gradcheck(lambda x: F.max_pool1d(x, kernel, stride, padding), (x,))
    assert gradcheck(lambda x: F.avg_pool1d(x, kernel, stride, padding), (x,))
    assert F.max_pool1d(x[0], kernel, stride, padding).ndim == 2          # unbatched


def test_pool1d_errors(rng):
    with pytest.raises(RuntimeError, match="2D or 3D"):
        F.max_pool1d(leaf64(rng, 1, 2, 3, 4), 2)
    with pytest.raises(ValueError, match="one int"):
        F.avg_pool1d(leaf64(rng, 1, 2, 8), (2, 2))


def test_reprs():
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.MaxPool1d(2)) == ("MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")
    assert repr(nn.AdaptiveAvgPool2d((3, None))) == "AdaptiveAvgPool2d(output_size=(3, None))"
    assert repr(nn.AdaptiveMaxPool2d(2)) == "AdaptiveMaxPool2d(output_size=2)"
    assert repr(nn.UpsamplingNearest2d(scale_factor=2)) == (
        "UpsamplingNearest2d(scale_factor=2.0, mode='nearest')")
    assert repr(nn.UpsamplingBilinear2d(size=4)) == "UpsamplingBilinear2d(size=4, mode='bilinear')"


def test_upsampling_aliases(rng):
    x = leaf64(rng, 1, 2, 3, 4)
    np.testing.assert_allclose(host(nn.UpsamplingNearest2d(scale_factor=2)(x)),
                               host(F.interpolate(x, scale_factor=2, mode="nearest")))
    np.testing.assert_allclose(host(nn.UpsamplingBilinear2d(size=(5, 7))(x)),
                               host(F.interpolate(x, size=(5, 7), mode="bilinear",
                                                  align_corners=True)))


@pytest.mark.parametrize("layer", [
    lambda nn: nn.AdaptiveAvgPool2d((3, 4)), lambda nn: nn.AdaptiveMaxPool2d((4, 3)),
    lambda nn: nn.AdaptiveAvgPool2d((5, None)), lambda nn: nn.AvgPool1d(3, 2, 1),
    lambda nn: nn.MaxPool1d(3, 2, 1, ceil_mode=True), lambda nn: nn.AvgPool1d(2, ceil_mode=True,
                                                                              padding=1),
    lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
])
def test_modules_match_torch(rng, layer):
    torch = pytest.importorskip("torch")
    ours, theirs = layer(nn), layer(torch.nn)
    shape = (2, 3, 11) if "1d" in type(ours).__name__ else (2, 3, 7, 9)
    x = rng.standard_normal(shape)
    x_ours, x_theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(host(y_ours), y_theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(y_theirs.shape)
    y_ours.backward(tg.tensor(g))
    y_theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(host(x_ours.grad), x_theirs.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("fn, shape", [
    (F.adaptive_avg_pool2d, (2, 2)), (F.adaptive_max_pool2d, (2, 2)),
    (F.adaptive_avg_pool3d, (2, 2, 2)), (F.adaptive_max_pool3d, (2, 2, 2))])
def test_tuple_output_size_needs_a_channel_dim(fn, shape):
    with pytest.raises(ValueError, match="Input dimension should be at least"):
        fn(tg.zeros(*shape), shape)
