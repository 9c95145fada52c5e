"""tinygen.idle_threads: importing tinygen first sets how OpenBLAS's and OpenMP's idle threads
wait, a value in the environment is kept, and an import after the library started says it came
too late."""

import os
import subprocess
import sys

import pytest

from tinygen import idle_threads
from tinygen.idle_threads import OPENBLAS, OPENMP, SETTINGS

REPORT = ("import os, tinygen; from tinygen.idle_threads import applied; "
          "print(*(os.environ[v] + ':' + str(applied.get(v)) for v in ({!r}, {!r})))"
          .format(OPENBLAS, OPENMP))
NUMBA_THREADS_STARTED = "import numba; numba.set_num_threads(1); "


def run(code, **env):
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**base, **env})
    return out.stdout.split()


def test_importing_tinygen_first_sets_both_in_time():
    assert run(REPORT) == [f"{SETTINGS[OPENBLAS]}:True", f"{SETTINGS[OPENMP]}:True"]


def test_importing_numpy_first_is_too_late_for_openblas_only():
    assert run("import numpy; " + REPORT) == [f"{SETTINGS[OPENBLAS]}:False",
                                              f"{SETTINGS[OPENMP]}:True"]


def test_importing_numba_is_in_time_but_starting_its_threads_is_not():
    assert run("import numba; " + REPORT)[1] == f"{SETTINGS[OPENMP]}:True"
    assert run(NUMBA_THREADS_STARTED + REPORT)[1] == f"{SETTINGS[OPENMP]}:False"


def test_values_in_the_environment_are_kept():
    assert run(REPORT, OPENBLAS_THREAD_TIMEOUT="7", OMP_WAIT_POLICY="ACTIVE") == [
        "7:None", "ACTIVE:None"]


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
    (OPENMP, None, "from the environment"),
])
def test_describe(monkeypatch, variable, applied, says):
    monkeypatch.setattr(idle_threads, "applied", {} if applied is None else {variable: applied})
    assert says in idle_threads.describe(variable)
