"""Shared test fixtures: the devices to run on, a seeded RNG and float64 leaf tensors.

Tests that take a ``device`` argument run once per entry of ``DEVICES``: "cpu" always, and "cuda"
(marked ``cuda``, so ``-m "not cuda"`` deselects it) when CuPy sees a GPU.
"""

import os

# Before anything loads an OpenMP runtime: the comparison tests import PyTorch, whose OpenMP
# threads would otherwise spin on the two cores after each of its calls and slow tinygen's
# kernels 5-7x for the rest of the session (tinygen sets this itself only when it loads Numba,
# since PyTorch runs slower with it; its speed does not matter here).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every machine and run: no example database (a case
# one run saved would otherwise be replayed only where that run happened).
settings.register_profile("tinygen", database=None)
settings.load_profile("tinygen")

import tinygen as tg  # noqa: E402
from tinygen import device_checks  # noqa: E402

DEVICES = ["cpu"] + ([pytest.param("cuda", marks=pytest.mark.cuda)]
                     if tg.cuda.is_available() else [])


@pytest.fixture(params=DEVICES, scope="session")
def device(request):
    """Each available device in turn ("cpu", then "cuda" when there is a GPU)."""
    return request.param


@pytest.fixture(autouse=True)
def no_unread_failed_checks():
    """After each test, raise the error of any check still queued on a GPU (see
    tinygen.device_checks): a test that passes bad input must read a result, where the GPU
    reports it, and its check must not leak into the next test."""
    yield
    device_checks.flush()


@pytest.fixture
def rng():
    """A NumPy generator seeded the same way in every test, so failures reproduce."""
    return np.random.default_rng(0)


def make_leaf(rng, *shape, device="cpu", low=-1.0, high=1.0, away_from=(), gap=0.1,
              dtype=tg.float64, requires_grad=True):
    """A leaf tensor of uniform values in [low, high), float64 by default.

    Values closer than ``gap`` to a point of ``away_from`` are pushed out to that distance, so
    inputs stay off kinks (relu and abs at 0, clamp bounds) where finite differences would
    straddle two slopes.
    """
    values = rng.uniform(low, high, size=shape)
    for point in away_from:
        near = np.abs(values - point) < gap
        values[near] = point + np.where(values[near] >= point, gap, -gap)
    return tg.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


@pytest.fixture(scope="session")
def leaf():
    """``leaf(rng, *shape, device=, low=, high=, away_from=, gap=, dtype=, requires_grad=)``: see
    ``make_leaf``. Session-scoped (it keeps no state), so Hypothesis tests can use it too."""
    return make_leaf


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory):
    """A directory of the four gzipped MNIST IDX files (standard names) holding 600 train and
    100 test synthetic 28x28 digits (``tests/data/synthetic.py``): pass it as ``data_dir``."""
    from tests.data.synthetic import write_mnist_dir
    return write_mnist_dir(tmp_path_factory.mktemp("mnist"))
