"""Let idle worker threads sleep soon, so that the matrix products and our kernels, which take
turns in every training step, each find the cores free.

Two thread pools share the cores: NumPy's OpenBLAS runs the GEMMs, Numba's OpenMP runs the
fused kernels (im2col, activations, norms). Left to their defaults, both spin after a call,
waiting for the next one, on the cores that the other pool needs next:

- OpenBLAS spins for 2^28 CPU cycles (about 0.1 s). On 2 cores a 2-thread im2col right after
  a GEMM took 4.8 ms instead of 1.2 (and 2.4 ms on one thread). ``OPENBLAS_THREAD_TIMEOUT=18``
  makes it 2^18 cycles (about 0.1 ms): GEMMs that follow each other within that time still
  find their threads awake. Measured on 2 cores, against the default: Conv2d and
  ConvTranspose2d steps at DCGAN sizes 10% faster, the DCGAN and conv VAE 15%, the MLP GAN and
  VAE within 5% (their small GEMMs now wake sleeping threads); shorter spins cost those more.
- OpenMP's threads spin too: a Conv2d step (64->128 channels, DCGAN size) took 24 ms instead of
  17, its GEMMs half as fast while the kernel threads spun beside them.
  ``OMP_WAIT_POLICY=PASSIVE`` makes them sleep at once.

Each library reads its variable once: OpenBLAS when NumPy loads it, so ``shorten_idle_spins()``
sets it when tinygen is imported (import tinygen before NumPy); OpenMP when Numba starts its
threads (on the first parallel kernel, or ``numba.set_num_threads``), so ``let_openmp_sleep()``
sets it when tinygen first loads Numba, for its first fused kernel. Not at import: PyTorch's
OpenMP reads the same variable, and a passive PyTorch ran its Linear 1.6x slower, so a process
that imports tinygen but runs none of its kernels leaves PyTorch as it was. Numba code of your
own that runs in parallel before tinygen's first kernel starts the threads too early.
``tinygen info`` says whether each setting applied. A value already in the environment is kept
(the user's own, or one a parent process passed on).
"""

import os
import sys
import warnings

OPENBLAS = "OPENBLAS_THREAD_TIMEOUT"
OPENMP = "OMP_WAIT_POLICY"
SETTINGS = {OPENBLAS: "18", OPENMP: "PASSIVE"}
applied = {}     # variable -> True (in time) or False (too late); absent: not set by tinygen


def _numba_threads_started():
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    return bool(parallel is not None and parallel._is_initialized)


def _too_late(variable):
    """True when the library that reads ``variable`` has read it already in this process."""
    return "numpy" in sys.modules if variable == OPENBLAS else _numba_threads_started()


def shorten_idle_spins():
    """Set ``OPENBLAS_THREAD_TIMEOUT`` (at import: OpenBLAS reads it when NumPy loads)."""
    _set(OPENBLAS)


def let_openmp_sleep():
    """Set ``OMP_WAIT_POLICY`` (when tinygen loads Numba, before its threads start); warn when
    they started earlier."""
    _set(OPENMP)
    if applied.get(OPENMP) is False:
        warnings.warn("Numba's threads started before tinygen could set OMP_WAIT_POLICY=PASSIVE, "
                      "so they spin beside OpenBLAS's and training steps may run up to 1.4x "
                      "slower; set OMP_WAIT_POLICY=PASSIVE in the environment", stacklevel=2)


def _set(variable):
    """Set ``variable`` unless the environment has it; record in ``applied`` whether it came in
    time for this process (child processes inherit it either way)."""
    if variable not in os.environ:
        os.environ[variable] = SETTINGS[variable]
        applied[variable] = not _too_late(variable)


def describe(variable):
    """One line for ``tinygen info`` on how ``variable``'s threads wait."""
    if variable not in applied:
        if variable == OPENMP and variable not in os.environ:
            return f"{variable} not set yet (tinygen sets it when it first loads Numba)"
        return f"{variable}={os.environ.get(variable)} (from the environment)"
    if applied[variable]:
        return f"{variable}={SETTINGS[variable]}: idle threads sleep soon (set by tinygen)"
    first = "NumPy was" if variable == OPENBLAS else "Numba's threads were"
    return (f"{variable} came too late: {first} started before tinygen was imported "
            f"(import tinygen first)")
