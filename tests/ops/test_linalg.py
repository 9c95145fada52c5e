"""matmul: NumPy's rules for 1-D, 2-D, batched and broadcast operands, values and gradients;
the strict products (mm, bmm, dot, outer, einsum) and PyTorch's refusal to mix dtypes."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck

MATMUL_SHAPES = [
    ((3,), (3,)),                 # dot product, a 0-d result
    ((3,), (3, 2)),               # row vector times matrix
    ((2, 3), (3,)),               # matrix times column vector
    ((2, 3), (3, 4)),
    ((1, 3), (3, 1)),
    ((2, 2, 3), (2, 3, 4)),       # batched
    ((2, 1, 2, 3), (4, 3, 2)),    # broadcast batch dims
    ((2, 3), (5, 3, 2)),          # a matrix against a batch
    ((3,), (2, 3, 2)),            # a vector against a batch
    ((2, 2, 3), (3,)),
    ((0, 3), (3, 2)),             # zero-size rows
    ((2, 0), (0, 3)),             # zero-size inner dim: the result is zeros
    ((0, 2, 3), (3, 1)),          # zero-size batch
]


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_matmul_forward_matches_numpy(shape_a, shape_b, dtype, device, rng, leaf):
    a = leaf(rng, *shape_a, device=device, dtype=dtype, requires_grad=False)
    b = leaf(rng, *shape_b, device=device, dtype=dtype, requires_grad=False)
    expected = np.matmul(host(a).astype(np.float64), host(b).astype(np.float64))
    rtol = 1e-6 if dtype == tg.float32 else 1e-12
    for y in (a @ b, tg.matmul(a, b), a.matmul(b)):
        assert y.dtype == dtype
        assert y.shape == expected.shape
        np.testing.assert_allclose(host(y), expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck(shape_a, shape_b, device, rng, leaf):
    a, b = leaf(rng, *shape_a, device=device), leaf(rng, *shape_b, device=device)
    assert gradcheck(operator.matmul, (a, b))
    assert gradgradcheck(operator.matmul, (a, b))
    y = a @ b
    y.backward(tg.tensor(rng.standard_normal(y.shape), device=device))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


def test_matmul_gradient_formula(device, rng, leaf):
    a, b = leaf(rng, 2, 3, device=device), leaf(rng, 3, 4, device=device)
    g = rng.standard_normal((2, 4))
    (a @ b).backward(tg.tensor(g, device=device))
    np.testing.assert_allclose(host(a.grad), g @ host(b).T, rtol=1e-12)
    np.testing.assert_allclose(host(b.grad), host(a).T @ g, rtol=1e-12)


def test_matmul_zero_inner_dim_gives_zeros(device, rng, leaf):
    a, b = leaf(rng, 2, 0, device=device), leaf(rng, 0, 3, device=device)
    y = a @ b
    np.testing.assert_array_equal(host(y), np.zeros((2, 3)))
    y.backward(tg.tensor(rng.standard_normal((2, 3)), device=device))
    assert a.grad.shape == (2, 0) and b.grad.shape == (0, 3)


@settings(max_examples=15, deadline=None)
@given(shapes=mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2,
                                            min_side=0, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_matmul_broadcasting(shapes, seed, device, leaf):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shapes.input_shapes
    a, b = leaf(rng, *shape_a, device=device), leaf(rng, *shape_b, device=device)
    y = a @ b
    expected = np.matmul(host(a), host(b))
    assert y.shape == expected.shape == shapes.result_shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-12, atol=1e-15)
    assert gradcheck(operator.matmul, (a, b))


MIXED_DTYPES = [(tg.float32, tg.float64), (tg.float64, tg.float32), (tg.float16, tg.float32),
                (tg.int64, tg.float32), (tg.int64, tg.int32)]
PRODUCTS = [  # name, function, shapes of its two operands
    ("matmul", operator.matmul, (2, 3), (3, 4)), ("matmul", tg.matmul, (3,), (3, 4)),
    ("matmul", tg.matmul, (5, 2, 3), (3,)), ("mm", tg.mm, (2, 3), (3, 4)),
    ("bmm", tg.bmm, (5, 2, 3), (5, 3, 4)), ("dot", tg.dot, (3,), (3,)),
]


@pytest.mark.parametrize("dtype_a, dtype_b", MIXED_DTYPES, ids=str)
@pytest.mark.parametrize("name, fn, shape_a, shape_b", PRODUCTS,
                         ids=[f"{c[0]}{c[2]}{c[3]}" for c in PRODUCTS])
def test_products_of_mixed_dtypes_raise_naming_both(name, fn, shape_a, shape_b, dtype_a,
                                                    dtype_b, device):
    """PyTorch refuses to promote inside a matrix product ("expected m1 and m2 to have the same
    dtype, but got: float != double"); so does tinygen, naming the op and both dtypes."""
    a = tg.ones(*shape_a, dtype=dtype_a, device=device)
    b = tg.ones(*shape_b, dtype=dtype_b, device=device)
    with pytest.raises(RuntimeError, match=rf"{name}: expected m1 and m2 to have the same dtype"
                                           rf", but got: {dtype_a} != {dtype_b}"):
        fn(a, b)


@pytest.mark.parametrize("dtype_a, dtype_b", MIXED_DTYPES[:1], ids=str)
def test_einsum_and_linear_of_mixed_dtypes_raise(dtype_a, dtype_b):
    a, b = tg.ones(2, 3, dtype=dtype_a), tg.ones(3, 4, dtype=dtype_b)
    with pytest.raises(RuntimeError, match=f"einsum: expected operands of one dtype.*"
                                           f"{dtype_a}, {dtype_b}"):
        tg.einsum("ij,jk->ik", a, b)
    with pytest.raises(RuntimeError, match=f"input has dtype {dtype_a} but weight has "
                                           f"{dtype_b}"):
        tg.nn.functional.linear(a, b.T)


@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.float16], ids=str)
def test_products_within_one_dtype_keep_it(dtype, device):
    a = tg.tensor([[1, 2, 3], [4, 5, 6]], dtype=dtype, device=device)
    b = tg.tensor([[1, 0], [0, 1], [1, 1]], dtype=dtype, device=device)
    for y in (a @ b, tg.mm(a, b), tg.einsum("ij,jk->ik", a, b)):
        assert y.dtype == dtype
        np.testing.assert_array_equal(host(y), [[4, 5], [10, 11]])


def test_product_of_bool_tensors_is_not_implemented():
    m = tg.ones(2, 2, dtype=tg.bool)
    with pytest.raises(NotImplementedError, match="matmul: not implemented for bool"):
        m @ m


@pytest.mark.parametrize("dtype_a, dtype_b", MIXED_DTYPES, ids=str)
def test_mixed_dtype_products_raise_as_in_torch(dtype_a, dtype_b):
    torch = pytest.importorskip("torch")
    names = {tg.float16: torch.float16, tg.float32: torch.float32, tg.float64: torch.float64,
             tg.int32: torch.int32, tg.int64: torch.int64}
    for module, a, b in [(torch, names[dtype_a], names[dtype_b]), (tg, dtype_a, dtype_b)]:
        with pytest.raises(RuntimeError, match="same dtype"):
            module.mm(module.ones(2, 3, dtype=a), module.ones(3, 4, dtype=b))


def test_rmatmul_with_numpy_operand(device):
    if device != "cpu":
        pytest.skip("a NumPy array operand lives on the CPU")
    b = tg.ones(3, 2, dtype=tg.float64)
    y = np.ones((2, 3)) @ b
    assert isinstance(y, tg.Tensor)
    np.testing.assert_array_equal(host(y), np.full((2, 2), 3.0))


@pytest.mark.parametrize("shape_a, shape_b, match", [
    ((2, 3), (4, 2), r"\(2, 3\) and \(4, 2\).*3 != 4"),
    ((3,), (4,), r"3 != 4"),
    ((2, 2, 3), (2, 2, 3), r"3 != 2"),
    ((), (3,), "at least 1 dim"),
    ((3,), (), "at least 1 dim"),
], ids=str)
def test_matmul_shape_errors(shape_a, shape_b, match, device):
    with pytest.raises(RuntimeError, match=match):
        tg.ones(*shape_a, device=device) @ tg.ones(*shape_b, device=device)


def test_matmul_batch_dims_that_dont_broadcast(device):
    with pytest.raises((ValueError, RuntimeError), match=r"\(2, 2, 3\).*\(3, 3, 2\)"):
        tg.ones(2, 2, 3, device=device) @ tg.ones(3, 3, 2, device=device)


@pytest.mark.parametrize("shape_a, shape_b", [((3,), (3,)), ((4, 3), (3,)), ((2, 1, 2, 3),
                                                                              (4, 3, 2))],
                         ids=str)
def test_matmul_matches_torch(shape_a, shape_b, rng):
    torch = pytest.importorskip("torch")
    a_np, b_np = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = tg.tensor(a_np, requires_grad=True), tg.tensor(b_np, requires_grad=True)
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    y, ty = a @ b, ta @ tb
    np.testing.assert_allclose(host(y), ty.detach().cpu().numpy(), rtol=1e-12)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(host(a.grad), ta.grad.cpu().numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(b.grad), tb.grad.cpu().numpy(), rtol=1e-12)


def test_mm_bmm_dot_outer_match_numpy_and_gradcheck(device, rng, leaf):
    a, b = leaf(rng, 2, 3, device=device), leaf(rng, 3, 4, device=device)
    p, q = leaf(rng, 2, 2, 3, device=device), leaf(rng, 2, 3, 4, device=device)
    u, v = leaf(rng, 3, device=device), leaf(rng, 3, device=device)
    w = leaf(rng, 4, device=device)
    cases = [(tg.mm, (a, b), np.matmul), (tg.bmm, (p, q), np.matmul), (tg.dot, (u, v), np.dot),
             (tg.outer, (u, w), np.outer)]
    for fn, args, ref in cases:
        np.testing.assert_allclose(host(fn(*args)), ref(*map(host, args)), rtol=1e-12)
        assert gradcheck(fn, args) and gradgradcheck(fn, args)
    assert a.mm(b).shape == (2, 4) and u.dot(v).shape == () and u.outer(w).shape == (3, 4)


@pytest.mark.parametrize("fn, shapes", [
    (tg.mm, [(2, 3, 1), (3, 4)]), (tg.bmm, [(2, 2, 3), (3, 2, 3)]), (tg.bmm, [(2, 3), (3, 2)]),
    (tg.dot, [(3,), (4,)]), (tg.dot, [(3, 1), (3,)]), (tg.outer, [(3, 1), (2,)])])
def test_strict_products_refuse_other_shapes(fn, shapes):
    with pytest.raises(RuntimeError, match=r"expected"):
        fn(*(tg.ones(*s) for s in shapes))


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhtd,bhsd->bhts", [(2, 2, 3, 4), (2, 2, 5, 4)]),   # attention scores
    ("ij->ji", [(2, 3)]),
    ("ij->i", [(2, 3)]),                                  # a letter only one operand has
    ("ij->", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,jk,k->i", [(2, 3), (3, 4), (4,)]),
    ("ij,jk", [(2, 3), (3, 4)]),                          # implicit output: "ik"
    ("ba,ca", [(2, 3), (4, 3)]),                          # implicit output in alphabetical order
    ("ii->", [(3, 3)]),                                   # trace
    ("ii", [(3, 3)]),                                     # implicit: trace too
    ("NMKK->NMK", [(2, 1, 3, 3)]),                        # diagonals (the NTK tutorial)
    ("iji,jk->ik", [(3, 2, 3), (2, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_matches_numpy_and_gradchecks(equation, shapes, device, rng, leaf):
    operands = [leaf(rng, *s, device=device) for s in shapes]
    y = tg.einsum(equation, *operands)
    expected = np.einsum(equation, *map(host, operands))
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-12)
    assert gradcheck(lambda *ops: tg.einsum(equation, *ops), operands)
    assert gradgradcheck(lambda *ops: tg.einsum(equation, *ops), operands)


def test_einsum_takes_a_list_of_operands(rng, leaf):
    a, b = leaf(rng, 2, 3), leaf(rng, 3, 4)
    np.testing.assert_allclose(host(tg.einsum("ij,jk->ik", [a, b])), host(a @ b), rtol=1e-12)


@pytest.mark.parametrize("equation, shapes, match", [
    ("ij,jk->ik", [(2, 3), (4, 4)], "has size 3"),
    ("ij->k", [(2, 3)], "output subscripts"),
    ("ijk->i", [(2, 3)], "name 3 dims"),
    ("iij->i", [(3, 3)], "name 3 dims"),
    ("ij,jk->ik", [(2, 3)], "2 operands"),
    ("i1->i", [(2, 3)], "letters"),
])
def test_einsum_errors(equation, shapes, match):
    with pytest.raises(ValueError, match=match):
        tg.einsum(equation, *(tg.ones(*s) for s in shapes))


def test_einsum_diagonal_of_unequal_sizes_raises():
    with pytest.raises(RuntimeError, match="subscript i is repeated for operand 0 but the "
                                           "sizes don't match, 3 != 4"):
        tg.einsum("ii->i", tg.ones(3, 4))


def test_einsum_matches_torch(rng):
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    x, y = (tg.tensor(v, requires_grad=True) for v in (a, b))
    tx, ty = (torch.tensor(v, requires_grad=True) for v in (a, b))
    g = rng.standard_normal((3, 5, 2))
    tg.einsum("bik,bjk->ijb", x, y).backward(tg.tensor(g))
    torch.einsum("bik,bjk->ijb", tx, ty).backward(torch.tensor(g))
    np.testing.assert_allclose(host(x.grad), tx.grad.cpu().numpy(), rtol=1e-12)
    np.testing.assert_allclose(host(y.grad), ty.grad.cpu().numpy(), rtol=1e-12)


@pytest.mark.parametrize("equation, shapes, dtype", [
    ("ij->i", [(2, 3)], tg.int64), ("i->", [(3,)], tg.int64), ("ii->i", [(3, 3)], tg.int16),
    ("ij,j->i", [(2, 3), (3,)], tg.int16), ("ik,j->ij", [(2, 3), (4,)], tg.int64)])
def test_einsum_integer_dtype_follows_torch_sum(equation, shapes, dtype):
    # a letter in one operand only is summed out of it first, by torch.sum: ints give int64
    ops = [np.arange(int(np.prod(s)), dtype=np.int16).reshape(s) - 2 for s in shapes]
    y = tg.einsum(equation, *[tg.tensor(a) for a in ops])
    assert y.dtype == dtype
    np.testing.assert_array_equal(host(y), np.einsum(equation, *[a.astype(np.int64) for a in ops]))
