"""The kernel dispatcher: mode from TINYGEN_KERNELS or ``use``, the path it reports, the
profiler hook, the fallbacks to the reference, and that importing tinygen compiles nothing."""

import subprocess
import sys

import numpy as np
import pytest

from tinygen import kernels
from tinygen.kernels import reference


@pytest.fixture
def x():
    return np.random.default_rng(0).standard_normal((3, 5))


def test_mode_comes_from_the_environment_at_call_time(monkeypatch, x):
    monkeypatch.delenv("TINYGEN_KERNELS", raising=False)
    assert kernels.mode() == "fused" and kernels.path("softmax", x) == "fused-cpu"
    monkeypatch.setenv("TINYGEN_KERNELS", "reference")
    assert kernels.mode() == "reference" and kernels.path("softmax", x) == "reference-cpu"
    monkeypatch.setenv("TINYGEN_KERNELS", "fast")
    with pytest.raises(ValueError, match="TINYGEN_KERNELS='fast'"):
        kernels.softmax(x)


def test_use_overrides_the_environment_and_nests(monkeypatch, x):
    monkeypatch.setenv("TINYGEN_KERNELS", "reference")
    with kernels.use("fused"):
        assert kernels.path("gelu", x) == "fused-cpu"
        with kernels.use("reference"):
            assert kernels.mode() == "reference"
        assert kernels.mode() == "fused"
    assert kernels.mode() == "reference"
    with pytest.raises(ValueError, match="unknown kernel mode"):
        with kernels.use("numba"):
            pass


def test_on_dispatch_sees_every_call_with_its_path(monkeypatch, x):
    calls = []
    monkeypatch.setattr(kernels, "on_dispatch", lambda name, path: calls.append((name, path)))
    with kernels.use("fused"):
        kernels.softmax(x)
    with kernels.use("reference"):
        kernels.log_softmax(x)
    assert calls == [("softmax", "fused-cpu"), ("log_softmax", "reference-cpu")]


def test_both_modes_give_the_same_answer(x):
    with kernels.use("reference"):
        want = kernels.softmax(x)
    with kernels.use("fused"):
        got = kernels.softmax(x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_a_name_without_a_fused_twin_runs_its_reference(x):
    image = x.reshape(1, 1, 3, 5)
    with kernels.use("fused"):
        assert kernels.path("im2col_strided", image) == "reference-cpu"
        cols = kernels.im2col_strided(image, (2, 2), (1, 1), (0, 0), (1, 1))
    np.testing.assert_array_equal(cols, reference.im2col(image, (2, 2), (1, 1), (0, 0), (1, 1)))


def test_without_numba_everything_runs_the_reference(monkeypatch, x):
    monkeypatch.setattr(kernels, "has_numba", lambda: False)
    kernels.fused_module.cache_clear()
    try:
        with kernels.use("fused"):
            assert kernels.path("softmax", x) == "reference-cpu"
    finally:
        kernels.fused_module.cache_clear()


def test_every_name_is_a_reference_function_with_its_docstring():
    for name in kernels.NAMES:
        assert getattr(kernels, name).__doc__ == getattr(reference, name).__doc__, name
    with pytest.raises(ValueError, match="unknown kernel 'softmaxx'"):
        kernels.path("softmaxx", np.zeros(1))


def test_importing_tinygen_imports_no_numba_and_no_fused_module():
    code = ("import sys, tinygen, tinygen.ops, tinygen.kernels; "
            "print('numba' in sys.modules, 'tinygen.kernels.cpu' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
