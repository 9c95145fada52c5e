"""tg.signal.windows: values against numpy and scipy.signal.windows (same names and ``sym``),
dtypes, devices, the empty and one-point windows and PyTorch's errors."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host

windows = tg.signal.windows
# name, keyword arguments of both libraries
CASES = [("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {"tau": 2.5}),
         ("gaussian", {"std": 1.7}), ("general_cosine", {"a": [0.5, 0.3, 0.2]}),
         ("general_hamming", {"alpha": 0.6}), ("hamming", {}), ("hann", {}),
         ("kaiser", {"beta": 4.0}), ("nuttall", {})]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[name for name, _ in CASES])
def test_matches_scipy(name, kwargs):
    scipy_windows = pytest.importorskip("scipy.signal.windows")
    for M in range(8):
        for sym in (True, False):
            y = getattr(windows, name)(M, sym=sym, dtype=tg.float64, **kwargs)
            expected = getattr(scipy_windows, name)(M, sym=sym, **kwargs)
            assert y.dtype == tg.float64 and y.shape == (M,)
            np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name} M={M} sym={sym}")


def test_closed_forms_and_the_older_window_functions(device):
    n = np.arange(6)
    np.testing.assert_allclose(host(windows.hann(6, device=device)), np.hanning(6), atol=1e-7)
    np.testing.assert_allclose(host(windows.hamming(5, sym=False)),
                               host(tg.hamming_window(5, periodic=True)), atol=1e-7)
    np.testing.assert_allclose(host(windows.kaiser(5, beta=3.0)), np.kaiser(5, 3.0), rtol=1e-6)
    np.testing.assert_allclose(host(windows.cosine(6)), np.sin(math.pi * (n + 0.5) / 6),
                               atol=1e-7)
    np.testing.assert_allclose(host(windows.exponential(6, center=1.0, sym=False)),
                               np.exp(-np.abs(n - 1.0)), atol=1e-7)
    np.testing.assert_allclose(host(windows.gaussian(6, std=2.0)),
                               np.exp(-((n - 2.5) ** 2) / 8), atol=1e-7)
    y = windows.bartlett(5, device=device, requires_grad=True)
    assert y.dtype == tg.float32 and y.device == tg.device(device) and y.requires_grad
    assert windows.nuttall(0).shape == (0,) and windows.blackman(1).tolist() == [1.0]


def test_errors_match_torch():
    with pytest.raises(ValueError, match="non-negative window length"):
        windows.hann(-1)
    with pytest.raises(ValueError, match="float32 or float64"):
        windows.hann(3, dtype=tg.int64)
    with pytest.raises(ValueError, match="float32 or float64"):
        windows.kaiser(3, dtype=tg.bfloat16)
    with pytest.raises(ValueError, match="Tau must be positive"):
        windows.exponential(3, tau=0.0)
    with pytest.raises(ValueError, match="Center must be None"):
        windows.exponential(3, center=1.0)
    with pytest.raises(ValueError, match="Standard deviation"):
        windows.gaussian(3, std=-1.0)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        windows.kaiser(3, beta=-1.0)
    with pytest.raises(TypeError, match="list/tuple"):
        windows.general_cosine(3, a=0.5)
    with pytest.raises(ValueError, match="cannot be empty"):
        windows.general_cosine(3, a=[])
