"""``torch.backends.openmp``: whether tinygen's parallel CPU kernels run on OpenMP threads.

They are Numba kernels, and Numba runs them on one of its threading layers: TBB, OpenMP or its
own work queue, the first that loads (or the one ``NUMBA_THREADING_LAYER`` asks for).
"""

from tinygen import threads


def is_available():
    """True when Numba's threading layer is OpenMP ('omp'). Numba picks its layer when it first
    starts its threads, so this starts them if no parallel kernel has run yet (tinygen's kernels
    would on their first call). False without Numba."""
    numba = threads._numba()
    if numba is None:
        return False
    try:
        return numba.threading_layer() == "omp"
    except ValueError:                     # no parallel kernel has run: start the threads
        pass
    try:
        from numba.np.ufunc.parallel import _launch_threads
        _launch_threads()
        return numba.threading_layer() == "omp"
    except Exception:                      # no layer loads (or Numba moved the function)
        return False
