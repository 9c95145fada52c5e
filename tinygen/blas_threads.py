"""Let OpenBLAS's idle threads sleep soon after a matrix product, so our kernels get the cores.

After each GEMM, OpenBLAS's worker threads spin, waiting for the next one, for 2^28 CPU cycles
(about 0.1 s) before they sleep. A training step alternates GEMMs with Numba kernels (im2col,
activations, norms), whose threads then share the cores with the spinning ones: on 2 cores a
2-thread im2col right after a GEMM took 4.8 ms instead of 1.2 (and 2.4 ms on one thread).
OpenBLAS reads how long to spin, as a power of two, from ``OPENBLAS_THREAD_TIMEOUT`` when NumPy
loads it; there is no call to change it later.

``shorten_blas_spin()`` runs when tinygen is imported and sets it to 2^18 cycles (about 0.1 ms):
GEMMs that follow each other within that time still find their threads awake, and the kernels
between them run on all cores. Measured on 2 cores, against the default: Conv2d and
ConvTranspose2d steps at DCGAN sizes 10% faster, the DCGAN and conv VAE 15%, the MLP GAN and
VAE within 5% (their small GEMMs now wake sleeping threads); shorter spins cost those more.

It takes effect only when NumPy is not loaded yet: import tinygen before NumPy (``tinygen
info`` says whether it applied). A value the user set is kept.
"""

import os
import sys

VARIABLE = "OPENBLAS_THREAD_TIMEOUT"
SPIN_LOG2_CYCLES = "18"
shortened = None     # set by shorten_blas_spin(): True applied, False too late, None not ours


def shorten_blas_spin():
    """Set ``OPENBLAS_THREAD_TIMEOUT`` unless the environment has it (the user's value, or one a
    parent process passed on); True when it applies to this process, that is when NumPy, which
    loads OpenBLAS, is not imported yet. Child processes inherit it either way."""
    global shortened
    if VARIABLE in os.environ:
        return False
    os.environ[VARIABLE] = SPIN_LOG2_CYCLES
    shortened = "numpy" not in sys.modules
    return shortened


def describe():
    """One line for ``tinygen info``."""
    if shortened is None:
        return f"{VARIABLE}={os.environ.get(VARIABLE)} (from the environment)"
    if shortened:
        return f"OpenBLAS threads sleep after 2^{SPIN_LOG2_CYCLES} idle cycles ({VARIABLE} set)"
    return ("OpenBLAS threads spin for OpenBLAS's default time: NumPy was imported before "
            "tinygen (import tinygen first)")
