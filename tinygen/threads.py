"""``tg.get_num_threads()`` / ``tg.set_num_threads(n)``: how many threads a CPU op may use.

Two pools run tinygen's CPU work (see idle_threads.py): NumPy's OpenBLAS for the matrix
products and Numba's for the fused kernels. ``set_num_threads`` sets both: Numba's through
``numba.set_num_threads`` (at most the count Numba started with, $NUMBA_NUM_THREADS or the
cores), OpenBLAS's through the ``openblas_set_num_threads`` that NumPy's wheels bundle, found
next to NumPy and called with ctypes. A NumPy built on another BLAS (MKL, Accelerate) keeps its
own thread count, which $OMP_NUM_THREADS or threadpoolctl can set; ``blas_threads_settable()``
says which case this is. NumPy's elementwise math is single-threaded either way.
"""

import ctypes
import functools
import glob
import os

import numpy as np

from tinygen import backend, idle_threads

# The same function under the names of the OpenBLAS builds NumPy has shipped.
_BLAS_PREFIXES = ("scipy_openblas", "openblas")
_BLAS_SUFFIXES = ("64_", "_64_", "")


@functools.cache
def _openblas():
    """(get_num_threads, set_num_threads) of NumPy's bundled OpenBLAS, or None."""
    root = os.path.dirname(np.__file__)
    paths = glob.glob(os.path.join(root + ".libs", "*openblas*")) + \
        glob.glob(os.path.join(root, ".dylibs", "*openblas*"))
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _BLAS_PREFIXES:
            for suffix in _BLAS_SUFFIXES:
                get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype, put.argtypes = ctypes.c_int, (ctypes.c_int,)
                    return get, put
    return None


def blas_threads_settable():
    """True when NumPy's OpenBLAS was found, so ``set_num_threads`` reaches the matmuls."""
    return _openblas() is not None


def _numba():
    """numba, its threads started with tinygen's idle policy (see idle_threads.py), or None."""
    if not backend.has_numba():
        return None
    idle_threads.let_openmp_sleep()
    import numba
    return numba


def get_num_threads():
    """The threads a CPU op may use: OpenBLAS's count when it was found, else Numba's, else 1."""
    blas = _openblas()
    if blas is not None:
        return blas[0]()
    numba = _numba()
    return numba.get_num_threads() if numba is not None else 1


def set_num_threads(n):
    """Let CPU ops use ``n`` threads: OpenBLAS's matmuls (when ``blas_threads_settable()``) and
    Numba's kernels (up to the threads Numba started with)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    blas = _openblas()
    if blas is not None:
        blas[1](n)
    numba = _numba()
    if numba is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
