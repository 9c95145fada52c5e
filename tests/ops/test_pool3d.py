"""3-D pooling, the 1-D/3-D adaptive poolings and 5-D interpolate: nested-loop references,
float64 gradients, PyTorch's values and indices, and the errors."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck


def pool3d_reference(x, kernel, stride, padding, reduce, pad_value):
    """Each window of the padded input reduced, by loops (no ceil_mode)."""
    pads = ((0, 0), (0, 0)) + tuple((p, p) for p in padding)
    xp = np.pad(x, pads, constant_values=pad_value)
    size = [(m + 2 * p - k) // s + 1 for m, k, s, p in zip(x.shape[2:], kernel, stride, padding)]
    out = np.empty(x.shape[:2] + tuple(size))
    for z, y, w in itertools.product(*map(range, size)):
        start = (z * stride[0], y * stride[1], w * stride[2])
        window = xp[(slice(None), slice(None)) + tuple(slice(b, b + k)
                                                       for b, k in zip(start, kernel))]
        out[:, :, z, y, w] = reduce(window, axis=(2, 3, 4))
    return out


POOL_CONFIGS = [((2, 2, 2), (2, 2, 2), (0, 0, 0)), ((3, 2, 3), (2, 1, 2), (1, 1, 1)),
                ((2, 3, 2), (1, 2, 1), (1, 0, 0))]


@pytest.mark.parametrize("kernel, stride, padding", POOL_CONFIGS)
def test_pool3d_match_loops_and_gradcheck(rng, kernel, stride, padding):
    x = leaf64(rng, 2, 2, 4, 5, 4)
    y = F.max_pool3d(x, kernel, stride, padding)
    np.testing.assert_array_equal(host(y), pool3d_reference(host(x), kernel, stride, padding,
                                                            np.max, -np.inf))
    y = F.avg_pool3d(x, kernel, stride, padding)                  # count_include_pad=True
    np.testing.assert_allclose(host(y), pool3d_reference(host(x), kernel, stride, padding,
                                                         np.mean, 0.0), rtol=1e-12)
    small = x[:1, :1]
    assert gradcheck(lambda x: F.max_pool3d(x, kernel, stride, padding), (small,))
    assert gradcheck(lambda x: F.avg_pool3d(x, kernel, stride, padding, True, False), (small,))


def test_pool3d_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 2, 5, 4, 5))
    for k, s, p, d, ceil in [(2, None, 0, 1, False), (3, 2, 1, 1, True),
                             ((2, 3, 2), (1, 2, 2), (1, 1, 0), (2, 1, 1), True)]:
        y, i = F.max_pool3d(tg.tensor(x), k, s, p, d, ceil, return_indices=True)
        t, ti = torch.nn.functional.max_pool3d(torch.tensor(x), k, s, p, d, ceil, True)
        np.testing.assert_array_equal(host(y), t.numpy())
        np.testing.assert_array_equal(host(i), ti.numpy())
    for k, s, p, ceil, include, divisor in [(3, 2, 1, True, False, None),
                                            ((2, 3, 2), (1, 2, 2), (1, 1, 0), True, True, None),
                                            (3, 2, 1, False, True, 5)]:
        y = F.avg_pool3d(tg.tensor(x), k, s, p, ceil, include, divisor)
        t = torch.nn.functional.avg_pool3d(torch.tensor(x), k, s, p, ceil, include, divisor)
        np.testing.assert_allclose(host(y), t.numpy(), rtol=1e-12)
    y, i = F.max_pool3d_with_indices(tg.tensor(x[0]), 2)                        # unbatched
    np.testing.assert_array_equal(host(i), torch.nn.functional.max_pool3d(
        torch.tensor(x[0]), 2, return_indices=True)[1].numpy())


def adaptive_reference(x, size, reduce):
    """Window i of each axis spans floor(i*n/o) .. ceil((i+1)*n/o), by loops."""
    n = len(size)
    spatial = x.shape[-n:]
    out = np.empty(x.shape[:-n] + tuple(size))
    for position in itertools.product(*map(range, size)):
        window = tuple(slice(i * m // o, -(-(i + 1) * m // o))
                       for i, m, o in zip(position, spatial, size))
        out[(Ellipsis,) + position] = reduce(x[(Ellipsis,) + window],
                                             axis=tuple(range(-n, 0)))
    return out


@pytest.mark.parametrize("size", [(2, 3, 2), (3, 1, 4), (4, 4, 4)])
def test_adaptive_3d_match_loops_and_gradcheck(rng, size):
    x = leaf64(rng, 2, 2, 3, 4, 4)
    np.testing.assert_allclose(host(F.adaptive_avg_pool3d(x, size)),
                               adaptive_reference(host(x), size, np.mean), rtol=1e-12)
    np.testing.assert_array_equal(host(F.adaptive_max_pool3d(x, size)),
                                  adaptive_reference(host(x), size, np.max))
    small = x[0, :1]                                                            # unbatched
    assert gradcheck(lambda x: F.adaptive_avg_pool3d(x, size), (small,))
    assert gradcheck(lambda x: F.adaptive_max_pool3d(x, size), (small,))


@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_adaptive_1d_match_loops_and_gradcheck(rng, size):
    x = leaf64(rng, 2, 3, 5)
    np.testing.assert_allclose(host(F.adaptive_avg_pool1d(x, size)),
                               adaptive_reference(host(x), (size,), np.mean), rtol=1e-12)
    np.testing.assert_array_equal(host(F.adaptive_max_pool1d(x, (size,))),
                                  adaptive_reference(host(x), (size,), np.max))
    assert gradcheck(lambda x: F.adaptive_avg_pool1d(x, size), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x, size), (x,))


def test_adaptive_match_torch_with_indices(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 2, 5, 4, 7))
    for size in [(2, 3, 3), (None, 3, 5), 3]:
        y, i = F.adaptive_max_pool3d(tg.tensor(x), size, return_indices=True)
        t, ti = torch.nn.functional.adaptive_max_pool3d(torch.tensor(x), size, True)
        np.testing.assert_array_equal(host(y), t.numpy())
        np.testing.assert_array_equal(host(i), ti.numpy())
        np.testing.assert_allclose(
            host(F.adaptive_avg_pool3d(tg.tensor(x), size)),
            torch.nn.functional.adaptive_avg_pool3d(torch.tensor(x), size).numpy(), rtol=1e-12)
    signal = x[:, :, 0, 0]
    y, i = F.adaptive_max_pool1d_with_indices(tg.tensor(signal), 3)
    t, ti = torch.nn.functional.adaptive_max_pool1d(torch.tensor(signal), 3, True)
    np.testing.assert_array_equal(host(y), t.numpy())
    np.testing.assert_array_equal(host(i), ti.numpy())
    _, i = F.adaptive_max_pool3d_with_indices(tg.tensor(x[0]), 2)
    np.testing.assert_array_equal(host(i), torch.nn.functional.adaptive_max_pool3d(
        torch.tensor(x[0]), 2, True)[1].numpy())


@pytest.mark.parametrize("kwargs", [dict(size=(3, 5, 2), mode="trilinear"),
                                    dict(scale_factor=2, mode="trilinear", align_corners=True),
                                    dict(scale_factor=(1.5, 2, 0.5), mode="nearest"),
                                    dict(size=(5, 3, 4), mode="nearest-exact"),
                                    dict(size=(2, 3, 2), mode="area")])
def test_interpolate_5d_match_torch_and_gradcheck(rng, kwargs):
    x = leaf64(rng, 1, 2, 2, 3, 4)
    assert gradcheck(lambda x: F.interpolate(x, **kwargs), (x,))
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.interpolate(torch.tensor(host(x)), **kwargs)
    np.testing.assert_allclose(host(F.interpolate(x, **kwargs)), expected.numpy(), rtol=1e-12,
                               atol=1e-14)


def test_interpolate_area_is_adaptive_average(rng):
    x = leaf64(rng, 1, 2, 7)
    np.testing.assert_allclose(host(F.interpolate(x, size=3, mode="area")),
                               adaptive_reference(host(x), (3,), np.mean), rtol=1e-12)


POOL_ERRORS = [
    (lambda: F.max_pool3d(tg.zeros(2, 3, 4), 2), RuntimeError, "expected 4D or 5D"),
    (lambda: F.avg_pool3d(tg.zeros(1, 1, 4, 4, 4), 2, padding=2), ValueError,
     "pad should be smaller than or equal to half of kernel size"),
    (lambda: F.max_pool3d(tg.zeros(1, 1, 4, 4, 4), (2, 2)), ValueError, "tuple of 3 ints"),
    (lambda: F.avg_pool3d(tg.zeros(1, 1, 4, 4, 4), 2, divisor_override=0), ValueError,
     "divisor must be not zero"),
    (lambda: F.adaptive_avg_pool3d(tg.zeros(3, 4, 4), 2), RuntimeError, "4D or 5D"),
    (lambda: F.adaptive_max_pool1d(tg.zeros(1, 2, 3, 4), 2), RuntimeError, "2D or 3D"),
    (lambda: F.adaptive_avg_pool3d(tg.zeros(1, 3, 4, 4), (2, 2)), ValueError, "tuple of 3"),
    (lambda: F.interpolate(tg.zeros(1, 1, 4, 4), size=2, mode="trilinear"), ValueError,
     "needs 5D input"),
    (lambda: F.interpolate(tg.zeros(1, 1, 4, 4, 4), size=2, mode="area", align_corners=True),
     ValueError, "align_corners"),
]


@pytest.mark.parametrize("call, error, match", POOL_ERRORS)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
