"""The CuPy kernels of ``kernels/cuda.py`` equal the plain references run on the same GPU arrays,
forward and backward, float32 and float64, across shapes (one row, odd widths, long rows,
non-contiguous views) and extreme inputs. Two contract tests run everywhere; the rest need CuPy
and a GPU and skip cleanly without them."""

import inspect

import numpy as np
import pytest

import tinygen as tg
from tinygen import kernels
from tinygen.kernels import cuda, reference

NO_GPU = "needs CuPy and a CUDA GPU"
DTYPES = ["float32", "float64"]
TOLERANCE = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
ROW_SHAPES = [(1, 1), (7, 33), (3, 5, 129), (2, 1000), (4, 4097)]


def cuda_only(test):
    """Mark a test as needing a GPU (``-m cuda`` selects it) and skip it where there is none."""
    return pytest.mark.cuda(pytest.mark.skipif(not tg.cuda.is_available(), reason=NO_GPU)(test))


def test_every_kernel_has_a_cuda_twin_with_the_reference_signature():
    strategies = {"im2col_strided"}                    # a second reference, not a kernel
    assert set(cuda.__all__) == set(kernels.NAMES) - strategies
    for name in cuda.__all__:
        assert (inspect.signature(getattr(cuda, name))
                == inspect.signature(getattr(reference, name))), name


@pytest.fixture
def cp():
    import cupy
    return cupy


def rand(cp, shape, dtype, seed=0, scale=1.0, contiguous=True, low=None):
    """GPU array of normal (or uniform [low, 1)) values; a strided view when not contiguous."""
    rng = np.random.default_rng(seed)
    full = shape if contiguous else shape[:-1] + (2 * shape[-1],)
    values = rng.standard_normal(full) * scale if low is None else rng.uniform(low, 1, full)
    array = cp.asarray(values.astype(dtype))
    return array if contiguous else array[..., ::2]


def close(got, want, dtype):
    """Assert two arrays, or tuples of arrays (None allowed), are equal within dtype tolerance."""
    if not isinstance(got, tuple):
        got, want = (got,), (want,)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a.get(), b.get(), **TOLERANCE[dtype])


def both(name, *args, **kwargs):
    """(cuda result, reference result) of kernel ``name``."""
    return getattr(cuda, name)(*args, **kwargs), getattr(reference, name)(*args, **kwargs)


@cuda_only
def test_dispatcher_runs_the_cuda_twins(cp):
    x = cp.zeros((2, 3), "float32")
    assert all(kernels.path(name, x) == "fused-cuda" for name in cuda.__all__)
    with kernels.use("reference"):
        assert kernels.path("softmax", x) == "reference-cuda"


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(cp, name, shape, dtype, contiguous):
    x = rand(cp, shape, dtype, scale=5, contiguous=contiguous)
    close(*both(name, x), dtype)
    y, grad_y = getattr(reference, name)(x), rand(cp, shape, dtype, seed=1)
    close(*both(f"{name}_backward", y, grad_y), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_extreme_logits(cp, name, dtype):
    x = cp.asarray([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3.0, 3.0, 3.0]], dtype)
    got, want = both(name, x)
    assert bool(cp.isfinite(got).all())
    close(got, want, dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 5), (1, 4, 7), (2, 6, 3), (3, 1, 9), (2, 64, 300)])
def test_causal_softmax(cp, shape, dtype):
    scores = rand(cp, shape, dtype, scale=4)
    got, want = both("causal_softmax", scores, 0.125)
    close(got, want, dtype)
    T, S = shape[-2:]
    hidden = ~reference.causal_mask(cp, T, S)
    assert not bool((got * hidden).any())                 # masked keys are exactly zero


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N, C", [(1, 1), (6, 10), (33, 1000), (8, 5000)])
def test_cross_entropy(cp, N, C, dtype):
    logits = rand(cp, (N, C), dtype, scale=3)
    target = cp.asarray(np.random.default_rng(2).integers(0, C, N))
    target[::3] = -100
    close(*both("cross_entropy", logits, target), dtype)
    close(*both("cross_entropy", logits, target.astype("int32"), -100), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_extremes_and_errors(cp, dtype):
    logits = cp.asarray([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4]], dtype)
    target = cp.asarray([1, 1])
    (loss, grad), want = both("cross_entropy", logits, target)
    assert bool(cp.isfinite(loss).all()) and bool(cp.isfinite(grad).all())
    close((loss, grad), want, dtype)
    with pytest.raises(IndexError, match="out of bounds"):
        cuda.cross_entropy(logits, cp.asarray([0, 3]))


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (5, 7), (2, 3, 129)])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits(cp, shape, dtype, weighted):
    x = rand(cp, shape, dtype, scale=4)
    x[..., 0], x[..., -1] = 1e4, -1e4
    y = rand(cp, shape, dtype, seed=1, low=0.0)
    pos_weight = rand(cp, shape[-1:], dtype, seed=2, low=0.5) if weighted else None
    got, want = both("bce_with_logits", x, y, pos_weight)
    assert bool(cp.isfinite(got).all())
    close(got, want, dtype)
    grad = rand(cp, shape, dtype, seed=3)
    close(*both("bce_with_logits_backward", x, y, grad, pos_weight), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (2, 3, 513), (3, 4096)])
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_layer_norm(cp, shape, dtype, affine):
    x = rand(cp, shape, dtype, scale=3, contiguous=shape[-1] != 513) + 5
    weight = rand(cp, shape[-1:], dtype, seed=1) if affine != "none" else None
    bias = rand(cp, shape[-1:], dtype, seed=2) if affine == "both" else None
    got, want = both("layer_norm", x, weight, bias, 1e-5)
    close(got, want, dtype)
    _, mean, rstd = want
    grad_y = rand(cp, shape, dtype, seed=3)
    close(*both("layer_norm_backward", grad_y, x, mean, rstd, weight), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_constant_rows_stay_finite(cp, dtype):
    x = cp.full((3, 64), 7.0, dtype)
    got, want = both("layer_norm", x, None, None, 1e-5)
    assert bool(cp.isfinite(got[0]).all())
    close(got, want, dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (4, 3, 5), (2, 3, 4, 5), (16, 8, 1024)])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm(cp, shape, dtype, affine):
    x = rand(cp, shape, dtype, scale=2) + 3
    x[:, 0] = 1.5                                          # a zero-variance channel
    C = shape[1]
    weight = rand(cp, (C,), dtype, seed=1) if affine else None
    bias = rand(cp, (C,), dtype, seed=2) if affine else None
    got, want = both("batch_norm", x, weight, bias, 1e-5)
    close(got, want, dtype)
    _, mean, var = want
    close(*both("batch_norm_eval", x, mean, var, weight, bias, 1e-5), dtype)
    grad_y = rand(cp, shape, dtype, seed=3)
    close(*both("batch_norm_backward", grad_y, x, mean, var, weight, 1e-5), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5, 129), (0, 4)])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(cp, shape, dtype, approximate):
    x = rand(cp, shape, dtype, scale=3, contiguous=len(shape) != 3)
    close(*both("gelu", x, approximate), dtype)
    grad_y = rand(cp, shape, dtype, seed=1)
    close(*both("gelu_backward", x, grad_y, approximate), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("negative_slope", [0.0, 0.01, 0.2])
def test_leaky_relu(cp, dtype, negative_slope):
    x = rand(cp, (9, 17), dtype, contiguous=False)
    x[0, :3] = 0
    close(*both("leaky_relu", x, negative_slope), dtype)
    grad_y = rand(cp, (9, 17), dtype, seed=1)
    close(*both("leaky_relu_backward", x, grad_y, negative_slope), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_selects(cp, dtype):
    y = cp.maximum(rand(cp, (9, 17), dtype, contiguous=False), 0)
    y[0, :2] = cp.nan
    grad_y = rand(cp, (9, 17), dtype, seed=1)
    grad_y[1] = cp.inf
    got, want = both("relu_backward", y, grad_y)
    np.testing.assert_array_equal(got.get(), want.get())


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (4, 7), (2, 3, 65)])
@pytest.mark.parametrize("activation", reference.ACTIVATIONS)
def test_bias_act(cp, shape, dtype, activation):
    x = rand(cp, shape, dtype, scale=2)
    bias = rand(cp, shape[-1:], dtype, seed=1)
    close(*both("bias_act", x, bias, activation, 0.1), dtype)
    grad_y = rand(cp, shape, dtype, seed=2)
    close(*both("bias_act_backward", x, bias, grad_y, activation, 0.1), dtype)


@cuda_only
def test_bad_arguments_raise(cp):
    x = cp.ones((2, 3), "float32")
    with pytest.raises(ValueError, match="activation"):
        cuda.bias_act(x, x[0], "swish")
    with pytest.raises(ValueError, match="approximate"):
        cuda.gelu(x, "fast")
    with pytest.raises(TypeError, match="float16"):
        cuda.gelu(x.astype("float16"))


CONV_GEOMETRIES = [  # input shape, kernel, stride, padding, dilation
    ((2, 3, 7, 9), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 2, 8, 8), (2, 3), (2, 3), (0, 2), (2, 1)),
    ((2, 1, 5, 6), (1, 1), (1, 1), (0, 0), (1, 1)),
    ((1, 2, 9, 7), (4, 2), (3, 2), (2, 1), (1, 3)),
    ((4, 16, 32, 32), (3, 3), (2, 2), (1, 1), (1, 1)),
]


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", CONV_GEOMETRIES)
def test_im2col_col2im(cp, shape, kernel, stride, padding, dilation, dtype):
    x = rand(cp, shape, dtype, contiguous=shape[-1] != 9)
    cols, want = both("im2col", x, kernel, stride, padding, dilation)
    close(cols, want, dtype)
    grad = rand(cp, cols.shape, dtype, seed=1)
    close(*both("col2im", grad, shape, kernel, stride, padding, dilation), dtype)


@cuda_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
def test_adam_step_in_place(cp, dtype, amsgrad, decoupled, maximize):
    shape = (6, 10)
    base = rand(cp, (6, 20), dtype)
    states = [rand(cp, shape, dtype, seed=s, low=0.0) for s in (1, 2, 3)]
    grad = rand(cp, shape, dtype, seed=4)
    settings = dict(step=3, lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1,
                    decoupled=decoupled, amsgrad=amsgrad, maximize=maximize)
    results = []
    for twin in (cuda, reference):
        base_copy = base.copy()
        param = base_copy[:, ::2]                          # in place through a strided view
        m, v, vmax = (s.copy() for s in states)
        for _ in range(2):
            twin.adam_step(param, grad, m, v, vmax if amsgrad else None, **settings)
        results.append((base_copy, m, v, vmax))
    close(*results, dtype)
