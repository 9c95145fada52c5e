"""tinygen.idle_threads: importing tinygen first sets OpenBLAS's idle spin, tinygen's first
fused kernel sets OpenMP's wait policy (not the import: PyTorch's OpenMP reads it too), a value in
the environment is kept, and a setting that comes too late says so."""

import os
import subprocess
import sys

import pytest

from tinygen import idle_threads
from tinygen.idle_threads import OPENBLAS, OPENMP, SETTINGS

REPORT = ("from tinygen.idle_threads import applied; "
          "print(*(os.environ.get(v, '-') + ':' + str(applied.get(v)) for v in ({!r}, {!r})))"
          .format(OPENBLAS, OPENMP))
IMPORT = "import os, tinygen; "
FIRST_KERNEL = "import tinygen.nn.functional as F; F.gelu(tinygen.randn(300, 300)); "
NUMBA_THREADS_STARTED = "import numba; numba.set_num_threads(1); "


def clean_env():
    """This environment without the two variables, with the fused kernels on."""
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return dict(base, TINYGEN_KERNELS="fused")


def run(code, **env):
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, check=True, env={**clean_env(), **env})
    return out.stdout.split()


def test_import_sets_openblas_in_time_and_leaves_openmp_alone():
    assert run(IMPORT + REPORT) == [f"{SETTINGS[OPENBLAS]}:True", "-:None"]


def test_the_first_fused_kernel_sets_openmp_in_time():
    assert run(IMPORT + FIRST_KERNEL + REPORT)[1] == f"{SETTINGS[OPENMP]}:True"


def test_importing_numpy_first_is_too_late_for_openblas():
    assert run("import numpy; " + IMPORT + REPORT)[0] == f"{SETTINGS[OPENBLAS]}:False"


def test_numba_threads_started_before_the_first_kernel_are_too_late_and_warned():
    code = IMPORT + NUMBA_THREADS_STARTED + FIRST_KERNEL + REPORT
    assert run(code)[1] == f"{SETTINGS[OPENMP]}:False"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=clean_env())
    assert "set OMP_WAIT_POLICY=PASSIVE in the environment" in out.stderr


def test_values_in_the_environment_are_kept():
    assert run(IMPORT + FIRST_KERNEL + REPORT, OPENBLAS_THREAD_TIMEOUT="7",
               OMP_WAIT_POLICY="ACTIVE") == ["7:None", "ACTIVE:None"]


def test_openblas_reads_the_value():
    """NumPy's OpenBLAS reports the timeout it read at load (where it exports the getter)."""
    pytest.importorskip("threadpoolctl")
    code = ("import ctypes, tinygen, threadpoolctl; "
            "paths = [i['filepath'] for i in threadpoolctl.threadpool_info() "
            "if i['internal_api'] == 'openblas']; "
            "lib = ctypes.CDLL(paths[0]) if paths else None; "
            "print(lib.openblas_thread_timeout() if lib is not None and "
            "hasattr(lib, 'openblas_thread_timeout') else 'absent')")
    reported = run(code)[0]
    if reported == "absent":
        pytest.skip("NumPy's BLAS is not an OpenBLAS that reports its thread timeout")
    assert reported == SETTINGS[OPENBLAS]


@pytest.mark.parametrize("variable, applied, says", [
    (OPENBLAS, True, "OPENBLAS_THREAD_TIMEOUT=18: idle threads sleep soon"),
    (OPENBLAS, False, "NumPy was started before tinygen"),
    (OPENMP, True, "OMP_WAIT_POLICY=PASSIVE: idle threads sleep soon"),
    (OPENMP, False, "Numba's threads were started before tinygen"),
])
def test_describe(monkeypatch, variable, applied, says):
    monkeypatch.setattr(idle_threads, "applied", {variable: applied})
    assert says in idle_threads.describe(variable)


def test_describe_what_the_environment_set(monkeypatch):
    monkeypatch.setattr(idle_threads, "applied", {})
    monkeypatch.setenv(OPENMP, "ACTIVE")
    assert "OMP_WAIT_POLICY=ACTIVE (from the environment)" in idle_threads.describe(OPENMP)
    monkeypatch.delenv(OPENMP)
    assert "not set yet" in idle_threads.describe(OPENMP)
