"""fractional_max_pool2d: a loop reference of PyTorch's interval formula, closed forms (identity,
global max), derivatives, argument errors, the module, and PyTorch's values and indices with the
same _random_samples."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def starts_loop(u, size_in, size_out, pool):
    """The interval starts, one at a time, as PyTorch's C++ loop (in u's dtype)."""
    t = type(u)
    alpha = t(size_in - pool) / t(size_out - 1) if size_out > 1 else t(0)
    seq = [int((t(i) + u) * alpha) - int(u * alpha) for i in range(size_out)]
    seq[-1] = size_in - pool
    return seq


def pool_loop(x, k, out, samples):
    n, c, h, w = x.shape
    y = np.empty((n, c) + out, x.dtype)
    for a in range(n):
        for b in range(c):
            rs = starts_loop(samples[a, b, 1], h, out[0], k[0])
            cs = starts_loop(samples[a, b, 0], w, out[1], k[1])
            for i, r in enumerate(rs):
                for j, s in enumerate(cs):
                    y[a, b, i, j] = x[a, b, r:r + k[0], s:s + k[1]].max()
    return y


def distinct(rng, shape, dtype=np.float64):
    return rng.permutation(np.prod(shape)).reshape(shape).astype(dtype) / 7 - 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, out", [((2, 2), (4, 3)), ((3, 1), (6, 7)), ((1, 2), (1, 2))])
def test_matches_loop_reference(dtype, k, out):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 9, 8)).astype(dtype)
    samples = rng.random((2, 2, 2)).astype(dtype)
    got = F.fractional_max_pool2d(tg.tensor(x), k, out, _random_samples=tg.tensor(samples))
    np.testing.assert_array_equal(got.numpy(), pool_loop(x, k, out, samples))


def test_closed_forms_identity_and_global_max():
    x = distinct(np.random.default_rng(1), (1, 2, 5, 6))
    same = F.fractional_max_pool2d(tg.tensor(x), 1, (5, 6))
    np.testing.assert_array_equal(same.numpy(), x)
    whole, idx = F.fractional_max_pool2d(tg.tensor(x), (5, 6), (1, 1), return_indices=True)
    np.testing.assert_array_equal(whole.numpy()[..., 0, 0], x.max((2, 3)))
    np.testing.assert_array_equal(idx.numpy()[..., 0, 0], x.reshape(1, 2, -1).argmax(-1))


def test_output_ratio_unbatched_and_module():
    rng = np.random.default_rng(2)
    x = tg.tensor(distinct(rng, (3, 10, 8)))
    samples = tg.tensor(rng.random((1, 3, 2)))
    pool = nn.FractionalMaxPool2d(2, output_ratio=(0.5, 0.75), return_indices=True,
                                  _random_samples=samples)
    y, idx = pool(x)
    assert y.shape == (3, 5, 6) and idx.shape == (3, 5, 6)
    np.testing.assert_array_equal(
        y.numpy(), np.take_along_axis(x.numpy().reshape(3, -1), idx.numpy().reshape(3, -1),
                                      1).reshape(3, 5, 6))
    want = F.fractional_max_pool2d(x.unsqueeze(0), 2, (5, 6), _random_samples=samples)
    np.testing.assert_array_equal(y.numpy(), want.numpy()[0])


def test_first_and_second_derivatives_float64():
    rng = np.random.default_rng(3)
    x = tg.tensor(distinct(rng, (2, 1, 7, 6)), requires_grad=True)
    samples = tg.tensor(rng.random((2, 1, 2)))

    def fn(x):
        return F.fractional_max_pool2d(x, (2, 3), (4, 3), _random_samples=samples)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_bad_arguments_raise():
    x = tg.randn(1, 1, 5, 5)
    with pytest.raises(RuntimeError, match="pool height 3 too large"):
        F.fractional_max_pool2d(x, 3, (4, 2))
    with pytest.raises(ValueError, match="output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(RuntimeError, match="_random_samples of shape"):
        F.fractional_max_pool2d(x, 2, 3, _random_samples=tg.rand(1, 2, 2))
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="either an output size"):
        nn.FractionalMaxPool2d(2)


@pytest.mark.parametrize("k, kw", [((3, 2), {"output_size": (5, 4)}),
                                   (2, {"output_ratio": (0.5, 0.7)}),
                                   ((1, 3), {"output_size": (11, 1)})])
def test_against_torch_with_same_samples(k, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 11, 9)).astype(np.float32)
    samples = rng.random((2, 3, 2)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    want, want_idx = torch.nn.functional.fractional_max_pool2d(
        xt, k, return_indices=True, _random_samples=torch.tensor(samples), **kw)
    xg = tg.tensor(x, requires_grad=True)
    got, idx = F.fractional_max_pool2d(xg, k, return_indices=True,
                                       _random_samples=tg.tensor(samples), **kw)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), want_idx.numpy())
    g = rng.standard_normal(want.shape).astype(np.float32)
    want.backward(torch.tensor(g))
    got.backward(tg.tensor(g))
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
