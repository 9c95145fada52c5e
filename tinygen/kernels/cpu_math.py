"""What every Numba kernel shares: the jit options, how arrays are prepared for a kernel, and
how a kernel is launched (the per-element math is in ``cpu_vecmath.py``).

Kernels take C-contiguous float32 or float64 buffers (``rows`` copies only when the input is
not already one) and write into outputs of the input's dtype. Numba compiles each kernel once
per dtype on first use and caches the machine code in ``__pycache__`` beside its source file.
Numba keys a cached kernel on its own file only: after editing a helper file
(``cpu_vecmath.py``), delete the ``__pycache__`` folder of ``tinygen/kernels`` so the callers
recompile.

On a CPU with AVX-512, LLVM still emits 256-bit vectors unless told otherwise (its tuning flag
``prefer-256-bit``, a guard against the clock slowing on older Xeons); the kernels are bound by
exp and erf polynomials, and 512-bit vectors make them up to 1.5x faster, so this module turns
the flag off before the first kernel is compiled (see ``_prefer_wide_vectors``).

Numba's OpenMP threads wait for work asleep, not spinning, so that OpenBLAS gets the cores
between kernels: this module sets ``OMP_WAIT_POLICY`` before Numba starts its threads (see
``tinygen/idle_threads.py``).
"""

import math
import types

from tinygen import idle_threads

idle_threads.let_openmp_sleep()

import numba  # noqa: E402  (after OMP_WAIT_POLICY, which Numba's OpenMP reads when it starts)
import numpy as np  # noqa: E402

# Row-parallel kernels: prange splits rows over threads; fastmath stays off so inf and nan
# propagate exactly as in the reference, and NumPy's error model makes 1/0 inf, not an error.
PARALLEL = dict(parallel=True, cache=True, fastmath=False, nogil=True, error_model="numpy")
SERIAL = dict(PARALLEL, parallel=False)
SCALAR = dict(cache=True, fastmath=False, error_model="numpy")
FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
PARALLEL_MIN = 1 << 16                     # elements of work below which one thread is faster
ROWS_PER_PARTIAL = 256                     # rows summed into one block's partial sums


def _prefer_wide_vectors():
    """Let LLVM use the host's 512-bit vectors (AVX-512), by adding ``-prefer-256-bit`` to the
    CPU features Numba compiles for. Numba reads them once, when the first function is
    decorated, so this runs on import, before any kernel; it does nothing when the user has set
    NUMBA_CPU_NAME or NUMBA_CPU_FEATURES, or when Numba compiled something earlier."""
    import llvmlite.binding as llvm
    from numba.core import config, registry

    started = "_toplevel_target_context" in vars(registry.cpu_target)
    if started or config.CPU_NAME is not None or config.CPU_FEATURES is not None:
        return
    features = llvm.get_host_cpu_features()
    if features.get("avx512f"):
        config.CPU_FEATURES = features.flatten() + ",-prefer-256-bit"


_prefer_wide_vectors()


def fusable(*arrays):
    """True when every array is float32 or float64 of one dtype (the dtypes the kernels are
    compiled for); other inputs run the reference."""
    return all(a.dtype in FUSED_DTYPES and a.dtype == arrays[0].dtype for a in arrays)


def rows(a, dtype=None):
    """``a`` as a C-contiguous (R, D) array of its rows (D = the last axis), copied only when
    it is not contiguous already or has another dtype."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def flat(a, dtype=None):
    """``a`` as a C-contiguous 1-D array, copied only where needed."""
    return np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def parallel_kernel(function):
    """``numba.njit(**PARALLEL)(function)``, carrying as ``.serial`` a second compile of the
    same function without ``parallel`` (where ``prange`` is ``range``), for ``launch``.

    The copy gets a name of its own: Numba's on-disk cache files a compiled function under its
    qualified name and keys it on the bytecode and signature, not on ``parallel``, so under one
    name the two compiles would overwrite each other."""
    serial = types.FunctionType(function.__code__, function.__globals__,
                                function.__name__ + "_serial", function.__defaults__,
                                function.__closure__)
    serial.__qualname__ = function.__qualname__ + "_serial"
    kernel = numba.njit(**PARALLEL)(function)
    kernel.serial = numba.njit(**SERIAL)(serial)
    return kernel


def launch(kernel, work, *args):
    """kernel(*args), run serially when ``work`` (elements touched) is small: waking the other
    threads costs tens of microseconds, far more on a busy machine, and saves nothing. The
    serial compile leaves Numba's thread count alone: setting it to 1 and back around each
    small call cost 3-6 us, 10% of a batch-1 GPT sampling step."""
    return (kernel if work >= PARALLEL_MIN else kernel.serial)(*args)


def row_blocks(n_rows):
    """How many blocks to split rows into when each block keeps its own partial sums (for
    weight and bias gradients): a few per thread, so work balances, and never more than rows."""
    return max(1, min(n_rows, 4 * numba.get_num_threads()))


def partial_sums(n_rows, width, dtype):
    """Zeroed (blocks, width) partial sums of a weight or bias gradient over ``n_rows`` rows,
    one row per block (prange step), in the input's ``dtype``: float64 partials, converted
    element by element in the kernel's inner loop, made layer norm's backward 1.3-1.5x slower.
    Each block sums at most ROWS_PER_PARTIAL rows, which keeps the error of a float32 partial
    within 1.5e-5 of the sum of its terms' magnitudes; ``total`` adds the blocks in float64."""
    blocks = max(row_blocks(n_rows), -(-n_rows // ROWS_PER_PARTIAL))
    return np.zeros((blocks, width), dtype)


def total(partial_sums):
    """The sum over blocks of ``partial_sums``, added in float64, in their dtype."""
    return partial_sums.sum(axis=0, dtype=np.float64).astype(partial_sums.dtype)
