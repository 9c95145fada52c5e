"""tg.get_num_threads / tg.set_num_threads reach NumPy's OpenBLAS and Numba."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import threads


@pytest.fixture
def restore_threads():
    before = tg.get_num_threads()
    yield
    tg.set_num_threads(before)


def test_set_num_threads_is_what_get_num_threads_reads(restore_threads):
    tg.set_num_threads(1)
    assert tg.get_num_threads() == 1


def test_set_num_threads_reaches_openblas_and_numba(restore_threads):
    if not threads.blas_threads_settable():
        pytest.skip("this NumPy's BLAS is not the bundled OpenBLAS")
    numba = pytest.importorskip("numba")
    tg.set_num_threads(1)
    assert threads._openblas()[0]() == 1 and numba.get_num_threads() == 1
    tg.set_num_threads(2)
    assert threads._openblas()[0]() == 2
    assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)


def test_more_threads_than_numba_started_are_capped_for_numba(restore_threads):
    numba = pytest.importorskip("numba")
    tg.set_num_threads(numba.config.NUMBA_NUM_THREADS + 3)
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_wants_a_positive_int(bad):
    with pytest.raises(ValueError, match="positive integer"):
        tg.set_num_threads(bad)


def test_matmul_still_right_on_one_thread(restore_threads):
    a = tg.randn(64, 64, dtype=tg.float64)
    expected = (a @ a).numpy()
    tg.set_num_threads(1)
    np.testing.assert_allclose((a @ a).numpy(), expected, rtol=1e-12, atol=1e-12)
