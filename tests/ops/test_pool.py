"""max_pool2d and avg_pool2d: values against nested-loop references, gradients against finite
differences (inputs without ties), PyTorch's conventions for ties, ceil_mode and
count_include_pad, and the bad-input errors."""

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
    (F.max_pool2d, (4, 4), dict(kernel_size=2), RuntimeError, "expected 3D or 4D"),
    (F.max_pool2d, (1, 1, 2, 2), dict(kernel_size=3), RuntimeError, "too small"),
    (F.avg_pool2d, (1, 1, 4, 4), dict(kernel_size=2, divisor_override=0), ValueError,
     "divisor must be not zero"),
]


@pytest.mark.parametrize("pool, shape, kwargs, error, match", POOL_ERRORS)
def test_pooling_errors(pool, shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        pool(tg.randn(*shape), **kwargs)


@pytest.mark.parametrize("divisor_override", [None, 3, -3])
def test_avg_pool_of_integers_truncates_toward_zero(divisor_override):
    # PyTorch keeps the integer dtype: the exact window sum, divided as C++ ints (toward zero)
    x = -tg.arange(16).reshape(1, 1, 4, 4)
    y = F.avg_pool2d(x, 2, divisor_override=divisor_override)
    sums = np.array([[-10, -18], [-42, -50]])
    assert y.dtype == tg.int64
    np.testing.assert_array_equal(host(y)[0, 0], np.trunc(sums / (divisor_override or 4)))
    z = F.avg_pool1d(-tg.arange(9).reshape(1, 1, 9), 2)
    np.testing.assert_array_equal(host(z), [[[0, -2, -4, -6]]])
    assert F.avg_pool3d(tg.ones((1, 1, 2, 2, 2), dtype=tg.int64), 2).dtype == tg.int64


def test_pool_arguments_as_one_tuples():
    x = leaf64(np.random.default_rng(0), 1, 2, 6, 6)
    np.testing.assert_array_equal(host(F.avg_pool2d(x, (3,), (1,), (1,))),
                                  host(F.avg_pool2d(x, 3, 1, 1)))
    np.testing.assert_array_equal(host(F.max_pool2d(x, (2,), padding=(1,))),
                                  host(F.max_pool2d(x, 2, padding=1)))


@pytest.mark.parametrize("fn, shape, batch_of_none", [
    (F.max_pool1d, (0, 10), (0, 1, 10)), (F.max_pool1d, (2, 0, 10), (0, 2, 10)),
    (F.max_pool2d, (0, 2, 10), (0, 1, 2, 10)), (F.avg_pool2d, (1, 0, 2, 10), (0, 1, 2, 10)),
    (F.max_pool3d, (0, 1, 2, 10), (0, 1, 1, 2, 10))])
def test_only_the_batch_dim_may_be_empty(fn, shape, batch_of_none):
    with pytest.raises(RuntimeError, match="non-batch dimensions to have positive length"):
        fn(tg.zeros(*shape), 1)
    assert fn(tg.zeros(*batch_of_none), 1).shape == batch_of_none


@pytest.mark.parametrize("dtype", [np.int16, np.int8, np.int32])
def test_max_pool_pads_small_ints_with_their_minimum(dtype):
    # padding must never win: -inf cast to int16 is 0, which beat windows of negatives
    x = -np.arange(1, 13, dtype=dtype).reshape(1, 1, 3, 4)
    y, idx = F.max_pool2d(tg.tensor(x), 2, padding=1, return_indices=True)
    want = np.array([[-1, -2, -4], [-5, -6, -8]])
    np.testing.assert_array_equal(host(y)[0, 0], want)
    np.testing.assert_array_equal(host(idx)[0, 0], [[0, 1, 3], [4, 5, 7]])
    y3 = F.max_pool3d(tg.tensor(x[:, None]), (1, 2, 2), padding=(0, 1, 1))
    np.testing.assert_array_equal(host(y3)[0, 0, 0], want)
