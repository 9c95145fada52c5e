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

Each library reads its variable once: OpenBLAS when NumPy loads it, OpenMP when Numba starts
its threads (on the first parallel kernel, or ``numba.set_num_threads``). ``shorten_idle_spins()``
runs when tinygen is imported, so import tinygen first: before NumPy, and before any Numba
code of yours runs in parallel. ``tinygen info`` says whether each setting applied. A value
already in the environment is kept (the user's own, or one a parent process passed on).
"""

import os
import sys

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
    """Set each variable of SETTINGS that the environment does not have; record in ``applied``
    whether it came in time for this process (child processes inherit it either way)."""
    for variable, value in SETTINGS.items():
        if variable not in os.environ:
            os.environ[variable] = value
            applied[variable] = not _too_late(variable)


def describe(variable):
    """One line for ``tinygen info`` on how ``variable``'s threads wait."""
    if variable not in applied:
        return f"{variable}={os.environ.get(variable)} (from the environment)"
    if applied[variable]:
        return f"{variable}={SETTINGS[variable]}: idle threads sleep soon (set by tinygen)"
    first = "NumPy was" if variable == OPENBLAS else "Numba's threads were"
    return (f"{variable} came too late: {first} started before tinygen was imported "
            f"(import tinygen first)")
