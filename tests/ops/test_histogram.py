"""histc, histogram and unique_consecutive (ops/search.py): against NumPy and PyTorch."""

import itertools

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host


def test_histc(device, rng):
    values = rng.standard_normal(50)
    x = tg.tensor(values, device=device)
    got = x.histc(bins=7, min=-1, max=1)
    np.testing.assert_equal(host(got), np.histogram(values, 7, (-1, 1))[0])
    assert got.dtype == x.dtype
    np.testing.assert_equal(host(tg.histc(x, 5)),
                            np.histogram(values, 5, (values.min(), values.max()))[0])
    np.testing.assert_equal(host(tg.histc(tg.ones(3, device=device), 2)), [0, 3])
    with pytest.raises(RuntimeError, match="floating point"):
        tg.histc(tg.tensor([1, 2]))


def test_histogram(device, rng):
    values, weights = rng.standard_normal((4, 5)), rng.uniform(size=(4, 5))
    x, w = tg.tensor(values, dtype=tg.float64, device=device), tg.tensor(weights, device=device)
    hist, edges = tg.histogram(x, 6, range=(-2.0, 2.0), weight=w.double(), density=True)
    want = np.histogram(values, 6, (-2, 2), weights=weights, density=True)
    np.testing.assert_allclose(host(hist), want[0])
    np.testing.assert_allclose(host(edges), want[1])
    bins = tg.tensor([-1.0, 0.0, 0.5, 3.0], dtype=tg.float64, device=device)
    hist, edges = x.histogram(bins)
    np.testing.assert_equal(host(hist), np.histogram(values, host(bins))[0])
    assert edges.dtype == tg.float64


def test_unique_consecutive(device):
    data = [3, 3, 1, 1, 1, 3, 2, 2]
    values, inverse, counts = tg.tensor(data, device=device).unique_consecutive(
        return_inverse=True, return_counts=True)
    runs = [(k, len(list(g))) for k, g in itertools.groupby(data)]
    assert host(values).tolist() == [k for k, _ in runs]
    assert host(counts).tolist() == [n for _, n in runs]
    np.testing.assert_equal(host(values)[host(inverse)], data)
    rows = tg.tensor([[1, 2], [1, 2], [0, 2], [1, 2]], device=device)
    got, inverse = tg.unique_consecutive(rows, return_inverse=True, dim=0)
    assert host(got).tolist() == [[1, 2], [0, 2], [1, 2]] and host(inverse).tolist() == [0, 0,
                                                                                          1, 2]
    assert host(tg.unique_consecutive(rows.T, dim=1)).tolist() == [[1, 0, 1], [2, 2, 2]]
    assert tg.unique_consecutive(tg.tensor([], device=device)).shape == (0,)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.round(np.random.default_rng(4).standard_normal((3, 6)), 0)
    t, x = torch.tensor(values), tg.tensor(values)
    np.testing.assert_equal(host(x.histc(4)), t.histc(4).numpy())
    for dim in (None, 0, 1):
        got = tg.unique_consecutive(x, return_inverse=True, return_counts=True, dim=dim)
        want = torch.unique_consecutive(t, return_inverse=True, return_counts=True, dim=dim)
        for g, w in zip(got, want):
            np.testing.assert_equal(host(g), w.numpy())
