"""nansum, nanmean, nanmedian, count_nonzero: values against NumPy, gradients (NaN elements
get 0), dim / keepdim forms and dtypes as in PyTorch."""

import warnings

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

NAN = float("nan")
ROWS = np.array([[NAN, 1.0, 3.0, 2.0], [NAN, NAN, NAN, NAN], [5.0, NAN, 4.0, NAN]])


@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (0, True), ((0, 1), True)])
def test_nansum_nanmean_values(dim, keepdim, device):
    x = tg.tensor(ROWS, device=device)
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    np.testing.assert_allclose(host(tg.nansum(x, dim, keepdim)),
                               np.nansum(ROWS, axis=axis, keepdims=keepdim))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # NumPy warns of an all-NaN row
        expected = np.nanmean(ROWS, axis=axis, keepdims=keepdim)
    np.testing.assert_allclose(host(x.nanmean(dim, keepdim)), expected)


def test_nan_gets_zero_gradient(device):
    x = tg.tensor(ROWS, device=device, requires_grad=True)
    tg.nansum(x).backward()
    np.testing.assert_equal(host(x.grad), ~np.isnan(ROWS) * 1.0)
    x.grad = None
    with np.errstate(divide="ignore"):                      # the all-NaN row divides by 0
        x.nanmean(1).sum().backward()
        counts = (~np.isnan(ROWS)).sum(1, keepdims=True)
        np.testing.assert_allclose(host(x.grad), np.where(np.isnan(ROWS), 0, 1 / counts))


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_gradcheck(name, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    fn = lambda t: getattr(tg, name)(t, 1)                 # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_nansum_dtypes():
    assert tg.nansum(tg.tensor([True, False, True])).dtype == tg.int64
    assert tg.nansum(tg.tensor([1.0, NAN]), dtype=tg.float64).dtype == tg.float64
    with pytest.raises(RuntimeError, match="floating point"):
        tg.nanmean(tg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        tg.nanmean(tg.tensor([1, 2]), dtype=tg.float32)           # as PyTorch


def test_nanmedian(device):
    x = tg.tensor(ROWS, device=device, requires_grad=True)
    assert host(tg.nanmedian(x)) == 3.0                   # lower median of 1, 2, 3, 4, 5
    values, indices = x.nanmedian(1)
    np.testing.assert_equal(host(values), [2.0, NAN, 4.0])
    np.testing.assert_equal(host(indices)[[0, 2]], [3, 2])
    values.nansum().backward()
    np.testing.assert_equal(host(x.grad), [[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0]])
    kept = tg.nanmedian(x, 0, keepdim=True)
    assert kept.values.shape == (1, 4) and kept.indices.shape == (1, 4)
    np.testing.assert_equal(host(kept.values), [[5.0, 1.0, 3.0, 2.0]])
    scalar = tg.nanmedian(tg.tensor(3.0), 0)
    assert scalar.values.shape == () and scalar.indices.item() == 0
    assert np.isnan(tg.nanmedian(tg.tensor([NAN, NAN])).item())
    assert np.isnan(tg.nanmedian(tg.zeros(0)).item())
    with pytest.raises(IndexError, match="non-zero size"):
        tg.nanmedian(tg.zeros(2, 0), 1)


def test_nanmedian_gradcheck(device, rng, leaf):
    x = leaf(rng, 3, 5, device=device)
    assert gradcheck(lambda t: tg.nanmedian(t, 1).values, (x,))
    assert gradcheck(tg.nanmedian, (x,))


def test_count_nonzero(device):
    x = tg.tensor([[0, 1, 2], [0, 0, 3]], device=device)
    assert tg.count_nonzero(x).item() == 3 and tg.count_nonzero(x).dtype == tg.int64
    np.testing.assert_equal(host(x.count_nonzero(0)), [0, 1, 2])
    np.testing.assert_equal(host(x.count_nonzero(dim=-1)), [2, 1])
    assert x.count_nonzero((0, 1)).item() == 3


def test_matches_torch():
    torch = pytest.importorskip("torch")
    x, t = tg.tensor(ROWS), torch.tensor(ROWS)
    for dim in (None, 0, 1):
        args = () if dim is None else (dim,)
        for name in ("nansum", "nanmean"):
            np.testing.assert_allclose(host(getattr(tg, name)(x, *args)),
                                       getattr(torch, name)(t, *args).numpy(), err_msg=name)
        mine, theirs = tg.nanmedian(x, *args), torch.nanmedian(t, *args)
        if dim is None:
            np.testing.assert_equal(host(mine), theirs.numpy())
        else:
            np.testing.assert_equal(host(mine.values), theirs.values.numpy())
        np.testing.assert_equal(host(tg.count_nonzero(x, dim)),
                                torch.count_nonzero(t, dim).numpy())
