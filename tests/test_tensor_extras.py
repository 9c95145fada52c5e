"""Tensor methods from tensor_extras.py: nanquantile (NumPy, PyTorch, gradients), the in-place
and legacy forms, Python maps, and the fixed answers of the complex/layout queries for real
tensors, compared with PyTorch where it is importable."""

import warnings

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck, gradgradcheck

X = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4, [4.0, 1.0, np.nan, 0.5]])


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_nanquantile_matches_numpy(interpolation, dim):
    x = tg.tensor(X)
    for q, keepdim in ((0.3, False), (0.75, True)):
        ours = tg.nanquantile(x, q, dim, keepdim, interpolation=interpolation)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)          # all-NaN slice
            ref = np.nanquantile(X, q, axis=dim, keepdims=keepdim, method=interpolation)
        np.testing.assert_allclose(ours.numpy(), ref, equal_nan=True)


def test_nanquantile_vector_q_matches_torch():
    torch = pytest.importorskip("torch")
    q = np.array([0.0, 0.4, 1.0])
    for dim, keepdim in ((None, False), (1, True), (0, False)):
        ours = tg.tensor(X).nanquantile(tg.tensor(q), dim, keepdim)
        ref = torch.nanquantile(torch.tensor(X), torch.tensor(q), dim, keepdim)
        assert ours.shape == tuple(ref.shape)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), equal_nan=True)


def test_nanquantile_gradients_and_errors():
    x = tg.tensor([[0.3, np.nan, 1.7, -0.4], [2.0, 0.1, 0.9, np.nan]], dtype=tg.float64,
                  requires_grad=True)
    assert gradcheck(lambda t: tg.nanquantile(t, 0.4, dim=1), (x,))
    assert gradgradcheck(lambda t: tg.nanquantile(t, 0.4, dim=1), (x,))
    with pytest.raises(RuntimeError, match="q values must be in the range"):
        tg.nanquantile(x, 1.5)
    with pytest.raises(RuntimeError, match="float or double"):
        tg.nanquantile(tg.tensor([1, 2]), 0.5)


def test_prelu_and_float_power_():
    x = tg.tensor([-2.0, 3.0], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([0.25], dtype=tg.float64, requires_grad=True)
    np.testing.assert_allclose(x.prelu(w).detach().numpy(), [-0.5, 3.0])
    assert gradcheck(lambda a, b: a.prelu(b), (x, w))
    y = tg.tensor([2.0, 3.0], dtype=tg.float64)
    assert y.float_power_(2) is y
    np.testing.assert_allclose(y.numpy(), [4.0, 9.0])
    with pytest.raises(RuntimeError, match="float_power_ has dtype float32"):
        tg.ones(2).float_power_(2)


def test_float_power_keeps_a_complex128_base_and_refuses_a_real_one_with_complex_exponent():
    z = tg.tensor([1j, 2.0], dtype=tg.complex128)
    assert z.float_power_(2) is z
    np.testing.assert_allclose(z.numpy(), [-1.0, 4.0])
    with pytest.raises(RuntimeError, match="float64 but the operation's result requires "
                                           "dtype complex128"):
        tg.ones(2, dtype=tg.float64).float_power_(tg.tensor([1j], dtype=tg.complex128))


def test_abs_in_place_refuses_a_complex_tensor():
    z = tg.tensor([3 + 4j], dtype=tg.complex128)
    for method in (z.abs_, z.absolute_):
        with pytest.raises(RuntimeError, match="In-place abs is not supported for complex"):
            method()
    np.testing.assert_array_equal(z.numpy(), [3 + 4j])
    x = tg.tensor([-2.0, 1.0])
    assert x.abs_() is x and x._version == 1
    np.testing.assert_array_equal(x.numpy(), [2.0, 1.0])


def test_conj_physical_in_place_conjugates_and_counts_a_version():
    z = tg.tensor([1 + 2j, -3j], dtype=tg.complex128)
    assert z.conj_physical_() is z
    np.testing.assert_array_equal(z.numpy(), [1 - 2j, 3j])
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x.clone()
    assert y.conj_physical_() is y and y._version == 1
    assert gradcheck(lambda a: a.clone().conj_physical_() * a, (x,))


def test_index_reduce_():
    x = tg.tensor([1.0, 2.0, 3.0])
    out = x.index_reduce_(0, tg.tensor([0, 0, 2]), tg.tensor([5.0, 7.0, 2.0]), "amax")
    assert out is x
    np.testing.assert_allclose(x.numpy(), [7.0, 2.0, 3.0])
    x.index_reduce_(0, tg.tensor([1]), tg.tensor([4.0]), "prod", include_self=False)
    np.testing.assert_allclose(x.numpy(), [7.0, 4.0, 3.0])


def test_as_strided_():
    x = tg.arange(6.0)
    assert x.as_strided_((2, 2), (1, 2), 1) is x
    assert x._version == 1                                  # as PyTorch counts it
    np.testing.assert_array_equal(x.numpy(), [[1.0, 3.0], [2.0, 4.0]])
    with pytest.raises(RuntimeError, match="out of bounds"):
        tg.arange(4.0).as_strided_((2,), (1,), 3)
    with pytest.raises(RuntimeError, match="requires grad"):
        tg.ones(2, requires_grad=True).as_strided_((2,), (1,))


def test_as_strided_on_a_non_leaf_joins_the_graph():
    x = tg.arange(9.0, dtype=tg.float64).requires_grad_()
    assert gradcheck(lambda a: a.clone().as_strided_((2, 2), (1, 2), 1) * 3.0, (x,))
    y = x.clone()
    assert y.as_strided_((2, 2), (1, 2), 1) is y and y.tolist() == [[1, 3], [2, 4]]
    (grad,) = tg.autograd.grad(y.sum(), x)
    assert grad.tolist() == [0, 1, 1, 1, 1, 0, 0, 0, 0]


def test_new_resize_and_output_nr():
    x = tg.ones(2, dtype=tg.int32)
    assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == tg.int32
    assert x.new().shape == (0,)
    np.testing.assert_array_equal(x.new((2, 3)).numpy(), [2, 3])
    y = tg.arange(6.0, requires_grad=True)
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        r = y.resize(2, 3)
    assert r.shape == (2, 3) and r.grad_fn is not None
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="requested resize to 4"):
        y.resize(4)
    with pytest.warns(UserWarning):
        assert y.resize_as(tg.ones(3, 2)).shape == (3, 2)
    a, b = tg.ones(4, requires_grad=True).split(2)
    assert (a.output_nr, b.output_nr, y.output_nr) == (0, 1, 0)


def test_python_maps():
    x = tg.tensor([1.0, 2.0, 3.0])
    assert x.apply_(lambda v: v * 10) is x
    np.testing.assert_array_equal(x.numpy(), [10.0, 20.0, 30.0])
    x.map_(tg.tensor([1.0]), lambda a, b: a + b)                   # broadcast other
    np.testing.assert_array_equal(x.numpy(), [11.0, 21.0, 31.0])
    x.map2_(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([2.0]), lambda a, b, c: a - b * c)
    np.testing.assert_array_equal(x.numpy(), [9.0, 17.0, 25.0])
    with pytest.raises(RuntimeError, match="Can't call apply_"):
        tg.ones(2, requires_grad=True).apply_(abs)


def test_unsafe_aliases():
    x = tg.arange(5.0)
    assert [t.tolist() for t in x.unsafe_chunk(2)] == [t.tolist() for t in x.chunk(2)]
    assert [t.tolist() for t in x.unsafe_split(2)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert [t.shape for t in x.unsafe_split_with_sizes([1, 4])] == [(1,), (4,)]


def test_real_tensor_queries():
    x = tg.tensor([[1.0, -2.0], [3.0, 4.0]])
    for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical", "pin_memory",
                 "share_memory_"):
        assert getattr(x, name)() is x
    assert x.real is x
    for name in ("is_conj", "is_neg", "is_pinned", "is_shared"):
        assert getattr(x, name)() is False
    for name in ("is_sparse", "is_quantized", "is_meta", "is_nested", "is_mkldnn"):
        assert getattr(x, name) is False
    assert x.layout is tg.strided and repr(tg.strided) == "tinygen.strided"
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        x.imag
    np.testing.assert_array_equal(x.H.numpy(), x.numpy().T)
    np.testing.assert_array_equal(x.mH.numpy(), x.numpy().T)
    np.testing.assert_array_equal(tg.ones(3, 2, 4).adjoint().shape, (3, 4, 2))
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        tg.ones(2, 2, 2).H
    with pytest.raises(RuntimeError, match="Got 1-D tensor"):
        tg.ones(2).mH
    with pytest.raises(TypeError, match="bfloat16 is not supported"):
        x.bfloat16()
    with pytest.raises(TypeError, match="complex32 is not supported"):
        x.chalf()


def test_complex_casts_and_rdiv():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    assert x.cfloat().dtype == tg.complex64 and x.cdouble().dtype == tg.complex128
    np.testing.assert_array_equal(x.cdouble().detach().numpy(), [1 + 0j, -2 + 0j])
    y = x.__rdiv__(3.0)                            # 3 / x, as torch.Tensor.__rdiv__
    np.testing.assert_allclose(y.detach().numpy(), [3.0, -1.5])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-3.0, -0.75])


def test_angle():
    x = tg.tensor([-1.5, 0.0, 2.0, np.nan], dtype=tg.float64, requires_grad=True)
    out = x.angle()
    np.testing.assert_allclose(out.detach().numpy(), [np.pi, 0.0, 0.0, np.nan])
    out[:3].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 0.0])
    assert tg.tensor([-1, 2]).angle().dtype == tg.float32
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(tg.tensor([-1, 0, 2]).angle().numpy(),
                               torch.tensor([-1, 0, 2]).angle().numpy())


def test_triangular_solve():
    a = np.array([[2.0, 1.0], [0.0, 4.0]])
    b = np.array([[1.0], [2.0]])
    A = tg.tensor(a, requires_grad=True)
    B = tg.tensor(b, requires_grad=True)
    solution, coefficient = B.triangular_solve(A)
    np.testing.assert_allclose(solution.detach().numpy(), np.linalg.solve(a, b))
    np.testing.assert_array_equal(coefficient.detach().numpy(), a)
    transposed = tg.triangular_solve(B, A, transpose=True).solution
    np.testing.assert_allclose(transposed.detach().numpy(), np.linalg.solve(a.T, b))
    lower = tg.triangular_solve(B, A.mT, upper=False).solution
    np.testing.assert_allclose(lower.detach().numpy(), np.linalg.solve(a.T, b))
    assert gradcheck(lambda m, v: v.triangular_solve(m.triu()).solution, (A, B))
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)              # deprecated in PyTorch too
        ref = torch.triangular_solve(torch.tensor(b), torch.tensor(a), transpose=True)
    np.testing.assert_allclose(transposed.detach().numpy(), ref.solution.numpy())
