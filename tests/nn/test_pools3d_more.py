"""The 3-D unpool, Lp pool and fractional max pool (functional and layers), and the
``_with_indices`` fractional forms: NumPy references, float64 gradient checks, PyTorch's values
(fractional windows fixed by passing the same ``_random_samples`` to both), reprs and errors."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def _distinct(rng, *shape):
    """float64 leaf of distinct values (no ties for the max)."""
    values = rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 1.0
    return tg.tensor(values, dtype=tg.float64, requires_grad=True)


# ---- max_unpool3d ---------------------------------------------------------------------------

def test_max_unpool3d_inverts_max_pool3d_and_matches_numpy():
    rng = np.random.default_rng(0)
    x = _distinct(rng, 1, 2, 4, 4, 2)
    pooled, idx = F.max_pool3d(x, 2, return_indices=True)
    out = F.max_unpool3d(pooled, idx, 2)
    assert out.shape == (1, 2, 4, 4, 2)
    want = np.zeros((1, 2, 32))
    np.put_along_axis(want, host(idx).reshape(1, 2, -1), host(pooled).reshape(1, 2, -1), axis=2)
    np.testing.assert_array_equal(host(out), want.reshape(out.shape))
    back, _ = F.max_pool3d(out, 2, return_indices=True)          # maxima survive unpooling
    np.testing.assert_array_equal(host(back), host(pooled))
    layer = nn.MaxUnpool3d(2)
    np.testing.assert_array_equal(host(layer(pooled, idx, output_size=(5, 4, 3))),
                                  host(F.max_unpool3d(pooled, idx, 2, output_size=(5, 4, 3))))
    unbatched = F.max_unpool3d(pooled[0], idx[0], 2)
    np.testing.assert_array_equal(host(unbatched), host(out[0]))


def test_max_unpool3d_gradients():
    rng = np.random.default_rng(1)
    x = leaf64(rng, 1, 1, 2, 1, 2)
    idx = tg.tensor(np.array([0, 5, 10, 15]).reshape(1, 1, 2, 1, 2))
    assert gradcheck(lambda t: F.max_unpool3d(t, idx, 2), (x,))
    assert gradgradcheck(lambda t: F.max_unpool3d(t, idx, 2), (x,))


def test_max_unpool3d_matches_torch_and_errors():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 1, 4, 4, 3))
    tp, ti = torch.nn.functional.max_pool3d(torch.tensor(x), (2, 2, 1), stride=(2, 2, 2),
                                            return_indices=True)
    theirs = torch.nn.functional.max_unpool3d(tp, ti, (2, 2, 1), stride=(2, 2, 2),
                                              output_size=(5, 4, 3))
    ours = F.max_unpool3d(tg.tensor(tp.numpy()), tg.tensor(ti.numpy()), (2, 2, 1),
                          stride=(2, 2, 2), output_size=(5, 4, 3))
    np.testing.assert_array_equal(host(ours), theirs.numpy())
    with pytest.raises(RuntimeError, match="Found an invalid max index: 99"):
        F.max_unpool3d(tg.randn(1, 1, 2, 2, 2), tg.full((1, 1, 2, 2, 2), 99), 2)
    with pytest.raises(RuntimeError, match="expected 4D or 5D input"):
        F.max_unpool3d(tg.randn(2, 2, 2), tg.zeros(2, 2, 2, dtype=tg.int64), 2)
    assert repr(nn.MaxUnpool3d((1, 2, 3), 1)) == repr(torch.nn.MaxUnpool3d((1, 2, 3), 1))


# ---- lp_pool3d ------------------------------------------------------------------------------

def _lp_reference(x, p, k):
    """Sum of x^p over non-overlapping k-cubes, to the power 1/p."""
    n, c, d, h, w = x.shape
    blocks = x[:, :, :d // k * k, :h // k * k, :w // k * k].reshape(
        n, c, d // k, k, h // k, k, w // k, k)
    return (blocks ** p).sum(axis=(3, 5, 7)) ** (1 / p)


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_lp_pool3d_matches_reference_and_gradients(p):
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.random((1, 2, 4, 4, 5)) + 0.5, dtype=tg.float64, requires_grad=True)
    np.testing.assert_allclose(host(F.lp_pool3d(x, p, 2)), _lp_reference(host(x), p, 2),
                               rtol=1e-12)
    layer = nn.LPPool3d(p, 2)
    np.testing.assert_array_equal(host(layer(x)), host(F.lp_pool3d(x, p, 2)))
    small = tg.tensor(rng.random((1, 1, 2, 2, 3)) + 0.5, dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda t: F.lp_pool3d(t, p, (1, 2, 2), stride=1), (small,))
    assert gradgradcheck(lambda t: F.lp_pool3d(t, p, 2, ceil_mode=True), (small,))


def test_lp_pool3d_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.random((2, 5, 4, 3)) + 0.1                       # unbatched (C, D, H, W)
    for args, kwargs in (((2, 2), {}), ((1.5, (2, 1, 2)), {"stride": 1, "ceil_mode": True})):
        theirs = torch.nn.functional.lp_pool3d(torch.tensor(x), *args, **kwargs).numpy()
        np.testing.assert_allclose(host(F.lp_pool3d(tg.tensor(x), *args, **kwargs)), theirs,
                                   rtol=1e-12)
    assert repr(nn.LPPool3d(1.5, (1, 2, 2), 1, True)) == \
        repr(torch.nn.LPPool3d(1.5, (1, 2, 2), 1, True))


# ---- fractional_max_pool3d ------------------------------------------------------------------

def _fractional_reference(x, kernel, out_sizes, samples):
    """Loop form: window starts per dim from PyTorch's interval formula."""
    def starts(u, size, out, k):
        if out == 1:
            return [size - k]
        alpha = (size - k) / (out - 1)
        return [int((i + u) * alpha) - int(u * alpha) for i in range(out - 1)] + [size - k]
    n, c = x.shape[:2]
    y = np.empty((n, c) + tuple(out_sizes))
    for b, ch in itertools.product(range(n), range(c)):
        s = [starts(samples[b, ch, d], x.shape[2 + d], out_sizes[d], kernel[d])
             for d in range(3)]
        for i, j, m in itertools.product(*(range(o) for o in out_sizes)):
            y[b, ch, i, j, m] = x[b, ch, s[0][i]:s[0][i] + kernel[0], s[1][j]:s[1][j] + kernel[1],
                                  s[2][m]:s[2][m] + kernel[2]].max()
    return y


def test_fractional_max_pool3d_matches_loop_reference_and_indices():
    rng = np.random.default_rng(5)
    x = _distinct(rng, 2, 2, 6, 5, 7)
    samples = tg.tensor(rng.random((2, 2, 3)), dtype=tg.float64)
    out, idx = F.fractional_max_pool3d(x, (2, 2, 3), output_size=(4, 3, 3),
                                       return_indices=True, _random_samples=samples)
    want = _fractional_reference(host(x), (2, 2, 3), (4, 3, 3), host(samples))
    np.testing.assert_array_equal(host(out), want)
    assert idx.dtype == tg.int64
    np.testing.assert_array_equal(host(x).reshape(2, 2, -1)[
        np.arange(2)[:, None, None], np.arange(2)[None, :, None], host(idx).reshape(2, 2, -1)],
        host(out).reshape(2, 2, -1))
    values, same = F.fractional_max_pool3d_with_indices(x, (2, 2, 3), (4, 3, 3),
                                                        _random_samples=samples)
    np.testing.assert_array_equal(host(same), host(idx))
    layer = nn.FractionalMaxPool3d((2, 2, 3), output_size=(4, 3, 3), _random_samples=samples)
    np.testing.assert_array_equal(host(layer(x)), host(out))
    unbatched = F.fractional_max_pool3d(x[1], 2, output_ratio=0.5, _random_samples=samples[1:])
    assert unbatched.shape == (2, 3, 2, 3)


def test_fractional_max_pool_uses_the_first_rows_of_longer_random_samples():
    """As PyTorch: _random_samples may have more rows than the batch (the module inputs of
    PyTorch's unbatched tests pass two rows); only the first N are used."""
    rng = np.random.default_rng(7)
    x = _distinct(rng, 1, 2, 9, 9, 9)
    samples = tg.tensor(rng.random((3, 2, 3)), dtype=tg.float64)
    want = F.fractional_max_pool3d(x, 2, output_size=4, _random_samples=samples[:1])
    for inp, squeeze in ((x, False), (x[0], True)):
        got = F.fractional_max_pool3d(inp, 2, output_size=4, _random_samples=samples)
        np.testing.assert_array_equal(host(got), host(want[0] if squeeze else want))
    planes = x[:, :, 0]
    got = F.fractional_max_pool2d(planes, 2, output_size=4, _random_samples=samples[..., :2])
    np.testing.assert_array_equal(host(got), host(F.fractional_max_pool2d(
        planes, 2, output_size=4, _random_samples=samples[:1, :, :2])))
    with pytest.raises(RuntimeError, match="or more rows"):
        F.fractional_max_pool3d(tg.cat([x, x]), 2, output_size=4, _random_samples=samples[:1])


def test_fractional_max_pool3d_gradients():
    rng = np.random.default_rng(6)
    x = _distinct(rng, 1, 2, 4, 4, 4)
    samples = tg.tensor(rng.random((1, 2, 3)), dtype=tg.float64)
    fn = lambda t: F.fractional_max_pool3d(t, 2, output_size=(2, 2, 2),  # noqa: E731
                                           _random_samples=samples)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_fractional_max_pool3d_empty_batch():
    x = tg.zeros((0, 2, 5, 5, 5), dtype=tg.float64, requires_grad=True)
    values, indices = F.fractional_max_pool3d(x, 2, output_size=(2, 3, 2), return_indices=True)
    assert values.shape == indices.shape == (0, 2, 2, 3, 2)
    values.sum().backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("kernel, out", [(2, (3, 4, 5)), ((2, 3, 2), (5, 3, 4)),
                                         ((1, 1, 1), (1, 1, 1))])
def test_fractional_max_pool3d_matches_torch(kernel, out):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 7, 6, 8)).astype(np.float32)
    s = rng.random((2, 3, 3)).astype(np.float32)
    ours = F.fractional_max_pool3d(tg.tensor(x), kernel, out, return_indices=True,
                                   _random_samples=tg.tensor(s))
    theirs = torch.nn.functional.fractional_max_pool3d(
        torch.tensor(x), kernel, out, return_indices=True, _random_samples=torch.tensor(s))
    np.testing.assert_array_equal(host(ours[0]), theirs[0].numpy())
    np.testing.assert_array_equal(host(ours[1]), theirs[1].numpy())


def test_fractional_max_pool2d_with_indices_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 2, 7, 6))
    s = rng.random((1, 2, 2))
    ours = F.fractional_max_pool2d_with_indices(tg.tensor(x), 2, (4, 3),
                                                _random_samples=tg.tensor(s))
    theirs = torch.nn.functional.fractional_max_pool2d_with_indices(
        torch.tensor(x), 2, (4, 3), _random_samples=torch.tensor(s))
    assert isinstance(ours, tuple) and len(ours) == 2
    np.testing.assert_array_equal(host(ours[0]), theirs[0].numpy())
    np.testing.assert_array_equal(host(ours[1]), theirs[1].numpy())


def test_fractional_max_pool3d_module_and_errors_match_torch():
    layer = nn.FractionalMaxPool3d(2, output_ratio=0.5)
    assert layer.kernel_size == (2, 2, 2) and layer.output_ratio == (0.5, 0.5, 0.5)
    assert layer.output_size is None and list(layer.state_dict()) == []
    assert repr(layer) == "FractionalMaxPool3d()"
    assert layer(tg.randn(1, 2, 6, 6, 6)).shape == (1, 2, 3, 3, 3)
    cases = [
        (ValueError, "requires specifying either an output size",
         lambda m: m.FractionalMaxPool3d(2)),
        (ValueError, r"output_ratio must be between 0 and 1 \(got 1.5\)",
         lambda m: m.FractionalMaxPool3d(2, output_ratio=1.5)),
        (ValueError, "only one of output_size and output_ratio",
         lambda m: m.FractionalMaxPool3d(2, 3, 0.5)),
        (ValueError, "fractional_max_pool3d requires specifying either an output_size",
         lambda m: m.functional.fractional_max_pool3d(m.x(1, 1, 4, 4, 4), 2)),
        (RuntimeError, "pool time 3 too large relative to input time 3",
         lambda m: m.functional.fractional_max_pool3d(m.x(1, 1, 3, 3, 3), 3, output_size=2)),
        (RuntimeError, "pool width 3 too large relative to input width 3",
         lambda m: m.functional.fractional_max_pool3d(m.x(1, 1, 4, 3, 3), (1, 1, 3), 2)),
        (RuntimeError, r"Expect _random_samples.size\(2\) equals to 3; got 2",
         lambda m: m.functional.fractional_max_pool3d(m.x(1, 1, 4, 4, 4), 2, 2,
                                                      _random_samples=m.x(1, 1, 2)))]

    class Ours:
        FractionalMaxPool3d, functional, x = nn.FractionalMaxPool3d, F, staticmethod(tg.rand)

    for error, message, make in cases:
        with pytest.raises(error, match=message):
            make(Ours)
    torch = pytest.importorskip("torch")

    class Theirs:
        FractionalMaxPool3d = torch.nn.FractionalMaxPool3d
        functional, x = torch.nn.functional, staticmethod(torch.rand)

    for error, message, make in cases:
        with pytest.raises(error, match=message):
            make(Theirs)
