"""max_pool2d, avg_pool2d and interpolate: values against nested-loop references and closed
forms, gradients against finite differences (inputs without ties), PyTorch's conventions for
ties, ceil_mode, count_include_pad and resize coordinates, and the bad-input errors."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def out_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size, written out independently of the code under test."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool_ref(x, k, s, p, d, ceil_mode, reduce):
    """reduce(values in window, pool_size, count) per output pixel, by nested loops; pool_size
    counts the window inside the padded input, count the pixels inside the input."""
    N, C, H, W = x.shape
    OH, OW = out_size(H, k, s, p, d, ceil_mode), out_size(W, k, s, p, d, ceil_mode)
    out = np.zeros((N, C, OH, OW))
    for oy in range(OH):
        for ox in range(OW):
            y0, x0 = oy * s - p, ox * s - p
            rows = [y0 + i * d for i in range(k) if 0 <= y0 + i * d < H]
            cols = [x0 + j * d for j in range(k) if 0 <= x0 + j * d < W]
            pool_size = (min(y0 + k, H + p) - y0) * (min(x0 + k, W + p) - x0)
            window = x[:, :, rows][:, :, :, cols].reshape(N, C, -1)
            out[:, :, oy, ox] = reduce(window, pool_size, len(rows) * len(cols))
    return out


# (kernel, stride, padding, dilation, ceil_mode) on a 7x8 input
POOL_CONFIGS = [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 2, 1, 2, False),
                (2, 3, 1, 1, True), (3, 1, 0, 1, False), (3, 3, 1, 1, True)]


@pytest.mark.parametrize("k, s, p, d, ceil_mode", POOL_CONFIGS)
def test_max_pool2d_matches_nested_loops(device, rng, k, s, p, d, ceil_mode):
    x = leaf64(rng, 2, 3, 7, 8, device=device)
    y = F.max_pool2d(x, k, s, p, d, ceil_mode)
    expected = pool_ref(host(x), k, s, p, d, ceil_mode, lambda w, size, count: w.max(-1))
    assert y.shape == expected.shape
    np.testing.assert_array_equal(host(y), expected)
    assert gradcheck(lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode), (x,))


@pytest.mark.parametrize("k, s, p, d, ceil_mode", [c for c in POOL_CONFIGS if c[3] == 1])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor_override", [None, 5])
def test_avg_pool2d_matches_nested_loops(device, rng, k, s, p, d, ceil_mode, count_include_pad,
                                         divisor_override):
    x = leaf64(rng, 2, 3, 7, 8, device=device)
    y = F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override)

    def mean(window, pool_size, count):
        divisor = divisor_override or (pool_size if count_include_pad else count)
        return window.sum(-1) / divisor
    expected = pool_ref(host(x), k, s, p, 1, ceil_mode, mean)
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-12, atol=1e-12)


def test_avg_pool2d_gradcheck(device, rng):
    x = leaf64(rng, 1, 2, 5, 6, device=device)
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 2) ** 2, (x,))


def test_max_pool2d_gradgradcheck(device, rng):
    x = leaf64(rng, 1, 2, 4, 5, device=device)
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2, 1, ceil_mode=True), (x,))


def test_max_pool2d_gradient_goes_to_the_first_of_ties(device):
    x = tg.ones(1, 1, 2, 3, device=device, requires_grad=True)
    F.max_pool2d(x, 2, 1).backward(tg.tensor([[[[1.0, 10.0]]]], device=device))
    # all four values of each window tie: the first in row-major order takes the gradient
    np.testing.assert_array_equal(host(x.grad)[0, 0], [[1, 10, 0], [0, 0, 0]])


def test_max_pool2d_return_indices(device, rng):
    x = leaf64(rng, 2, 3, 7, 8, device=device)
    y, indices = F.max_pool2d(x, 3, 2, 1, 1, True, return_indices=True)
    assert indices.dtype == tg.int64 and indices.shape == y.shape
    flat = host(x).reshape(2, 3, -1)
    picked = np.take_along_axis(flat, host(indices).reshape(2, 3, -1), axis=-1)
    np.testing.assert_array_equal(picked.reshape(y.shape), host(y))


@pytest.mark.parametrize("k, s, p, d, ceil_mode", POOL_CONFIGS)
def test_pooling_matches_torch(rng, k, s, p, d, ceil_mode):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    x[0, 0, :2, :2] = 1.0                                  # a tie, to compare indices
    y, i = F.max_pool2d(tg.tensor(x), k, s, p, d, ceil_mode, True)
    ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), k, s, p, d, ceil_mode, True)
    np.testing.assert_array_equal(host(y), ty.cpu().numpy())
    np.testing.assert_array_equal(host(i), ti.cpu().numpy())
    if d == 1:
        for cip in (True, False):
            y = F.avg_pool2d(tg.tensor(x), k, s, p, ceil_mode, cip)
            ty = torch.nn.functional.avg_pool2d(torch.tensor(x), k, s, p, ceil_mode, cip)
            np.testing.assert_allclose(host(y), ty.cpu().numpy(), rtol=1e-6, atol=1e-6)


def test_unbatched_and_float32(rng):
    x = tg.tensor(rng.standard_normal((3, 6, 6)), dtype=tg.float32)
    for pool in (F.max_pool2d, F.avg_pool2d):
        y = pool(x, 2)
        assert y.shape == (3, 3, 3) and y.dtype == tg.float32
        np.testing.assert_allclose(host(y), host(pool(x.unsqueeze(0), 2))[0])


POOL_ERRORS = [
    (F.max_pool2d, (1, 1, 4, 4), dict(kernel_size=2, padding=2), ValueError, "half of kernel"),
    (F.avg_pool2d, (1, 1, 4, 4), dict(kernel_size=3, stride=0), ValueError, "must be positive"),
    (F.max_pool2d, (4, 4), dict(kernel_size=2), RuntimeError, "expected 3D or 4D input"),
    (F.max_pool2d, (1, 1, 2, 2), dict(kernel_size=3), RuntimeError, "too small"),
    (F.avg_pool2d, (1, 1, 4, 4), dict(kernel_size=2, divisor_override=0), ValueError,
     "divisor must be not zero"),
]


@pytest.mark.parametrize("pool, shape, kwargs, error, match", POOL_ERRORS)
def test_pooling_errors(pool, shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        pool(tg.randn(*shape), **kwargs)


def test_interpolate_nearest_closed_forms(device, rng):
    x = leaf64(rng, 2, 3, 4, 5, device=device)
    up = F.interpolate(x, scale_factor=2)                  # each pixel becomes a 2x2 block
    np.testing.assert_array_equal(host(up), host(x).repeat(2, axis=2).repeat(2, axis=3))
    down = F.interpolate(x, size=(2, 5))                   # rows floor(dst * 4/2) = 0, 2
    np.testing.assert_array_equal(host(down), host(x)[:, :, [0, 2]])
    odd = F.interpolate(x, size=(4, 3))                    # cols floor(dst * 5/3) = 0, 1, 3
    np.testing.assert_array_equal(host(odd), host(x)[:, :, :, [0, 1, 3]])
    exact = F.interpolate(x, size=(4, 3), mode="nearest-exact")   # floor((dst+.5)*5/3)
    np.testing.assert_array_equal(host(exact), host(x)[:, :, :, [0, 2, 4]])


def test_interpolate_bilinear_closed_forms(device):
    # a ramp a*y + b*x is reproduced exactly at the new sample positions
    ys, xs = np.meshgrid(np.arange(4.0), np.arange(5.0), indexing="ij")
    x = tg.tensor((2 * ys + 3 * xs)[None, None], device=device)
    y = F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)
    src_y, src_x = np.meshgrid(np.arange(7) * 3 / 6, np.arange(9) * 4 / 8, indexing="ij")
    np.testing.assert_allclose(host(y)[0, 0], 2 * src_y + 3 * src_x, rtol=1e-12)
    y = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    # pixel centres: src = (dst + 0.5) / 2 - 0.5, clamped to [0, n - 1]
    src_y = np.clip((np.arange(8) + 0.5) / 2 - 0.5, 0, 3)
    src_x = np.clip((np.arange(10) + 0.5) / 2 - 0.5, 0, 4)
    np.testing.assert_allclose(host(y)[0, 0], 2 * src_y[:, None] + 3 * src_x[None, :],
                               rtol=1e-12)


@pytest.mark.parametrize("mode, align_corners",
                         [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_interpolate_gradcheck(device, rng, mode, align_corners):
    x = leaf64(rng, 1, 2, 4, 5, device=device)
    assert gradcheck(lambda x: F.interpolate(x, (7, 3), None, mode, align_corners), (x,))
    assert gradgradcheck(lambda x: F.interpolate(x, None, 1.5, mode, align_corners) ** 2, (x,))


INTERPOLATE_CASES = [(size, scale) for size, scale in [
    ((14, 5), None), ((3, 11), None), ((1, 1), None), (None, 2), (None, (1.7, 0.6)),
    (None, 1.5), (None, 0.3)]]


@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("nearest-exact", None),
                                                 ("bilinear", False), ("bilinear", True)])
@pytest.mark.parametrize("size, scale_factor", INTERPOLATE_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_matches_torch(rng, mode, align_corners, size, scale_factor, dtype):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 7, 8)).astype(dtype)
    y = F.interpolate(tg.tensor(x), size, scale_factor, mode, align_corners)
    expected = torch.nn.functional.interpolate(torch.tensor(x), size, scale_factor, mode,
                                               align_corners)
    assert y.shape == tuple(expected.shape) and y.dtype == x.dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(host(y), expected.cpu().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("mode, align_corners",
                         [("nearest", None), ("linear", False), ("linear", True)])
def test_interpolate_1d_matches_torch(rng, mode, align_corners):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9))
    for size, scale in [(None, 1.6), (4, None)]:
        y = F.interpolate(tg.tensor(x), size, scale, mode, align_corners)
        expected = torch.nn.functional.interpolate(torch.tensor(x), size, scale, mode,
                                                   align_corners)
        np.testing.assert_allclose(host(y), expected.cpu().numpy(), rtol=1e-12, atol=1e-12)


INTERPOLATE_ERRORS = [
    ((1, 1, 4, 4), dict(), "exactly one of size or scale_factor"),
    ((1, 1, 4, 4), dict(size=2, scale_factor=2), "exactly one of size or scale_factor"),
    ((1, 1, 4, 4), dict(size=2, mode="bicubic"), "unsupported mode"),
    ((1, 1, 4, 4), dict(size=2, align_corners=True), "align_corners option can only be set"),
    ((1, 1, 4), dict(size=2, mode="bilinear"), "needs 4D input"),
    ((1, 1, 4, 4), dict(size=2, mode="linear"), "needs 3D input"),
    ((1, 1, 4, 4), dict(size=(2, 2, 2)), "must have 2 entries"),
    ((1, 1, 4, 4), dict(scale_factor=0.1), "must be positive"),
]


@pytest.mark.parametrize("shape, kwargs, match", INTERPOLATE_ERRORS)
def test_interpolate_errors(shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.interpolate(tg.randn(*shape), **kwargs)


def test_interpolate_takes_pytorch_antialias_keyword():
    x = tg.randn(1, 1, 4, 4)
    np.testing.assert_array_equal(host(F.interpolate(x, size=2, mode="bilinear", antialias=False)),
                                  host(F.interpolate(x, size=2, mode="bilinear")))
    with pytest.raises(NotImplementedError, match="antialias=True is not supported"):
        F.interpolate(x, size=2, mode="bilinear", antialias=True)
