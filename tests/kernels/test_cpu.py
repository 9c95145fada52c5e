"""The Numba kernels equal the references, forward and backward, float32 and float64, across
shapes (one row, odd widths, long rows, no rows), non-contiguous views and extreme inputs."""

import inspect
import math

import numba
import numpy as np
import pytest

from tinygen import device_checks, kernels
from tinygen.kernels import cpu, cpu_conv, reference
from tinygen.kernels.cpu_math import PARALLEL_MIN, launch
from tinygen.kernels.cpu_vecmath import exp

DTYPES = ["float32", "float64"]
TOLERANCE = {"float32": dict(rtol=3e-5, atol=3e-6), "float64": dict(rtol=1e-11, atol=1e-13)}
ROW_SHAPES = [(1, 1), (1, 7), (5, 33), (3, 4, 129), (0, 5), (1, 100000)]
CHANNEL_SHAPES = [(4, 3), (2, 3, 5), (9, 16, 1), (2, 3, 4, 5)]
CONV_CASES = [  # (input shape, kernel_size, stride, padding, dilation)
    ((2, 3, 7, 6), (3, 2), (1, 1), (0, 0), (1, 1)),
    ((1, 2, 9, 8), (3, 3), (2, 1), (1, 2), (2, 1)),
    ((2, 1, 5, 5), (2, 2), (3, 3), (4, 1), (1, 2)),
    ((1, 4, 8, 8), (1, 1), (1, 1), (0, 0), (1, 1)),
]


def test_every_kernel_has_a_cpu_twin_with_the_reference_signature():
    assert set(cpu.__all__) == set(kernels.NAMES) - {"im2col_strided"}
    for name in cpu.__all__:
        assert (inspect.signature(getattr(cpu, name))
                == inspect.signature(getattr(reference, name))), name


def rand(rng, shape, dtype, contiguous=True, scale=1.0, low=None):
    """Normal (or uniform [low, 1)) values; a strided view of a wider array when not contiguous."""
    full = shape if contiguous or not shape else shape[:-1] + (2 * shape[-1],)
    values = rng.standard_normal(full) * scale if low is None else rng.uniform(low, 1, full)
    values = values.astype(dtype)
    return values if contiguous or not shape else values[..., ::2]


def close(got, want, dtype):
    """Equal within dtype tolerance, same dtype and shape, for arrays or tuples (None allowed)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w, dtype)
        return
    if want is None:
        assert got is None
        return
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **TOLERANCE[dtype])


def row_cases(rng, shape, dtype, contiguous):
    """name -> (args, kwargs) for every kernel that works on rows of shape (..., D)."""
    x, g = rand(rng, shape, dtype, contiguous), rand(rng, shape, dtype, contiguous)
    y01 = rand(rng, shape, dtype, contiguous, low=0.0)
    D = shape[-1]
    w, b = rand(rng, (D,), dtype), rand(rng, (D,), dtype)
    _, mean, rstd = reference.layer_norm(x, w, b, 1e-5)
    return {
        "softmax": ((x,), {}),
        "log_softmax": ((x,), {}),
        "softmax_backward": ((reference.softmax(x), g), {}),
        "log_softmax_backward": ((reference.log_softmax(x), g), {}),
        "causal_softmax": ((x, 0.7), {}),
        "bce_with_logits": ((x, y01), {"pos_weight": rand(rng, (D,), dtype, low=0.5)}),
        "bce_with_logits_backward": ((x, y01, g), {}),
        "layer_norm": ((x, w, b, 1e-5), {}),
        "layer_norm_backward": ((g, x, mean, rstd, w), {}),
        "gelu": ((x,), {}),
        "gelu_backward": ((x, g, "tanh"), {}),
        "leaky_relu": ((x, 0.2), {}),
        "leaky_relu_backward": ((x, g), {"negative_slope": 0.0}),
        "relu_backward": ((np.maximum(x, 0), g), {}),
        "bias_act": ((x, b, "gelu_tanh"), {}),
        "bias_act_backward": ((x, b, g, "leaky_relu", 0.1), {}),
    }


ROW_KERNELS = sorted(row_cases(np.random.default_rng(0), (2, 3), "float64", True))


@pytest.mark.parametrize("contiguous", [True, False], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES, ids=str)
@pytest.mark.parametrize("name", ROW_KERNELS)
def test_row_kernels_match_reference(name, shape, dtype, contiguous):
    args, kwargs = row_cases(np.random.default_rng(1), shape, dtype, contiguous)[name]
    close(getattr(cpu, name)(*args, **kwargs), getattr(reference, name)(*args, **kwargs), dtype)


@pytest.mark.parametrize("name", ["softmax_backward", "causal_softmax", "layer_norm",
                                  "layer_norm_backward", "bias_act_backward", "gelu"])
def test_threaded_sizes_match_reference(name):
    """Above PARALLEL_MIN elements the kernels run on every thread, with per-block partial
    sums for weight and bias gradients."""
    shape = (3, 91, 301)
    assert math.prod(shape) >= PARALLEL_MIN
    args, kwargs = row_cases(np.random.default_rng(9), shape, "float64", True)[name]
    close(getattr(cpu, name)(*args, **kwargs), getattr(reference, name)(*args, **kwargs),
          "float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_selects_at_nan_and_infinite_gradients(dtype):
    """ReLU as PyTorch's threshold_backward: an off unit's infinite gradient gives 0, a nan
    passes its gradient (forward and backward, alone and with a bias)."""
    y = np.tile(np.array([0.0, 2.0, np.nan, 0.0, 3.0, -0.0], dtype), (40, 100))
    g = np.tile(np.array([1.0, 1.0, 5.0, np.inf, -np.inf, np.nan], dtype), (40, 100))
    np.testing.assert_array_equal(cpu.relu_backward(y, g), reference.relu_backward(y, g))
    np.testing.assert_array_equal(cpu.relu_backward(y, g)[0, :6], [0, 1, 5, 0, -np.inf, 0])
    x, bias = y - 1, np.ones(y.shape[-1], dtype)
    np.testing.assert_array_equal(cpu.bias_act(x, bias, "relu"),
                                  reference.bias_act(x, bias, "relu"))
    for got, want in zip(cpu.bias_act_backward(x, bias, g, "relu"),
                         reference.bias_act_backward(x, bias, g, "relu")):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_launch_runs_small_work_serially_and_leaves_the_thread_count():
    """Below PARALLEL_MIN elements ``launch`` calls the kernel's serial compile, without
    touching Numba's thread count; from there on, the parallel one."""
    calls = []

    def kernel(*args):
        calls.append(("parallel", args))
    kernel.serial = lambda *args: calls.append(("serial", args))
    launch(kernel, PARALLEL_MIN - 1, 1, 2)
    launch(kernel, PARALLEL_MIN, 3)
    assert calls == [("serial", (1, 2)), ("parallel", (3,))]
    threads = numba.get_num_threads()
    x = np.ones((4, 5), np.float32)
    close(cpu.softmax(x), reference.softmax(x), "float32")                 # a real small call
    assert numba.get_num_threads() == threads


def test_weight_and_bias_gradients_over_many_rows_stay_float32_accurate():
    """Weight and bias gradients sum float32 partials of at most 256 rows each, in float64:
    over 20,000 rows they agree with the float64 sums ~10x closer than float32 partials of
    2,500 rows each (one block per thread's share) would."""
    rng = np.random.default_rng(11)
    x, g = rand(rng, (20000, 24), "float32"), rand(rng, (20000, 24), "float32") + 0.5
    weight = rand(rng, (24,), "float32")
    _, mean, rstd = reference.layer_norm(x, weight, None, 1e-5)
    wide = [a.astype("float64") for a in (g, x, mean, rstd, weight)]
    _, grad_w, grad_b = cpu.layer_norm_backward(g, x, mean, rstd, weight)
    _, want_w, want_b = reference.layer_norm_backward(*wide)
    np.testing.assert_allclose(grad_b, want_b, rtol=4e-7)                 # 2,500 rows: 1e-6
    np.testing.assert_allclose(grad_w, want_w, rtol=0, atol=8e-7 * np.abs(want_w).max())
    _, grad_bias = cpu.bias_act_backward(x, weight, g, "leaky_relu", 0.1)
    _, want_bias = reference.bias_act_backward(wide[1], wide[4], wide[0], "leaky_relu", 0.1)
    np.testing.assert_allclose(grad_bias, want_bias, rtol=0, atol=3e-7 * np.abs(want_bias).max())


def test_threaded_batch_norm_and_col2im_match_reference():
    rng = np.random.default_rng(10)
    x, g = rand(rng, (64, 8, 160), "float64") + 1, rand(rng, (64, 8, 160), "float64")
    y, mean, var = reference.batch_norm(x, None, None, 1e-5)
    close(cpu.batch_norm(x, None, None, 1e-5), (y, mean, var), "float64")
    close(cpu.batch_norm_backward(g, x, mean, var, None, 1e-5),
          reference.batch_norm_backward(g, x, mean, var, None, 1e-5), "float64")
    geometry = ((3, 3), (1, 1), (1, 1), (1, 1))
    cols = rand(rng, (4, 8 * 9, 32 * 32), "float64")
    want = reference.col2im(cols, (4, 8, 32, 32), *geometry)
    for layout in (cols, np.ascontiguousarray(cols.transpose(1, 0, 2)).transpose(1, 0, 2)):
        close(cpu.col2im(layout, (4, 8, 32, 32), *geometry), want, "float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", reference.ACTIVATIONS)
def test_bias_act_and_gelu_forms(activation, dtype):
    rng = np.random.default_rng(2)
    x, g, b = rand(rng, (6, 17), dtype), rand(rng, (6, 17), dtype), rand(rng, (17,), dtype)
    for name, args in [("bias_act", (x, b, activation, 0.3)),
                       ("bias_act_backward", (x, b, g, activation, 0.3))]:
        close(getattr(cpu, name)(*args), getattr(reference, name)(*args), dtype)
    for approximate in ("none", "tanh"):
        close(cpu.gelu(x, approximate), reference.gelu(x, approximate), dtype)
        close(cpu.gelu_backward(x, g, approximate), reference.gelu_backward(x, g, approximate),
              dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (3, 6), (6, 4), (2, 3, 1, 9), (5, 1)], ids=str)
def test_causal_softmax_blocks_match_reference(shape, dtype):
    scores = rand(np.random.default_rng(3), shape, dtype, scale=3.0)
    close(cpu.causal_softmax(scores, 0.5), reference.causal_softmax(scores, 0.5), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 10), (64, 1000), (0, 4)], ids=str)
def test_cross_entropy_matches_reference(shape, dtype):
    rng = np.random.default_rng(4)
    logits = rand(rng, shape, dtype, contiguous=False, scale=3.0)
    target = rng.integers(0, shape[1], shape[0])
    target[::3] = -1
    close(cpu.cross_entropy(logits, target, -1), reference.cross_entropy(logits, target, -1),
          dtype)


def test_cross_entropy_refuses_out_of_range_targets():
    with pytest.raises(IndexError, match="out of bounds for 3 classes"):
        cpu.cross_entropy(np.zeros((2, 3)), np.array([0, 3]), -100)
        device_checks.flush()                 # where a queued check raises (see its module)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CHANNEL_SHAPES, ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_reference(shape, dtype, affine):
    rng = np.random.default_rng(5)
    x, g = rand(rng, shape, dtype, scale=2.0) + 3, rand(rng, shape, dtype, contiguous=False)
    C = shape[1]
    w, b = (rand(rng, (C,), dtype), rand(rng, (C,), dtype)) if affine else (None, None)
    y, mean, var = reference.batch_norm(x, w, b, 1e-5)
    close(cpu.batch_norm(x, w, b, 1e-5), (y, mean, var), dtype)
    close(cpu.batch_norm_eval(x, mean, var + 0.5, w, b, 1e-5),
          reference.batch_norm_eval(x, mean, var + 0.5, w, b, 1e-5), dtype)
    close(cpu.batch_norm_backward(g, x, mean, var, w, 1e-5),
          reference.batch_norm_backward(g, x, mean, var, w, 1e-5), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_without_affine_matches_reference(dtype):
    rng = np.random.default_rng(6)
    x, g = rand(rng, (4, 3, 10), dtype), rand(rng, (4, 3, 10), dtype)
    y, mean, rstd = reference.layer_norm(x, None, None, 1e-5)
    close(cpu.layer_norm(x, None, None, 1e-5), (y, mean, rstd), dtype)
    close(cpu.layer_norm_backward(g, x, mean, rstd, None),
          reference.layer_norm_backward(g, x, mean, rstd, None), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_stay_finite_and_equal_the_reference(dtype):
    x = np.array([[1e4, -1e4, 0.0, 1e4], [-1e4, -1e4, -1e4, -1e4], [3.0, -2.0, 1e4, -1e4]],
                 dtype)
    y = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]], dtype)
    target = np.array([1, 0, 3])
    cases = [("softmax", (x,)), ("log_softmax", (x,)), ("causal_softmax", (x, 1.0)),
             ("cross_entropy", (x, target, -100)), ("bce_with_logits", (x, y)),
             ("bce_with_logits_backward", (x, y, np.ones_like(x))),
             ("gelu", (x,)), ("gelu_backward", (x, np.ones_like(x), "tanh"))]
    for name, args in cases:
        got = getattr(cpu, name)(*args)
        for part in got if isinstance(got, tuple) else (got,):
            assert np.isfinite(part).all(), name
        close(got, getattr(reference, name)(*args), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_constant_rows_and_channels_stay_finite_and_equal_the_reference(dtype):
    x, g = np.full((3, 8), 5.0, dtype), np.ones((3, 8), dtype)
    y, mean, rstd = cpu.layer_norm(x, None, None, 1e-5)
    assert np.isfinite(y).all() and np.isfinite(rstd).all()
    close((y, mean, rstd), reference.layer_norm(x, None, None, 1e-5), dtype)
    close(cpu.layer_norm_backward(g, x, mean, rstd, None),
          reference.layer_norm_backward(g, x, mean, rstd, None), dtype)
    x3 = x.reshape(3, 2, 4)
    y, mean, var = cpu.batch_norm(x3, None, None, 1e-5)
    assert np.isfinite(y).all() and (var == 0).all()
    close((y, mean, var), reference.batch_norm(x3, None, None, 1e-5), dtype)
    close(cpu.batch_norm_backward(g.reshape(3, 2, 4), x3, mean, var, None, 1e-5),
          reference.batch_norm_backward(g.reshape(3, 2, 4), x3, mean, var, None, 1e-5), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_eval_keeps_infinities_as_the_reference_does(dtype):
    x = np.array([[[np.inf, 1.0], [2.0, -np.inf]]], dtype)
    stats = (np.zeros(2, dtype), np.ones(2, dtype), None, None, 1e-5)
    close(cpu.batch_norm_eval(x, *stats), reference.batch_norm_eval(x, *stats), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("table_max_width", [0, 1 << 20], ids=["rows", "table"])
def test_im2col_and_col2im_match_reference_and_are_adjoint(case, dtype, table_max_width,
                                                            monkeypatch):
    monkeypatch.setattr(cpu_conv, "TABLE_MAX_WIDTH", table_max_width)   # each loop, any width
    shape, *geometry = case
    rng = np.random.default_rng(7)
    x = rand(rng, shape, dtype, contiguous=False)
    cols = cpu.im2col(x, *geometry)
    close(cols, reference.im2col(x, *geometry), dtype)
    c = rand(rng, cols.shape, dtype)
    back = cpu.col2im(c, shape, *geometry)
    close(back, reference.col2im(c, shape, *geometry), dtype)
    # the conv ops' (C*kh*kw, N, L) memory order and an order neither kernel loop reads
    for layout in (np.ascontiguousarray(c.transpose(1, 0, 2)).transpose(1, 0, 2),
                   np.asfortranarray(c)):
        np.testing.assert_array_equal(cpu.col2im(layout, shape, *geometry), back)
    # <im2col(x), c> == <x, col2im(c)>: col2im adds each window back exactly once
    np.testing.assert_allclose(np.vdot(cols.astype(np.float64), c),
                               np.vdot(x.astype(np.float64), back), rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
def test_adam_step_matches_reference_over_steps(dtype, amsgrad, decoupled, maximize):
    rng = np.random.default_rng(8)
    fused = [rand(rng, (4, 5), dtype)] + [np.zeros((4, 5), dtype) for _ in range(3)]
    plain = [a.copy() for a in fused]
    for step in range(1, 5):
        grad = rand(rng, (4, 5), dtype, contiguous=False)
        hyper = dict(step=step, lr=0.05, beta1=0.8, beta2=0.95, eps=1e-8, weight_decay=0.1,
                     decoupled=decoupled, amsgrad=amsgrad, maximize=maximize)
        assert cpu.adam_step(fused[0], grad, *fused[1:], **hyper) is None
        reference.adam_step(plain[0], grad, *plain[1:], **hyper)
        for got, want in zip(fused, plain):
            close(got, want, dtype)
    assert amsgrad == bool(fused[3].any())


def test_other_dtypes_run_the_reference():
    x = np.arange(6, dtype=np.float16).reshape(2, 3)
    got = cpu.softmax(x)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, reference.softmax(x))


@numba.njit
def _exp_each(a):
    out = np.empty_like(a)
    for i in range(a.size):
        out[i] = exp(a[i])
    return out


@pytest.mark.parametrize("dtype, low, high, ulps, floor", [
    ("float32", -86.98, 88.72, 2.5, 1.7e-38),    # flushes to 0 below -86.98 (see cpu_vecmath)
    ("float64", -745.1, 709.78, 1.0, 5e-324),    # down into the subnormals
])
def test_exp_is_within_a_few_ulp_of_numpy_and_keeps_zero_inf_nan(dtype, low, high, ulps, floor):
    x = np.concatenate([np.linspace(low, high, 200001), np.linspace(-1, 1, 2001)]).astype(dtype)
    got, want = _exp_each(x), np.exp(x.astype(np.float64))
    assert got.dtype == np.dtype(dtype)
    ulp = np.spacing(want.astype(dtype)).astype(np.float64)
    assert np.max(np.abs(got - want) / ulp) <= ulps
    info = np.finfo(dtype)
    edges = np.array([-np.inf, np.inf, np.nan, 0, -1e4, 1e4, 1.001 * np.log(info.max)], dtype)
    np.testing.assert_array_equal(_exp_each(edges), [0, np.inf, np.nan, 1, 0, np.inf, np.inf])
    tiny = np.linspace(low - 20, low, 1001).astype(dtype)
    assert np.max(np.abs(_exp_each(tiny) - np.exp(tiny.astype(np.float64)))) <= floor


def test_float64_gelu_matches_the_exact_erf_formula():
    x = np.concatenate([np.linspace(-40, 40, 40001), [0.0, 1e-300, -1e-300]])
    want = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x])  # Phi = erfc(-u)/2:
    got = cpu.gelu(x, "none")                                              # no cancellation
    near = np.abs(x) <= 9                                     # Phi(-9) = 1e-19
    np.testing.assert_allclose(got[near], want[near], rtol=1e-13, atol=0)
    np.testing.assert_allclose(got[~near], want[~near], rtol=1e-6, atol=1e-30)
