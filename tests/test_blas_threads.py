"""tinygen.blas_threads: importing tinygen before NumPy shortens OpenBLAS's idle spin, a value
in the environment is kept, and an import after NumPy says it came too late."""

import os
import subprocess
import sys

import pytest

from tinygen import blas_threads

REPORT = "import os, tinygen; print(os.environ['OPENBLAS_THREAD_TIMEOUT'], " \
         "tinygen.blas_threads.shortened)"


def run(code, **env):
    base = {k: v for k, v in os.environ.items() if k != blas_threads.VARIABLE}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**base, **env})
    return out.stdout.split()


def test_importing_tinygen_first_sets_the_spin_before_openblas_loads():
    assert run(REPORT) == [blas_threads.SPIN_LOG2_CYCLES, "True"]


def test_importing_numpy_first_is_too_late_and_says_so():
    assert run("import numpy; " + REPORT) == [blas_threads.SPIN_LOG2_CYCLES, "False"]


def test_a_value_in_the_environment_is_kept():
    assert run(REPORT, OPENBLAS_THREAD_TIMEOUT="7") == ["7", "None"]


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
    assert reported == blas_threads.SPIN_LOG2_CYCLES


@pytest.mark.parametrize("shortened, says", [
    (True, "sleep after 2^18 idle cycles"),
    (False, "NumPy was imported before tinygen"),
    (None, "from the environment"),
])
def test_describe(monkeypatch, shortened, says):
    monkeypatch.setattr(blas_threads, "shortened", shortened)
    assert says in blas_threads.describe()
