"""The kernel dispatcher: mode from TINYGEN_KERNELS or ``use``, the path it reports, the
profiler hook, the fallbacks to the reference, float16 run in float32, and that importing
tinygen compiles nothing."""

import subprocess
import sys

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
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


def _half_cases(rng):
    """(name, float16 arguments) for every kernel that runs float16 in float32."""
    x = (rng.standard_normal((4, 40)) * 4).astype(np.float16)
    g = rng.standard_normal((4, 40)).astype(np.float16)
    w, b = rng.standard_normal((2, 40)).astype(np.float16)
    y = reference.softmax(x.astype(np.float32)).astype(np.float16)
    log_y = reference.log_softmax(x.astype(np.float32)).astype(np.float16)
    _, mean, rstd = reference.layer_norm(x.astype(np.float32), None, None, 1e-5)
    return [
        ("softmax", (x,)), ("log_softmax", (x,)), ("softmax_backward", (y, g)),
        ("log_softmax_backward", (log_y, g)), ("causal_softmax", (x.reshape(2, 2, 40), 0.5)),
        ("cross_entropy", (x, rng.integers(0, 40, 4), -100)), ("layer_norm", (x, w, b, 1e-5)),
        ("layer_norm_backward", (g, x, mean.astype(np.float16), rstd.astype(np.float16), w)),
    ]


@pytest.mark.parametrize("mode", kernels.MODES)
def test_float16_runs_in_float32_and_is_rounded_once(mode):
    """As PyTorch computes half softmax and normalization: in float32, rounded to float16 at
    the end; each result equals the float32 kernel's rounded."""
    cases = _half_cases(np.random.default_rng(0))
    assert {name for name, _ in cases} == kernels.HALF_IN_FLOAT32
    for name, args in cases:
        as_float32 = [a.astype(np.float32) if getattr(a, "dtype", None) == np.float16 else a
                      for a in args]
        with kernels.use(mode):
            got, want = (getattr(kernels, name)(*a) for a in (args, as_float32))
        got, want = (r if isinstance(r, tuple) else (r,) for r in (got, want))
        for g, w in zip(got, want):
            assert g.dtype == np.float16, name
            np.testing.assert_array_equal(g, w.astype(np.float16), err_msg=name)


@pytest.mark.parametrize("op", [lambda x: F.softmax(x, 0), lambda x: F.log_softmax(x, -1),
                                lambda x: F.layer_norm(x, (40,))],
                         ids=["softmax", "log_softmax", "layer_norm"])
def test_float16_ops_match_a_float32_computation(op, device):
    """The ops on these kernels return float16 values and gradients within rounding of the
    same op in float32 (half in, half out, float inside)."""
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((6, 40)) * 4).astype(np.float16)
    g = rng.standard_normal((6, 40)).astype(np.float16)
    x16 = tg.tensor(a, device=device, requires_grad=True)
    x32 = tg.tensor(a.astype(np.float32), device=device, requires_grad=True)
    y16, y32 = op(x16), op(x32)
    y16.backward(tg.tensor(g, device=device))
    y32.backward(tg.tensor(g.astype(np.float32), device=device))
    assert y16.dtype == x16.grad.dtype == tg.float16
    y32, grad32 = y32.detach().cpu().numpy(), x32.grad.cpu().numpy()
    np.testing.assert_array_equal(y16.detach().cpu().numpy(), y32.astype(np.float16))
    np.testing.assert_allclose(x16.grad.cpu().numpy(), grad32, rtol=4e-3,
                               atol=4e-3 * np.abs(grad32).max())
