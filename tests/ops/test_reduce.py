"""Reductions and softmax-like ops: values against NumPy for every dim/keepdim form, gradients
against finite differences, numerical stability, and PyTorch's conventions for ties, infinities,
empty tensors and dtypes."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


def logsumexp_ref(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax_ref(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_ref(a, axis):
    return a - logsumexp_ref(a, axis, keepdims=True)


# name, tinygen reduction f(x, dim, keepdim), NumPy reference f(a, axis, keepdims)
REDUCTIONS = [
    ("sum", lambda x, d, k: x.sum(d, keepdim=k), np.sum),
    ("tg.sum", lambda x, d, k: tg.sum(x, d, k), np.sum),
    ("mean", lambda x, d, k: x.mean(d, keepdim=k), np.mean),
    ("var", lambda x, d, k: x.var(d, keepdim=k), lambda a, axis, keepdims: np.var(
        a, axis=axis, keepdims=keepdims, ddof=1)),
    ("std", lambda x, d, k: x.std(d, keepdim=k), lambda a, axis, keepdims: np.std(
        a, axis=axis, keepdims=keepdims, ddof=1)),
    ("amax", lambda x, d, k: x.amax(d, keepdim=k), np.max),
    ("amin", lambda x, d, k: tg.amin(x, d, k), np.min),
    ("logsumexp", lambda x, d, k: x.logsumexp(d, keepdim=k), logsumexp_ref),
]
REDUCTION_IDS = [r[0] for r in REDUCTIONS]
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


def _axis(dim):
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


@pytest.mark.parametrize("name, op, ref", REDUCTIONS, ids=REDUCTION_IDS)
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True], ids=["drop", "keepdim"])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_reduction_forward_matches_numpy(name, op, ref, dim, keepdim, dtype, device, rng, leaf):
    x = leaf(rng, 2, 3, 4, device=device, dtype=dtype, requires_grad=False)
    y = op(x, dim, keepdim)
    expected = ref(host(x).astype(np.float64), axis=_axis(dim), keepdims=keepdim)
    assert y.dtype == dtype
    assert y.shape == np.shape(expected)
    rtol = 1e-5 if dtype == tg.float32 else 1e-12
    np.testing.assert_allclose(host(y), expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name, op, ref", REDUCTIONS, ids=REDUCTION_IDS)
@pytest.mark.parametrize("shape, dim", [((2, 3, 4), None), ((2, 3, 4), 1), ((2, 3, 4), (0, -1)),
                                        ((3, 1, 4), 1), ((3, 1, 4), (0, 1)), ((5,), 0)],
                         ids=str)
@pytest.mark.parametrize("keepdim", [False, True], ids=["drop", "keepdim"])
def test_reduction_gradcheck(name, op, ref, shape, dim, keepdim, device, rng, leaf):
    x = leaf(rng, *shape, device=device)           # continuous values: no ties for amax/amin
    f = lambda x: op(x, dim, keepdim)              # noqa: E731
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("name, op, ref", REDUCTIONS, ids=REDUCTION_IDS)
def test_reduction_of_zero_size_tensor(name, op, ref, device, rng, leaf):
    """Reducing the non-empty dim of a (0, 3) tensor gives shape (0,) and a (0, 3) gradient."""
    x = leaf(rng, 0, 3, device=device)
    for keepdim, shape in [(False, (0,)), (True, (0, 1))]:
        y = op(x, 1, keepdim)
        assert y.shape == shape
        x.grad = None
        y.sum().backward()
        assert x.grad.shape == (0, 3)


EMPTY_DIM_CASES = [
    ("sum", lambda x: x.sum(1), [0.0, 0.0]),
    ("mean", lambda x: x.mean(1), [np.nan, np.nan]),
    ("var", lambda x: x.var(1), [np.nan, np.nan]),
    ("logsumexp", lambda x: x.logsumexp(1), [-np.inf, -np.inf]),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")          # log(0) inside logsumexp
@pytest.mark.parametrize("name, op, expected", EMPTY_DIM_CASES,
                         ids=[c[0] for c in EMPTY_DIM_CASES])
def test_reduction_over_empty_dim_follows_pytorch(name, op, expected, device):
    x = tg.zeros(2, 0, dtype=tg.float64, device=device, requires_grad=True)
    y = op(x)
    np.testing.assert_array_equal(host(y), expected)
    if name == "sum":
        y.backward(tg.ones(2, dtype=tg.float64, device=device))
        assert x.grad.shape == (2, 0)


@pytest.mark.parametrize("op", [lambda x: x.amax(0), lambda x: x.amin(), lambda x: x.max(),
                                lambda x: x.max(0), lambda x: x.min(-2)],
                         ids=["amax(0)", "amin()", "max()", "max(0)", "min(-2)"])
def test_max_over_empty_dim_is_an_error(op, device):
    with pytest.raises(RuntimeError, match="non-zero size"):
        op(tg.zeros(0, 3, device=device))


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)], ids=str)
def test_var_std_correction(correction, dim, device, rng, leaf):
    x = leaf(rng, 3, 4, 2, device=device)
    a = host(x)
    np.testing.assert_allclose(host(x.var(dim, correction=correction)),
                               np.var(a, axis=_axis(dim), ddof=correction), rtol=1e-12)
    np.testing.assert_allclose(host(x.std(dim, correction=correction, keepdim=True)),
                               np.std(a, axis=_axis(dim), ddof=correction, keepdims=True),
                               rtol=1e-12)
    assert gradcheck(lambda x: x.var(dim, correction=correction), (x,))
    assert gradgradcheck(lambda x: x.std(dim, correction=correction), (x,))


def test_std_gradient_is_zero_where_the_std_is_zero(device):
    """PyTorch masks std's gradient where the result is 0 (1 / (2 std) would give 0 / 0 = nan);
    second derivatives there are 0 too, and the other rows keep theirs."""
    x = tg.tensor([[1.0, 1.0, 1.0], [1.0, 3.0, 2.0]], dtype=tg.float64, device=device,
                  requires_grad=True)
    (g,) = tg.autograd.grad(x.std(1).sum(), x, create_graph=True)
    np.testing.assert_allclose(host(g), [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-15)
    w = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=tg.float64, device=device)
    (gg,) = tg.autograd.grad((g * w).sum(), x)
    # row 2, with s = 1: d/dx_j sum_i w_i (x_i - m) / (2 s) = (w_j - mean(w)) / 2 - (g.w) g_j / s
    g2 = np.array([-0.5, 0.5, 0.0])
    expected = (np.array([4.0, 5, 6]) - 5) / 2 - (g2 @ [4.0, 5, 6]) * g2
    np.testing.assert_allclose(host(gg), [[0, 0, 0], expected], atol=1e-12)
    y = tg.tensor([2.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    y.std().backward()
    assert y.grad.tolist() == [0.0, 0.0]


def test_var_unbiased_flag(device, rng, leaf):
    x = leaf(rng, 4, 5, device=device)
    np.testing.assert_allclose(host(x.var(1, unbiased=False)), np.var(host(x), 1), rtol=1e-12)
    np.testing.assert_allclose(host(x.std(unbiased=True)), np.std(host(x), ddof=1), rtol=1e-12)
    np.testing.assert_allclose(host(tg.var(x, 0)), np.var(host(x), 0, ddof=1), rtol=1e-12)


def test_var_legacy_unbiased_overload_and_complex_input():
    a = np.random.default_rng(0).standard_normal((4, 5))
    x = tg.tensor(a)
    assert tg.var(x, False).shape == () and x.std(True).shape == ()      # var(input, unbiased)
    np.testing.assert_allclose(host(x.var(False)), np.var(a), rtol=1e-12)
    z = tg.tensor(a + 1j * a[::-1])
    v = z.var(1)                                       # of |z - mean|^2: real, as PyTorch's
    assert v.dtype == tg.float64
    np.testing.assert_allclose(host(v), np.var(host(z), 1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(host(tg.std(z, 0)), np.std(host(z), 0, ddof=1), rtol=1e-12)


def test_logsumexp_of_complex_keeps_the_principal_branch():
    a = np.random.default_rng(1).standard_normal((3, 4)) * 3
    z = a + 1j * a[::-1] * 2
    got = host(tg.tensor(z).logsumexp(1))
    np.testing.assert_allclose(got, np.log(np.exp(z).sum(1)), rtol=1e-12)
    assert (np.abs(got.imag) <= np.pi).all()


@pytest.mark.parametrize("which", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1, -3], ids=str)
@pytest.mark.parametrize("keepdim", [False, True], ids=["drop", "keepdim"])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_max_min_with_dim_give_values_and_indices(which, dim, keepdim, dtype, device, rng,
                                                  leaf):
    x = leaf(rng, 3, 4, 2, device=device, dtype=dtype)
    result = getattr(x, which)(dim, keepdim=keepdim)
    values, indices = result                          # a (values, indices) pair, as PyTorch
    assert result.values is values and result.indices is indices
    a = host(x)
    np_arg, np_ext = (np.argmax, np.max) if which == "max" else (np.argmin, np.min)
    np.testing.assert_array_equal(host(indices), np_arg(a, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(host(values), np_ext(a, axis=dim, keepdims=keepdim))
    assert indices.dtype == tg.int64 and values.dtype == dtype
    assert not indices.requires_grad
    if dtype == tg.float64:
        assert gradcheck(lambda x: getattr(x, which)(dim, keepdim=keepdim).values, (x,))
        assert gradgradcheck(lambda x: getattr(tg, which)(x, dim, keepdim)[0], (x,))


def test_max_with_dim_sends_tie_gradient_to_the_returned_index(device):
    x = tg.tensor([[3.0, 1.0, 3.0], [0.0, 2.0, 2.0]], dtype=tg.float64, device=device,
                  requires_grad=True)
    values, indices = x.max(1)
    np.testing.assert_array_equal(host(indices), [0, 1])
    values.backward(tg.tensor([2.0, 5.0], dtype=tg.float64, device=device))
    np.testing.assert_array_equal(host(x.grad), [[2.0, 0.0, 0.0], [0.0, 5.0, 0.0]])


@pytest.mark.parametrize("op", [lambda x: x.amax(1), lambda x: x.max().reshape(1)],
                         ids=["amax(dim)", "max()"])
def test_amax_ties_share_gradient_equally(op, device):
    x = tg.tensor([[1.0, 3.0, 3.0, 3.0]], dtype=tg.float64, device=device, requires_grad=True)
    y = op(x)
    np.testing.assert_array_equal(host(y), [3.0])
    y.backward(tg.tensor(np.array([0.9]), dtype=tg.float64, device=device))
    np.testing.assert_allclose(host(x.grad), [[0.0, 0.3, 0.3, 0.3]], rtol=1e-12)


def test_max_of_zero_dim_tensor(device):
    x = tg.tensor(2.5, dtype=tg.float64, device=device, requires_grad=True)
    values, indices = x.max(0)
    assert values.shape == () and indices.shape == ()
    assert values.item() == 2.5 and indices.item() == 0
    values.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("which", ["argmax", "argmin"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True),
                                          (-1, False), (-2, True)], ids=str)
def test_argmax_argmin(which, dim, keepdim, device, rng, leaf):
    x = leaf(rng, 3, 5, device=device, requires_grad=False)
    i = getattr(x, which)(dim, keepdim=keepdim)
    assert i.dtype == tg.int64
    expected = getattr(np, which)(host(x), axis=dim, keepdims=keepdim)
    assert i.shape == np.shape(expected)
    np.testing.assert_array_equal(host(i), expected)
    assert host(getattr(tg, which)(x, dim, keepdim)).tolist() == np.asarray(expected).tolist()


def test_argmax_takes_first_of_ties(device):
    x = tg.tensor([[1.0, 4.0, 4.0], [7.0, 7.0, 0.0]], device=device)
    np.testing.assert_array_equal(host(x.argmax(1)), [1, 0])
    assert x.argmax().item() == 3


@pytest.mark.parametrize("name, op, ref", [
    ("softmax", lambda x, d: x.softmax(d), softmax_ref),
    ("log_softmax", lambda x, d: x.log_softmax(d), log_softmax_ref),
    ("tg.softmax", tg.softmax, softmax_ref),
    ("tg.log_softmax", tg.log_softmax, log_softmax_ref),
], ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("dim", [0, 1, -1], ids=str)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_softmax_forward_and_gradients(name, op, ref, dim, dtype, device, rng, leaf):
    x = leaf(rng, 3, 4, 2, device=device, low=-3, high=3, dtype=dtype)
    y = op(x, dim)
    assert y.dtype == dtype
    rtol = 1e-5 if dtype == tg.float32 else 1e-12
    np.testing.assert_allclose(host(y), ref(host(x).astype(np.float64), dim), rtol=rtol,
                               atol=rtol)
    if dtype == tg.float64:
        assert gradcheck(lambda x: op(x, dim), (x,))     # random upstream gradients inside
        assert gradgradcheck(lambda x: op(x, dim), (x,))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")          # log(0) over an empty dim
@pytest.mark.parametrize("op", [lambda x: x.softmax(-1), lambda x: x.log_softmax(0),
                                lambda x: x.logsumexp(-1)],
                         ids=["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("shape", [(), (1,), (4, 1), (0, 3)], ids=str)
def test_softmax_family_size_one_and_zero_size(op, shape, device, rng, leaf):
    x = leaf(rng, *shape, device=device)
    assert gradcheck(op, (x,))
    assert gradgradcheck(op, (x,))
    y = op(x)
    assert y.shape == np.shape(op(tg.tensor(host(x), device=device)))
    y.backward(tg.tensor(rng.standard_normal(y.shape), dtype=tg.float64, device=device))
    assert x.grad.shape == x.shape


def test_softmax_of_size_one_dim(device, rng, leaf):
    x = leaf(rng, 4, 1, device=device)
    np.testing.assert_array_equal(host(x.softmax(1)), np.ones((4, 1)))
    np.testing.assert_array_equal(host(x.log_softmax(1)), np.zeros((4, 1)))
    np.testing.assert_allclose(host(x.logsumexp(1)), host(x)[:, 0], rtol=1e-15)


STABILITY_LOGITS = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0],
                             [-1e4, -1e4, -1e4, -1e4],
                             [1e4, 1e4, 1e4, 1e4]])


@pytest.mark.parametrize("name, op, ref", [
    ("softmax", lambda x: x.softmax(-1), lambda a: softmax_ref(a, -1)),
    ("log_softmax", lambda x: x.log_softmax(1), lambda a: log_softmax_ref(a, 1)),
    ("logsumexp", lambda x: x.logsumexp(-1), lambda a: logsumexp_ref(a, -1)),
    ("logsumexp keepdim", lambda x: x.logsumexp(1, keepdim=True),
     lambda a: logsumexp_ref(a, 1, keepdims=True)),
])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_softmax_family_stable_at_large_logits(name, op, ref, dtype, device):
    x = tg.tensor(STABILITY_LOGITS, dtype=dtype, device=device, requires_grad=True)
    y = op(x)
    expected = ref(STABILITY_LOGITS)
    assert np.isfinite(host(y)).all()
    # float64 loses about eps * 1e4 to cancellation in x - max; the float32 shifts are exact
    tolerance = dict(rtol=1e-6, atol=0) if dtype == tg.float32 else dict(rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(host(y), expected, **tolerance)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(tg.tensor(g, dtype=dtype, device=device))
    assert np.isfinite(host(x.grad)).all()
    if dtype == tg.float64:
        assert gradcheck(op, (x,))


INF_ROWS = np.array([[-np.inf, -np.inf, -np.inf],     # a row with nothing to normalise
                     [-np.inf, 0.5, -np.inf],         # one finite logit
                     [0.1, -np.inf, 1.2],             # a masked position
                     [0.3, -0.2, 0.9]])
INF_CASES = [
    ("softmax", lambda x: x.softmax(1), [[np.nan] * 3, [0.0, 1.0, 0.0]]),
    ("log_softmax", lambda x: x.log_softmax(1), [[np.nan] * 3, [-np.inf, 0.0, -np.inf]]),
    ("logsumexp", lambda x: x.logsumexp(1), [-np.inf, 0.5]),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")          # NumPy notes the nan rows
@pytest.mark.parametrize("name, op, first_rows", INF_CASES, ids=[c[0] for c in INF_CASES])
def test_softmax_family_rows_of_minus_inf(name, op, first_rows, device):
    """As in PyTorch: a row of all -inf gives nan (logsumexp: -inf); -inf logits get
    probability 0; every other row is unaffected."""
    x = tg.tensor(INF_ROWS, dtype=tg.float64, device=device, requires_grad=True)
    y = host(op(x))
    np.testing.assert_array_equal(y[:2], first_rows)
    finite = tg.tensor(INF_ROWS[3:], dtype=tg.float64, device=device)
    np.testing.assert_allclose(y[3:], host(op(finite)), rtol=1e-15)
    masked = INF_ROWS[2, [0, 2]]
    reference = {"softmax": np.array([softmax_ref(masked, 0)[0], 0.0, softmax_ref(masked, 0)[1]]),
                 "log_softmax": np.array([log_softmax_ref(masked, 0)[0], -np.inf,
                                          log_softmax_ref(masked, 0)[1]]),
                 "logsumexp": logsumexp_ref(masked, 0)}[name]
    np.testing.assert_allclose(y[2], reference, rtol=1e-12)


@pytest.mark.parametrize("name, op, first_rows", INF_CASES, ids=[c[0] for c in INF_CASES])
def test_softmax_family_gradient_with_masked_logits(name, op, first_rows, device):
    """Rows with some -inf logits have finite gradients, zero at the masked positions for
    softmax and logsumexp."""
    x = tg.tensor(INF_ROWS[1:], dtype=tg.float64, device=device, requires_grad=True)
    y = op(x)
    g = np.random.default_rng(2).standard_normal(y.shape)
    y.backward(tg.tensor(g, dtype=tg.float64, device=device))
    grad = host(x.grad)
    assert np.isfinite(grad).all()
    if name != "log_softmax":
        np.testing.assert_array_equal(grad[np.isinf(INF_ROWS[1:])], 0.0)


@pytest.mark.parametrize("make, expected", [
    (lambda d: tg.tensor([True, False, True], device=d).sum(), tg.int64),
    (lambda d: tg.tensor([1, 2], dtype=tg.int32, device=d).sum(), tg.int64),
    (lambda d: tg.tensor([1, 2], dtype=tg.uint8, device=d).sum(0), tg.int64),
    (lambda d: tg.tensor([1, 2], device=d).sum(dtype=tg.float64), tg.float64),
    (lambda d: tg.ones(2, device=d).sum(), tg.float32),
    (lambda d: tg.tensor([1, 2], device=d).amax(), tg.int64),
    (lambda d: tg.tensor([[1, 2]], device=d).max(1).values, tg.int64),
    (lambda d: tg.tensor([1, 2], device=d).softmax(0, dtype=tg.float32), tg.float32),
    (lambda d: tg.tensor([1, 2], device=d).logsumexp(0), tg.float32),
    (lambda d: tg.ones(2, device=d).softmax(0, dtype=tg.float64), tg.float64),
    (lambda d: tg.tensor([1, 0], device=d).all(), tg.bool),
], ids=["sum bool", "sum int32", "sum uint8", "sum dtype=", "sum f32", "amax int",
        "max int", "softmax int dtype=", "logsumexp int", "softmax dtype=", "all"])
def test_reduction_dtypes(make, expected, device):
    assert make(device).dtype == expected


def test_sum_of_bool_counts(device):
    mask = tg.tensor([[True, False, True], [True, True, True]], device=device)
    np.testing.assert_array_equal(host(mask.sum(1)), [2, 3])
    assert mask.sum().item() == 5


def test_all_any(device):
    x = tg.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]], device=device)
    np.testing.assert_array_equal(host(x.all(1)), [False, True])
    np.testing.assert_array_equal(host(x.any(0, keepdim=True)), [[True, True, True]])
    assert host(tg.all(x)).item() is False and host(tg.any(x)).item() is True


def test_mean_of_int_tensor_is_an_error(device):
    with pytest.raises(RuntimeError, match="mean"):
        tg.tensor([1, 2], device=device).mean()


@pytest.mark.parametrize("op", [
    lambda x: x.sum(2), lambda x: x.mean(-3), lambda x: x.var((0, 5)), lambda x: x.amax(2),
    lambda x: x.max(2), lambda x: x.argmax(-3), lambda x: x.softmax(2),
    lambda x: x.log_softmax(-3), lambda x: x.logsumexp(7)],
    ids=["sum", "mean", "var", "amax", "max", "argmax", "softmax", "log_softmax", "logsumexp"])
def test_dim_out_of_range_is_an_error(op, device):
    with pytest.raises(IndexError, match=r"out of range.*\[-2, 1\]"):
        op(tg.ones(2, 3, device=device))


def test_repeated_dim_is_an_error(device):
    with pytest.raises((ValueError, RuntimeError), match="more than once"):
        tg.ones(2, 3, device=device).sum((1, -1))


# PyTorch comparisons (optional): values and gradients with the same random upstream gradient.

TORCH_CASES = {
    "softmax": (lambda x: x.softmax(1), lambda t, x: x.softmax(1)),
    "log_softmax": (lambda x: x.log_softmax(0), lambda t, x: x.log_softmax(0)),
    "logsumexp": (lambda x: x.logsumexp((0, 2)), lambda t, x: x.logsumexp((0, 2))),
    "var": (lambda x: x.var(1, correction=0), lambda t, x: x.var(1, correction=0)),
    "std keepdim": (lambda x: x.std((0, 1), keepdim=True),
                    lambda t, x: x.std((0, 1), keepdim=True)),
    "std correction 2": (lambda x: x.std(-1, correction=2), lambda t, x: x.std(-1, correction=2)),
    "max dim": (lambda x: x.max(1).values, lambda t, x: x.max(1).values),
}


@pytest.mark.parametrize("case", list(TORCH_CASES))
def test_matches_torch(case, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH_CASES[case]
    a = rng.standard_normal((3, 4, 5)) * 3
    _compare_with_torch(torch, ours, lambda x: theirs(torch, x), a, rng)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, op", [(c[0], c[1]) for c in INF_CASES],
                         ids=[c[0] for c in INF_CASES])
def test_matches_torch_with_infinities(name, op, rng):
    torch = pytest.importorskip("torch")
    _compare_with_torch(torch, op, op, INF_ROWS, rng)


@pytest.mark.parametrize("name, values", [
    ("amax ties", [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
    ("max() ties", [[1.0, 3.0, 3.0], [3.0, 0.0, 3.0]]),
])
def test_matches_torch_at_ties(name, values, rng):
    torch = pytest.importorskip("torch")
    op = (lambda x: x.amax(1)) if name == "amax ties" else (lambda x: x.max())
    _compare_with_torch(torch, op, op, np.array(values), rng)


def _compare_with_torch(torch, ours, theirs, a, rng):
    x = tg.tensor(a, dtype=tg.float64, requires_grad=True)
    tx = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(host(y), ty.detach().cpu().numpy(), rtol=1e-12, equal_nan=True)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(tg.tensor(g, dtype=tg.float64))
    ty.backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(host(x.grad), tx.grad.cpu().numpy(), rtol=1e-10, atol=1e-12,
                               equal_nan=True)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var", "logsumexp"])
@pytest.mark.parametrize("empty", [(), []], ids=["tuple", "list"])
def test_an_empty_dim_reduces_every_dim_as_pytorch(name, empty, device, rng, leaf):
    x = leaf(rng, 2, 3, device=device)
    whole = getattr(x, name)() if name != "logsumexp" else x.logsumexp((0, 1))
    reduced = getattr(x, name)(empty)
    assert reduced.shape == ()
    np.testing.assert_allclose(host(reduced), host(whole), rtol=1e-12)


@pytest.mark.parametrize("op", ["max", "min"])
def test_keepdim_without_dim_is_an_error_as_pytorch(op):
    with pytest.raises(TypeError, match=f"{op}\\(\\): keepdim=True needs a dim"):
        getattr(tg.randn(2, 3), op)(keepdim=True)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.uint8, tg.bool])
def test_softmax_of_integers_is_not_implemented_unless_cast(op, dtype, device):
    """As PyTorch ('"softmax_lastdim_kernel_impl" not implemented for 'Long''): an integer or
    bool tensor is refused, and dtype= casts it first."""
    x = tg.tensor([[1, 2, 3], [4, 5, 6]], device=device).to(dtype)
    for call in (lambda: getattr(tg, op)(x, -1), lambda: getattr(x, op)(0),
                 lambda: getattr(F, op)(x, 1)):
        with pytest.raises(NotImplementedError, match=f"{op}: not implemented for {dtype}"):
            call()
    with pytest.raises(NotImplementedError, match=f"{op}: not implemented for int64"):
        getattr(F, op)(x.float(), -1, dtype=tg.int64)
    y = getattr(F, op)(x, -1, dtype=tg.float64)
    a = host(x).astype(np.float64)
    log_p = a - a.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    assert y.dtype == tg.float64
    np.testing.assert_allclose(host(y), log_p if op == "log_softmax" else np.exp(log_p),
                               rtol=1e-12)
    with pytest.raises(NotImplementedError, match="softmax: not implemented"):
        tg.nn.Softmax(dim=-1)(x)
