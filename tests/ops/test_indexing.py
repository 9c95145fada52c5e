"""Indexing: x[index] for every kind of index, x[index] = v, gather and masked_fill; values
against NumPy, gradients against finite differences (repeated indices add up)."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, shares_memory
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.ops import index_put

SHAPE = (3, 4, 2)


def _mask(device):
    return tg.tensor(np.arange(24).reshape(SHAPE) % 3 == 0, device=device)


# name, index (built on the device), the same index for NumPy
INDICES = [
    ("int", lambda d: 1, 1),
    ("negative int", lambda d: -1, -1),
    ("ints", lambda d: (2, 0), (2, 0)),
    ("three ints (0-d)", lambda d: (2, 0, 1), (2, 0, 1)),
    ("0-d int tensor", lambda d: tg.tensor(2, device=d), 2),
    ("slice", lambda d: slice(1, 3), slice(1, 3)),
    ("slice with step", lambda d: (slice(None), slice(None, None, 2)),
     (slice(None), slice(None, None, 2))),
    ("slice with step 3", lambda d: (slice(None), slice(1, None, 3), 0),
     (slice(None), slice(1, None, 3), 0)),
    ("negative step", lambda d: slice(None, None, -2), slice(None, None, -2)),
    ("empty slice", lambda d: slice(2, 2), slice(2, 2)),
    ("None", lambda d: (None, 1), (None, 1)),
    ("Ellipsis", lambda d: (Ellipsis, 1), (Ellipsis, 1)),
    ("int, Ellipsis, None", lambda d: (0, Ellipsis, None), (0, Ellipsis, None)),
    ("int list", lambda d: [0, 2, 1], [0, 2, 1]),
    ("repeated int list", lambda d: [0, 0, 1, 0], [0, 0, 1, 0]),
    ("negative int list", lambda d: [-1, 0], [-1, 0]),
    ("empty list", lambda d: [], np.zeros(0, dtype=np.int64)),
    ("int tensor 2-d", lambda d: tg.tensor([[0, 1], [1, 1]], device=d),
     np.array([[0, 1], [1, 1]])),
    ("numpy int array", lambda d: np.array([2, 2]), np.array([2, 2])),
    ("two int arrays", lambda d: ([0, 1, 1], [3, 0, 3]), ([0, 1, 1], [3, 0, 3])),
    ("arrays split by slice", lambda d: ([0, 2], slice(None), [1, 0]),
     ([0, 2], slice(None), [1, 0])),
    ("slice then array", lambda d: (slice(None), [2, 0, 2]), (slice(None), [2, 0, 2])),
    ("int and array", lambda d: (1, [3, 3, 0]), (1, [3, 3, 0])),
    ("full bool mask", _mask, np.arange(24).reshape(SHAPE) % 3 == 0),
    ("bool mask on dim 1", lambda d: (slice(None), tg.tensor([True, False, True, True],
                                                             device=d)),
     (slice(None), np.array([True, False, True, True]))),
    ("bool list", lambda d: [True, False, True], np.array([True, False, True])),
    ("all-false mask", lambda d: tg.zeros(3, device=d) > 1, np.zeros(3, dtype=bool)),
    ("numpy int64", lambda d: np.int64(1), 1),
    ("numpy int32 and int", lambda d: (np.int32(2), -1), (2, -1)),
    ("numpy bool", lambda d: np.bool_(True), True),
    ("list of 0-d tensors", lambda d: [tg.tensor(2, device=d), tg.tensor(0, device=d)], [2, 0]),
]
INDEX_IDS = [case[0] for case in INDICES]


@pytest.mark.parametrize("name, index, np_index", INDICES, ids=INDEX_IDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_getitem_matches_numpy(name, index, np_index, dtype, device, rng, leaf):
    x = leaf(rng, *SHAPE, device=device, dtype=dtype, requires_grad=False)
    y = x[index(device)]
    expected = host(x)[np_index]
    assert y.dtype == dtype
    assert y.shape == expected.shape
    np.testing.assert_array_equal(host(y), expected)


@pytest.mark.parametrize("name, index, np_index", INDICES, ids=INDEX_IDS)
def test_getitem_gradcheck(name, index, np_index, device, rng, leaf):
    x = leaf(rng, *SHAPE, device=device)
    idx = index(device)
    assert gradcheck(lambda x: x[idx], (x,))
    assert gradgradcheck(lambda x: x[idx], (x,))
    y = x[idx]
    g = rng.standard_normal(y.shape)
    y.backward(tg.tensor(g, device=device))
    source = np.arange(np.prod(SHAPE)).reshape(SHAPE)[np_index]   # where each output came from
    expected = np.zeros(np.prod(SHAPE))
    np.add.at(expected, source.reshape(-1), g.reshape(-1))       # so repeats add up
    np.testing.assert_allclose(host(x.grad), expected.reshape(SHAPE), rtol=1e-15)


def test_repeated_indices_add_up(device, rng, leaf):
    x = leaf(rng, 5, device=device)
    x[[0, 0, 1]].backward(tg.ones(3, dtype=tg.float64, device=device))
    np.testing.assert_array_equal(host(x.grad), [2.0, 1.0, 0.0, 0.0, 0.0])
    x.grad = None
    g = np.array([0.5, -2.0, 3.0, 7.0])
    x[tg.tensor([4, 1, 4, 4], device=device)].backward(tg.tensor(g, device=device))
    np.testing.assert_array_equal(host(x.grad), [0.0, -2.0, 0.0, 0.0, 10.5])


def test_row_gradients_add_up_like_numpy_add_at(rng):
    """x[ids] for ids along axis 0 (an embedding): repeated ids, -1 beside n-1, and rows never
    named all get the gradient np.add.at gives."""
    x = tg.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    ids = np.array([[5, 0, -1], [2, 5, 0], [-6, 2, 5]])
    g = rng.standard_normal((3, 3, 3))
    x[tg.tensor(ids)].backward(tg.tensor(g))
    expected = np.zeros((6, 3))
    np.add.at(expected, ids, g)
    np.testing.assert_allclose(x.grad.cpu().numpy(), expected, rtol=1e-14)
    assert not expected[[1, 3, 4]].any()


def test_indexing_zero_size_tensor(device, rng, leaf):
    x = leaf(rng, 0, 3, device=device)
    for index, shape in [((slice(None), 1), (0,)), ((Ellipsis, [2, 0]), (0, 2)),
                         (slice(None, None, 2), (0, 3)), ((None, slice(None)), (1, 0, 3))]:
        y = x[index]
        assert y.shape == shape
        x.grad = None
        y.sum().backward()
        assert x.grad.shape == (0, 3)


def test_numpy_integers_index_like_python_ints(device):
    """The common ``for i in np.random.permutation(n): x[i]`` loop, reading and writing."""
    x = tg.arange(5, device=device)
    order = np.random.default_rng(0).permutation(5)
    assert [x[i].item() for i in order] == order.tolist()
    assert shares_memory(x[np.int64(1)].array, x.array)   # a view, as with a Python int
    y = tg.zeros(3, device=device)
    y[np.int64(0)] = 1.0
    y[np.int32(-1)] = 2.0
    assert y.tolist() == [1.0, 0.0, 2.0]


def test_basic_indexing_is_a_view(device):
    x = tg.zeros(3, 4, device=device)
    y = x[1, ::2]
    with tg.no_grad():
        x.add_(2)
    np.testing.assert_array_equal(host(y), [2.0, 2.0])


# name, index, NumPy index, shape of the value written
SETITEMS = [
    ("int", 1, 1, (4, 2)),
    ("int, broadcast value", 1, 1, (2,)),
    ("ints", (0, 2), (0, 2), (2,)),
    ("scalar value", (2, 3, 1), (2, 3, 1), ()),
    ("slice with step", (slice(None), slice(None, None, 2)),
     (slice(None), slice(None, None, 2)), (3, 2, 2)),
    ("Ellipsis", (Ellipsis, 0), (Ellipsis, 0), (3, 1)),
    ("int array", [2, 0], [2, 0], (2, 4, 2)),
    ("two int arrays", ([0, 1, 2], [3, 0, 1]), ([0, 1, 2], [3, 0, 1]), (3, 2)),
    ("bool mask", (slice(None), [True, False, False, True]),
     (slice(None), np.array([True, False, False, True])), (3, 2, 1)),
    ("numpy ints", (np.int64(0), np.int32(3)), (0, 3), (2,)),
]


@pytest.mark.parametrize("name, index, np_index, value_shape", SETITEMS,
                         ids=[s[0] for s in SETITEMS])
def test_setitem_forward_and_gradients(name, index, np_index, value_shape, device, rng, leaf):
    x = leaf(rng, *SHAPE, device=device)
    v = leaf(rng, *value_shape, device=device, low=2, high=3)
    y = x * 1                               # a non-leaf, so it may be written in place
    y[index] = v
    expected = host(x).copy()
    expected[np_index] = host(v)
    np.testing.assert_array_equal(host(y), expected)
    g = rng.standard_normal(SHAPE)
    y.backward(tg.tensor(g, device=device))
    grad_x = g.copy()
    grad_x[np_index] = 0                    # overwritten elements don't reach x
    np.testing.assert_array_equal(host(x.grad), grad_x)
    np.testing.assert_allclose(host(v.grad), np_sum_to(g[np_index], value_shape), rtol=1e-13)


def np_sum_to(a, shape):
    """Sum ``a`` over the dims that broadcasting ``shape`` up to ``a.shape`` added or stretched."""
    lead = a.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
    return a.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


@pytest.mark.parametrize("name, index, np_index, value_shape", SETITEMS,
                         ids=[s[0] for s in SETITEMS])
def test_setitem_gradcheck(name, index, np_index, value_shape, device, rng, leaf):
    def write(x, v):
        y = x * 1
        y[index] = v
        return y

    x = leaf(rng, *SHAPE, device=device)
    v = leaf(rng, *value_shape, device=device)
    assert gradcheck(write, (x, v))
    assert gradgradcheck(write, (x, v))
    assert gradcheck(lambda x, v: index_put(x, index, v), (x, v))


def test_setitem_with_python_number_and_mask_tensor(device, rng, leaf):
    x = leaf(rng, *SHAPE, device=device)
    y = x.clone()
    mask = y.detach() > 0
    y[mask] = 0.0
    np.testing.assert_array_equal(host(y), np.where(host(x) > 0, 0.0, host(x)))
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), (host(x) <= 0).astype(float))


def test_setitem_casts_value_to_tensor_dtype_at_basic_indices_only(device):
    """As PyTorch: a basic index copies with a cast; tensor indices (index_put_) refuse
    another dtype."""
    y = tg.zeros(3, device=device)
    with pytest.raises(RuntimeError, match="dtypes match"):
        y[tg.tensor([0, 2], device=device)] = tg.tensor([1, 2], device=device)
    y[tg.tensor([0, 2], device=device)] = tg.tensor([1.0, 2.0], device=device)
    y[1] = tg.tensor(0.5, dtype=tg.float64, device=device)
    assert y.dtype == tg.float32
    np.testing.assert_array_equal(host(y), [1.0, 0.5, 2.0])


def test_setitem_on_leaf_requiring_grad_is_an_error(device, rng, leaf):
    x = leaf(rng, 3, device=device)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0
    with tg.no_grad():
        x[0] = 1.0
    assert host(x)[0] == 1.0


def gather_ref(a, dim, index):
    """PyTorch's gather: out[i][j][k] = a[i][index[i][j][k]][k] (dim=1); index may be smaller
    than a in the other dims."""
    window = tuple(slice(None) if d == dim % a.ndim else slice(0, n)
                   for d, n in enumerate(index.shape))
    return np.take_along_axis(a[window], index, axis=dim)


@pytest.mark.parametrize("dim, index", [
    (0, [[0, 2, 1, 0], [2, 2, 0, 1]]),
    (1, [[3, 3, 0], [1, 0, 2], [0, 0, 0]]),
    (-1, [[1], [3], [3]]),
    (1, [[0, 0, 0, 0, 0]]),                  # repeated: the gradient of x[0, 0] adds up
], ids=str)
def test_gather(dim, index, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    idx = tg.tensor(index, device=device)
    y = x.gather(dim, idx)
    np.testing.assert_array_equal(host(y), gather_ref(host(x), dim, np.array(index)))
    np.testing.assert_array_equal(host(tg.gather(x, dim, idx)), host(y))
    assert gradcheck(lambda x: x.gather(dim, idx), (x,))
    assert gradgradcheck(lambda x: x.gather(dim, idx), (x,))


def test_gather_repeated_index_gradient(device, rng, leaf):
    x = leaf(rng, 2, 3, device=device)
    idx = tg.tensor([[0, 0, 2, 0], [1, 1, 1, 1]], device=device)
    x.gather(1, idx).backward(tg.tensor(np.arange(8.0).reshape(2, 4), device=device))
    np.testing.assert_array_equal(host(x.grad), [[0 + 1 + 3, 0, 2], [0, 4 + 5 + 6 + 7, 0]])


def test_gather_of_zero_dim_tensor(device):
    x = tg.tensor(np.array(1.5), device=device, requires_grad=True)
    y = x.gather(0, tg.tensor(0, device=device))
    assert y.shape == () and y.item() == 1.5
    y.backward()
    assert x.grad.item() == 1.0


def test_masked_fill(device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    mask = tg.tensor([True, False, False, True], device=device)
    y = x.masked_fill(mask, -1e9)
    np.testing.assert_array_equal(host(y), np.where(host(mask), -1e9, host(x)))
    assert y.dtype == tg.float64
    f = lambda x: tg.masked_fill(x, mask, 0.25)        # noqa: E731
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("x, value, expected", [
    ([1, 2], 2.7, [2, 2]),
    ([True, True], 0.0, [False, True]),
    ([1.5, 2.5], 7, [7.0, 2.5]),
    ([1, 2], tg.tensor(-3.9), [-3, 2]),
])
def test_masked_fill_keeps_the_tensor_dtype(x, value, expected, device):
    """The value is converted to x's dtype, as in PyTorch (so an integer tensor stays integer)."""
    x = tg.tensor(x, device=device)
    value = value.to(device) if isinstance(value, tg.Tensor) else value
    y = x.masked_fill(tg.tensor([True, False], device=device), value)
    assert y.dtype == x.dtype and y.tolist() == expected


def test_masked_fill_with_a_tensor_value_passes_it_gradients(device, rng, leaf):
    x, value = leaf(rng, 3, 4, device=device), leaf(rng, device=device)
    mask = tg.tensor([True, False, False, True], device=device)
    f = lambda x, v: x.masked_fill(mask, v)             # noqa: E731
    assert gradcheck(f, (x, value))
    assert gradgradcheck(f, (x, value))


def test_masked_fill_errors(device):
    x = tg.ones(2, device=device)
    with pytest.raises(RuntimeError, match="only supports boolean masks, but got mask with "
                                           "dtype int64"):
        x.masked_fill(tg.tensor([1, 0], device=device), 0.0)
    with pytest.raises(TypeError, match="mask must be a bool tensor, got list"):
        x.masked_fill([True, False], 0.0)
    with pytest.raises(RuntimeError, match=r"0-dimensional value tensor, but got one of shape "
                                           r"\(2,\)"):
        x.masked_fill(tg.tensor([True, False], device=device), tg.zeros(2, device=device))


def test_masked_fill_in_place(device, rng, leaf):
    mask = tg.tensor([True, False, True], device=device)
    x = tg.tensor([1, 2, 3], device=device)
    array, version = x.array, x._version
    assert x.masked_fill_(mask, 9.5) is x
    assert x.array is array and x._version == version + 1 and x.tolist() == [9, 2, 9]
    a = leaf(rng, 3, device=device)
    y = a * 2
    y.masked_fill_(mask, 0.0)                          # recorded: y's old values were a * 2
    y.backward(tg.ones(3, dtype=tg.float64, device=device))
    assert host(a.grad).tolist() == [0.0, 2.0, 0.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        a.masked_fill_(mask, 0.0)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        tg.zeros(3, device=device).masked_fill_(tg.ones(2, 3, dtype=tg.bool, device=device), 1)


def test_masked_fill_matches_torch():
    torch = pytest.importorskip("torch")
    mask = [True, False, True]
    for data, value in [([1, 2, 3], 2.7), ([1, 2, 3], -4.5), ([0.5, 1.5, 2.5], 3),
                        ([True, False, False], 1)]:
        ours = tg.tensor(data).masked_fill(tg.tensor(mask), value)
        theirs = torch.tensor(data).masked_fill(torch.tensor(mask), value)
        assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype)[6:]


INDEX_ERRORS = [
    ("float tensor", lambda d: tg.tensor([0.0, 1.0], device=d), "integer or bool"),
    ("0-d float tensor", lambda d: tg.tensor(1.0, device=d), "integer or bool"),
    ("float array", lambda d: np.array([0.5]), "integer or bool"),
    ("python float", lambda d: 1.0, "float"),
    ("numpy float", lambda d: np.float64(1.0), "unsupported index of type float64"),
    ("string", lambda d: "a", "str"),
    ("out of bounds", lambda d: 3, "out of bounds"),
    ("array out of bounds", lambda d: [0, 5], "out of bounds"),
    ("too many indices", lambda d: (0, 0, 0, 0), "too many"),
    ("mask of wrong shape", lambda d: tg.tensor([True, False], device=d), "did not match"),
]


@pytest.mark.parametrize("name, index, match", INDEX_ERRORS, ids=[e[0] for e in INDEX_ERRORS])
def test_bad_index_is_an_error(name, index, match, device):
    with pytest.raises(IndexError, match=match):
        host(tg.ones(*SHAPE, device=device)[index(device)])   # a GPU reports at the read


def test_gather_errors(device):
    x = tg.ones(3, 4, device=device)
    with pytest.raises(RuntimeError, match="dims"):
        x.gather(1, tg.tensor([0, 1], device=device))
    with pytest.raises(IndexError, match="out of range"):
        x.gather(2, tg.tensor([[0]], device=device))
    with pytest.raises(IndexError, match="integer or bool"):
        x.gather(1, tg.tensor([[0.0]], device=device))


def test_setitem_value_shape_mismatch_is_an_error(device):
    y = tg.zeros(3, device=device)
    with pytest.raises((ValueError, RuntimeError), match=r"\(2,\)"):
        y[0] = tg.tensor([1.0, 2.0], device=device)


def test_matches_torch_for_repeated_and_masked_indices(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal(SHAPE)
    mask = a > 0.3
    cases = [([0, 0, 2], torch.tensor([0, 0, 2])),
             ((slice(None), [1, 1, 3]), (slice(None), torch.tensor([1, 1, 3]))),
             (([2, 2], slice(None), [0, 1]), (torch.tensor([2, 2]), slice(None),
                                              torch.tensor([0, 1]))),
             (mask, torch.tensor(mask))]
    for index, torch_index in cases:
        x = tg.tensor(a, requires_grad=True)
        tx = torch.tensor(a, requires_grad=True)
        y, ty = x[index], tx[torch_index]
        np.testing.assert_array_equal(host(y), ty.detach().cpu().numpy())
        g = rng.standard_normal(tuple(ty.shape))
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(x.grad), tx.grad.cpu().numpy(), rtol=1e-14)


@pytest.mark.parametrize("dim, index", [(0, [2, 0, 2]), (1, [1]), (-1, [3, 3, 0, 1]), (1, [])])
def test_index_select_matches_numpy_and_gradchecks(dim, index, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    idx = tg.tensor(index, dtype=tg.int64, device=device)
    y = x.index_select(dim, idx)
    np.testing.assert_array_equal(host(y), np.take(host(x), index, axis=dim))
    assert gradcheck(lambda x: tg.index_select(x, dim, idx), (x,))
    assert gradgradcheck(lambda x: tg.index_select(x, dim, idx), (x,))


def test_index_select_repeated_entries_add_gradients(device):
    x = tg.zeros(3, dtype=tg.float64, device=device, requires_grad=True)
    x.index_select(0, tg.tensor([0, 0, 2], device=device)).sum().backward()
    assert host(x.grad).tolist() == [2.0, 0.0, 1.0]


def test_index_select_needs_a_1d_integer_index():
    with pytest.raises(IndexError, match="1-D integer"):
        tg.ones(3, 4).index_select(0, tg.tensor([[0, 1]]))
    with pytest.raises(IndexError, match="1-D integer"):
        tg.ones(3, 4).index_select(0, tg.tensor([0.0]))


# how the base is laid out in memory, and a view of it
BASE_LAYOUTS = [
    ("contiguous", lambda t: t.reshape(4, 6)),
    ("transposed", lambda t: t.reshape(4, 6).t()),
    ("strided slice of a larger array", lambda t: t.reshape(2, 12)[:, 1:10:2]),
    ("negative steps", lambda t: t.reshape(4, 6)[::-1, ::-2]),
    ("0-d", lambda t: t[5]),
]
VIEWS = [
    ("row", lambda b: b[1] if b.ndim else b),
    ("every other column", lambda b: b[:, ::2] if b.ndim else b),
    ("transposed", lambda b: b.t() if b.ndim else b),
    ("reversed rows", lambda b: b[::-1] if b.ndim else b),
    ("flattened", lambda b: b.reshape(-1)),
    ("expanded", lambda b: b[:1].expand(3, -1) if b.ndim else b.expand(3)),
    ("empty", lambda b: b[:0] if b.ndim else b.reshape(1)[:0]),
]


@pytest.mark.parametrize("view_name, view_of", VIEWS, ids=[v[0] for v in VIEWS])
@pytest.mark.parametrize("base_name, base_of", BASE_LAYOUTS, ids=[b[0] for b in BASE_LAYOUTS])
def test_view_positions_name_the_shared_elements(device, base_name, base_of, view_name,
                                                 view_of):
    from tinygen.ops.indexing import view_positions
    base = base_of(tg.arange(24.0, device=device))
    view = view_of(base)
    if not shares_memory(view.array, base.array) and view.numel():
        pytest.skip("the view op copied")
    labels = tg.arange(base.numel(), device=device).reshape(base.shape)   # row-major positions
    positions = view_positions(base.array, view.array)
    np.testing.assert_array_equal(host(tg.Tensor(positions)), host(view_of(labels)))
    np.testing.assert_array_equal(host(base).reshape(-1)[host(tg.Tensor(positions))], host(view))


def test_copy_slices_and_as_strided_gradients(device, rng):
    from tinygen.ops.indexing import AsStrided, CopySlices
    positions = tg.tensor([[4, 0], [5, 4]], device=device).array   # 4 twice: gradients add up
    base = tg.tensor(rng.standard_normal((2, 3)), dtype=tg.float64, device=device,
                     requires_grad=True)
    value = tg.tensor(rng.standard_normal((2,)), dtype=tg.float64, device=device,
                      requires_grad=True)
    assert gradgradcheck(lambda b: AsStrided.apply(b, positions), (base,))
    assert gradgradcheck(lambda b, v: CopySlices.apply(b, positions[0], v), (base, value))
    y = CopySlices.apply(base, positions[0], value)
    expected = host(base).copy()
    expected.reshape(-1)[[4, 0]] = host(value)
    np.testing.assert_array_equal(host(y), expected)


def test_gather_of_an_empty_index_or_a_0d_input():
    x = tg.arange(5.0, dtype=tg.float64, requires_grad=True)
    empty = tg.gather(x, 0, tg.zeros(2, 0, dtype=tg.uint8))   # PyTorch checks no empty index
    assert empty.shape == (2, 0) and empty.dtype == tg.float64
    scalar = tg.tensor(3.0, dtype=tg.float64, requires_grad=True)
    assert tg.gather(scalar, 0, tg.tensor([0, 0])).tolist() == [3.0, 3.0]
    assert gradcheck(lambda s: tg.gather(s, 0, tg.tensor([0, 0])), (scalar,))


def test_masked_fill_refuses_a_complex_value_for_a_real_tensor():
    mask = tg.tensor(True)
    with pytest.raises(RuntimeError, match="cannot be converted"):
        tg.zeros(2).masked_fill(mask, 1j)
    with pytest.raises(RuntimeError, match="cannot be converted"):
        tg.zeros(2, dtype=tg.int64).masked_fill(mask, tg.tensor(1 + 2j))
    np.testing.assert_array_equal(host(tg.zeros(2).masked_fill(mask, 2 + 0j)), [2.0, 2.0])
