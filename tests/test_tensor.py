"""Tensor: creation functions, dtypes, repr, conversion to Python and NumPy, to/cpu/float/double,
.data and .detach(), and in-place ops on tensors outside the graph."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, shares_memory

# Creation

@pytest.mark.parametrize("make, fill", [(tg.zeros, 0.0), (tg.ones, 1.0)])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],)], ids=["args", "tuple", "list"])
def test_zeros_and_ones(device, make, fill, size):
    t = make(*size, device=device)
    assert t.shape == (2, 3) and t.dtype == tg.float32 and t.device == device
    np.testing.assert_array_equal(host(t), np.full((2, 3), fill))


@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.empty, tg.randn, tg.rand])
def test_creation_takes_dtype_and_requires_grad(make):
    t = make(2, dtype=tg.float64, requires_grad=True)
    assert t.dtype == tg.float64 and t.requires_grad and t.is_leaf


@pytest.mark.parametrize("make", [tg.zeros, tg.ones, tg.empty, tg.randn])
def test_negative_size_is_an_error(make):
    with pytest.raises(ValueError, match=r"negative dimension in shape \(2, -1\)"):
        make(2, -1)


def test_zero_size_tensors():
    t = tg.zeros(0, 4)
    assert t.shape == (0, 4) and t.numel() == 0
    assert t.sum().item() == 0.0


@pytest.mark.parametrize("value, dtype", [
    (3, tg.int64), (2.5, tg.float32), (True, tg.bool), (np.int32(3), tg.int64),
    (np.float64(2.5), tg.float32), (tg.tensor(3), tg.int64)])
def test_full_infers_dtype_from_the_fill_value(value, dtype):
    t = tg.full((2, 2), value)
    assert t.dtype == dtype and t.tolist() == [[value] * 2] * 2
    assert tg.full((2,), value, dtype=tg.float64).dtype == tg.float64


def test_full_wraps_ints_around_small_int_dtypes():
    # as PyTorch (and a C cast): -9 as uint8 is 256 - 9, 300 as int8 is 300 - 256
    assert tg.full_like(tg.zeros(2, dtype=tg.uint8), -9).tolist() == [247, 247]
    assert tg.full((1,), 300, dtype=tg.int8).tolist() == [44]
    assert tg.scalar_tensor(-5, dtype=tg.uint8).item() == 251


@pytest.mark.parametrize("args, kwargs, values, dtype", [
    ((4,), {}, [0, 1, 2, 3], tg.int64),
    ((1, 7, 2), {}, [1, 3, 5], tg.int64),
    ((0, 1, 0.25), {}, [0, 0.25, 0.5, 0.75], tg.float32),
    ((3,), {"dtype": tg.float64}, [0, 1, 2], tg.float64),
    ((), {"end": 3}, [0, 1, 2], tg.int64),
    ((1,), {"end": 6, "step": 2}, [1, 3, 5], tg.int64),
    ((tg.tensor(3),), {}, [0, 1, 2], tg.int64),            # 0-d integer tensors count as ints
    ((np.int64(1), tg.tensor(3)), {}, [1, 2], tg.int64),
    ((tg.tensor(2.0),), {}, [0, 1], tg.float32),
    ((3, 0, -1), {}, [3, 2, 1], tg.int64),
    ((2, 2, -1), {}, [], tg.int64),
])
def test_arange(args, kwargs, values, dtype):
    t = tg.arange(*args, **kwargs)
    assert t.dtype == dtype and t.tolist() == values


@pytest.mark.parametrize("args, match", [
    ((0, 5, -1), "upper bound and lower bound inconsistent with step sign"),
    ((5, 0), "upper bound and lower bound inconsistent with step sign"),
    ((0, 5, 0), "step must be nonzero"),
    ((0, float("inf")), "unsupported range"),
], ids=["negative-step", "end-below-start", "zero-step", "infinite"])
def test_arange_errors(args, match):
    with pytest.raises(RuntimeError, match=match):
        tg.arange(*args)


def test_linspace_eye_and_likes():
    assert tg.linspace(0, 1, 5).tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert tg.linspace(tg.tensor(0), tg.tensor(1.0), 3).tolist() == [0, 0.5, 1]
    assert tg.logspace(tg.tensor(0), 2, 3, dtype=tg.int64).tolist() == [1, 10, 100]
    assert tg.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    base = tg.ones(2, 3, dtype=tg.float64)
    for like in (tg.zeros_like(base), tg.ones_like(base), tg.empty_like(base),
                 tg.full_like(base, 7.0), tg.randn_like(base), tg.rand_like(base)):
        assert like.shape == (2, 3) and like.dtype == tg.float64 and not like.requires_grad
    assert tg.full_like(base, 7.0).tolist() == [[7.0] * 3] * 2
    assert tg.zeros_like(base, dtype=tg.int64).dtype == tg.int64


def test_rand_is_in_the_unit_interval_and_randint_in_its_range():
    tg.manual_seed(0)
    r = host(tg.rand(1000))
    assert r.min() >= 0 and r.max() < 1
    k = host(tg.randint(3, 7, (1000,)))
    assert k.dtype == np.int64 and set(k.tolist()) == {3, 4, 5, 6}
    assert sorted(host(tg.randperm(6)).tolist()) == list(range(6))


@pytest.mark.parametrize("args, kwargs, low", [
    ((10, (64,)), {}, 0), ((10,), {"size": (64,)}, 0), ((3, 10, (64,)), {}, 3),
    ((3, 10), {"size": [64]}, 3), ((), {"low": 3, "high": 10, "size": (64,)}, 3),
    ((3,), {"high": 10, "size": (64,)}, 3), ((np.int64(3), tg.tensor(10), (64,)), {}, 3),
], ids=["high-size", "high-size=", "low-high-size", "size-list", "keywords", "low-keywords",
        "numpy-and-tensor-bounds"])
def test_randint_takes_pytorchs_overloads(args, kwargs, low):
    tg.manual_seed(0)
    k = tg.randint(*args, **kwargs)
    assert k.shape == (64,) and k.dtype == tg.int64
    assert low <= host(k).min() and host(k).max() < 10


def test_randint_dtype_device_and_generator(device):
    k = tg.randint(5, (3, 2), dtype=tg.float32, device=device)
    assert k.shape == (3, 2) and k.dtype == tg.float32 and k.device == device
    assert tg.randint(4, (), dtype=tg.uint8).shape == ()
    draws = [tg.randint(100, (8,), generator=np.random.default_rng(7)) for _ in range(2)]
    assert draws[0].tolist() == draws[1].tolist()


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((5, 5, (3,)), {}, RuntimeError, "low must be less than high, got low=5 >= high=5"),
    ((0, (3,)), {}, RuntimeError, "low=0 >= high=0"),
    ((2, 10), {}, TypeError, "size a tuple"),
    ((10,), {}, TypeError, "size a tuple"),
    ((0.5, 10, (3,)), {}, TypeError, "float"),
    ((0, 300, (3,)), {"dtype": tg.uint8}, RuntimeError, r"\[0, 300\) is out of range for uint8"),
], ids=["low=high", "high=0", "size-int", "no-size", "float-bound", "uint8-range"])
def test_randint_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        tg.randint(*args, **kwargs)


@pytest.mark.parametrize("make", [tg.randn, tg.rand])
def test_random_floats_in_float16_and_refused_in_int(make):
    assert make(3, dtype=tg.float16).dtype == tg.float16
    with pytest.raises(TypeError, match="floating dtype, got int64"):
        make(3, dtype=tg.int64)


@pytest.mark.parametrize("data, dtype", [
    (1.5, tg.float32), ([1.0, 2], tg.float32), (2, tg.int64), ([[1, 2]], tg.int64),
    (True, tg.bool), (np.ones(2), tg.float64), (np.ones(2, np.float32), tg.float32),
    (np.float64(1.5), tg.float64), (np.int32(3), tg.int32), (np.arange(3), tg.int64),
], ids=lambda v: type(v).__name__)
def test_tensor_infers_dtype_like_pytorch(data, dtype):
    t = tg.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.cpu().numpy(), np.asarray(data))


@pytest.mark.parametrize("data, dtype, values", [
    ([tg.tensor(1.0), tg.tensor(2.0)], tg.float32, [1.0, 2.0]),
    ([tg.tensor(1), tg.tensor(2)], tg.int64, [1, 2]),
    ([[tg.tensor(1.0), 2], [3, tg.tensor(4)]], tg.float32, [[1.0, 2.0], [3.0, 4.0]]),
    ([tg.tensor(1.0, dtype=tg.float64), tg.tensor(2.0)], tg.float64, [1.0, 2.0]),
    ([tg.tensor(1), 2.5], tg.float32, [1.0, 2.5]),
    ((tg.tensor(True), False), tg.bool, [True, False]),
    ([tg.tensor(1, dtype=tg.int32), tg.tensor(2, dtype=tg.int32)], tg.int32, [1, 2]),
    ([tg.tensor([7])], tg.int64, [7]),
    ([tg.tensor(1.0, requires_grad=True) * 2], tg.float32, [2.0]),
], ids=["floats", "ints", "nested-mixed", "f64-f32", "int-float", "tuple-bools", "int32",
        "one-element", "requires-grad"])
def test_tensor_of_a_list_of_zero_dim_tensors(data, dtype, values):
    """The dtype is PyTorch's: the items' dtypes promoted together."""
    t = tg.tensor(data)
    assert t.dtype == dtype and t.tolist() == values and t.is_leaf and not t.requires_grad


def test_tensor_of_a_list_of_zero_dim_tensors_in_a_given_dtype():
    t = tg.tensor([tg.tensor(1), 0.7], dtype=tg.float64)     # 0.7 not rounded through float32
    assert t.dtype == tg.float64 and t.tolist() == [1.0, 0.7]


def test_tensor_of_a_list_of_tensors_needs_one_element_each():
    with pytest.raises(ValueError, match=r"one-element tensors.*shape \(2,\).*tg.stack"):
        tg.tensor([tg.ones(2), tg.ones(2)])
    with pytest.raises(TypeError, match="list holding str"):
        tg.tensor([tg.tensor(1), "a"])


@pytest.mark.parametrize("make", [tg.tensor, tg.as_tensor])
@pytest.mark.parametrize("dtype", [">f4", ">i8", "<f8"])
def test_tensor_and_as_tensor_convert_to_native_byte_order(make, dtype):
    data = np.arange(4, dtype=dtype)
    t = make(data)
    assert t.dtype == np.dtype(dtype).newbyteorder("=") and t.dtype.isnative
    assert t.tolist() == [0, 1, 2, 3]


def test_from_numpy_refuses_a_non_native_byte_order():
    with pytest.raises(ValueError, match=r"byte order \(>f4\).*tg.tensor"):
        tg.from_numpy(np.arange(4, dtype=">f4"))


def test_tensor_copies_but_as_tensor_and_from_numpy_share():
    a = np.zeros(3)
    copied, shared, from_np = tg.tensor(a), tg.as_tensor(a), tg.from_numpy(a)
    a[0] = 5.0
    assert copied.tolist()[0] == 0.0
    assert shared.tolist()[0] == 5.0 and from_np.tolist()[0] == 5.0
    t = tg.ones(2)
    assert tg.as_tensor(t) is t
    assert tg.as_tensor(t, dtype=tg.float64).dtype == tg.float64


def test_tensor_of_a_tensor_is_a_new_leaf():
    x = tg.ones(2, requires_grad=True)
    y = tg.tensor(x * 2.0)
    assert y.is_leaf and not y.requires_grad and y.tolist() == [2.0, 2.0]
    assert not shares_memory(y.array, x.array)


@pytest.mark.parametrize("bad", ["text", {"a": 1}, object()])
def test_tensor_refuses_non_numeric_data(bad):
    with pytest.raises(TypeError):
        tg.tensor(bad)


def test_from_numpy_needs_an_ndarray():
    with pytest.raises(TypeError, match="numpy.ndarray"):
        tg.from_numpy([1, 2])


def test_set_default_dtype_changes_float_creation():
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.tensor(1.5).dtype == tg.float64
        assert tg.zeros(2).dtype == tg.float64 and tg.randn(2).dtype == tg.float64
        assert tg.arange(3).exp().dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)
    assert tg.zeros(2).dtype == tg.float32


def test_set_default_dtype_refuses_non_float():
    with pytest.raises(TypeError, match="floating point"):
        tg.set_default_dtype(tg.int64)
    assert tg.get_default_dtype() == tg.float32


# What a tensor is

def test_shape_properties():
    t = tg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4) and t.size(1) == 3
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.element_size() == 4 and t.is_floating_point()
    assert not tg.arange(3).is_floating_point()
    assert t.device == "cpu" and not t.is_cuda
    assert [row.shape for row in t] == [(3, 4), (3, 4)]


def test_zero_dim_tensor_has_no_length():
    with pytest.raises(TypeError, match="len"):
        len(tg.tensor(1.0))
    with pytest.raises(TypeError, match="iteration"):
        iter(tg.tensor(1.0))


@pytest.mark.parametrize("t, expected", [
    (tg.tensor([1.0, 2.5]), "tensor([1.0000, 2.5000])"),
    (tg.tensor(3.5), "tensor(3.5000)"),
    (tg.tensor([1, 2]), "tensor([1, 2])"),
    (tg.tensor([1, 2], dtype=tg.int32), "tensor([1, 2], dtype=tg.int32)"),
    (tg.tensor([1.0], dtype=tg.float64), "tensor([1.], dtype=tg.float64)"),
    (tg.zeros(0), "tensor([])"),
    (tg.ones(2, requires_grad=True), "tensor([1., 1.], requires_grad=True)"),
    (tg.ones(2, requires_grad=True) * 2.0, "tensor([2., 2.], grad_fn=<MulBackward>)"),
], ids=["float", "0-d", "int64", "int32", "float64", "empty", "leaf", "non-leaf"])
def test_repr(t, expected):
    assert repr(t) == expected


def test_repr_of_a_matrix_aligns_rows():
    assert repr(tg.tensor([[1.0, 2.0], [3.0, 4.0]])) == ("tensor([[1., 2.],\n"
                                                         "        [3., 4.]])")


# To and from Python and NumPy

@pytest.mark.parametrize("t, value, kind", [
    (tg.tensor(2.5), 2.5, float), (tg.tensor([7]), 7, int), (tg.tensor([[True]]), True, bool),
], ids=["float", "int", "bool"])
def test_item_gives_a_python_number(t, value, kind):
    assert t.item() == value and type(t.item()) is kind


def test_item_of_several_elements_is_an_error():
    with pytest.raises(RuntimeError, match="4 elements.*exactly one"):
        tg.zeros(2, 2).item()


def test_python_conversions():
    t = tg.tensor(2.75)
    assert float(t) == 2.75 and int(t) == 2 and bool(t)
    assert [10, 20, 30][tg.tensor(1)] == 20
    with pytest.raises(TypeError, match="integer"):
        [10, 20][tg.tensor(1.0)]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tg.ones(2))


def test_numpy_shares_memory():
    t = tg.zeros(3)
    a = t.numpy()
    a[1] = 4.0
    assert t.tolist() == [0.0, 4.0, 0.0]


def test_numpy_of_a_tensor_that_requires_grad_points_to_detach():
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        (x * 2.0).numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_tolist_is_nested_python():
    values = tg.tensor([[1.5, 2.0], [3.0, 4.0]]).tolist()
    assert values == [[1.5, 2.0], [3.0, 4.0]] and type(values[0][0]) is float
    assert tg.tensor(3).tolist() == 3


# Moving and casting

def test_to_the_same_place_returns_the_tensor_itself():
    t = tg.ones(2)
    assert t.to("cpu") is t and t.cpu() is t and t.float() is t and t.to(tg.float32) is t
    assert t.to(device="cpu", dtype=tg.float32) is t and t.to(tg.ones(1)) is t


@pytest.mark.parametrize("convert, dtype", [
    (lambda t: t.double(), tg.float64), (lambda t: t.half(), tg.float16),
    (lambda t: t.long(), tg.int64), (lambda t: t.int(), tg.int32), (lambda t: t.bool(), tg.bool),
    (lambda t: t.to(tg.float64), tg.float64),
    (lambda t: t.to("cpu", tg.float64), tg.float64), (lambda t: t.to(dtype=tg.int64), tg.int64),
    (lambda t: t.type_as(tg.zeros(1, dtype=tg.float64)), tg.float64),
    (lambda t: t.to(tg.zeros(1, dtype=tg.int32)), tg.int32),
], ids=["double", "half", "long", "int", "bool", "to-dtype", "to-both", "to-kw",
        "type_as", "to-tensor"])
def test_casts(convert, dtype):
    t = tg.tensor([1.5, -2.0, 0.0])
    out = convert(t)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.cpu().numpy(), np.array([1.5, -2.0, 0.0]).astype(dtype))
    assert t.dtype == tg.float32                    # out of place


def test_cast_is_differentiable_and_casts_the_gradient_back():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.grad_fn.name() == "CastBackward"
    (y * y).sum().backward()
    assert x.grad.dtype == tg.float32 and x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("convert", [
    lambda t: t.long(), lambda t: t.int(), lambda t: t.bool(), lambda t: t.to(tg.int64),
    lambda t: t.type(tg.int32), lambda t: t.type_as(tg.zeros(1, dtype=tg.int64)),
], ids=["long", "int", "bool", "to", "type", "type_as"])
def test_casting_to_an_integer_or_bool_leaves_the_graph(convert):
    """As in PyTorch: integers have no gradient, so the result neither requires one nor keeps
    a grad_fn, and .numpy() works on it."""
    x = tg.tensor([1.5, -2.0], requires_grad=True)
    for source in (x, x * 2):
        out = convert(source)
        assert not out.requires_grad and out.grad_fn is None and out.is_leaf
        assert out.numpy().tolist() == np.array(host(source)).astype(out.dtype).tolist()


def test_to_with_unknown_arguments_is_an_error():
    with pytest.raises(TypeError, match="copy"):
        tg.ones(2).to(tg.float64, copy=True)


def test_float_of_an_int_tensor():
    t = tg.arange(3).float()
    assert t.dtype == tg.float32 and t.tolist() == [0.0, 1.0, 2.0]


# .data and .detach()

def test_data_shares_memory_outside_the_graph():
    x = tg.ones(3, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[0] = 5.0
    assert x.detach().tolist() == [5.0, 1.0, 1.0]


def test_data_view_and_data_assignment():
    p = tg.zeros(2, 3, requires_grad=True)
    assert p.data.view(6).shape == (6,)
    p.data = tg.ones(3, 2)
    assert p.shape == (3, 2) and p.requires_grad and p.detach().tolist() == [[1.0] * 2] * 3
    p.data = np.full(2, 4.0)                       # a raw array works too
    assert p.detach().tolist() == [4.0, 4.0]


@pytest.mark.parametrize("grad, error, match", [
    (tg.zeros(3, 2, dtype=tg.float64), RuntimeError,
     r"^assigned grad has data of a different size: .*\(3, 2\).*\(2, 3\)"),
    (tg.zeros(2, 3), RuntimeError,
     r"^assigned grad has data of a different type: .*float32.*float64"),
    (np.zeros((2, 3)), TypeError,
     "^assigned grad expected to be a Tensor or None but got grad of type ndarray"),
    (0.0, TypeError, "but got grad of type float"),
], ids=["shape", "dtype", "array", "number"])
def test_assigning_a_grad_that_does_not_fit_is_an_error(grad, error, match):
    x = tg.zeros(2, 3, dtype=tg.float64, requires_grad=True)
    with pytest.raises(error, match=match):
        x.grad = grad
    assert x.grad is None
    x.grad = tg.ones(2, 3, dtype=tg.float64)
    assert x.grad.tolist() == [[1.0] * 3] * 2
    x.grad = None
    assert x.grad is None


def test_assigning_a_grad_that_does_not_fit_matches_torch():
    torch = pytest.importorskip("torch")
    x = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    for grad, error in [(torch.zeros(3, 2, dtype=torch.float64), RuntimeError),
                        (torch.zeros(2, 3), RuntimeError), (np.zeros((2, 3)), TypeError)]:
        with pytest.raises(error):
            x.grad = grad


@pytest.mark.cuda
def test_assigning_a_grad_on_another_device_is_an_error():
    if not tg.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    x = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="assigned grad has data located on a different "
                                           "device: a gradient on cuda:0 for a tensor on cpu"):
        x.grad = tg.zeros(3, device="cuda")


def test_detach_shares_memory_and_version_counter():
    x = tg.ones(3, requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert shares_memory(d.array, y.array)
    version = y._version
    d.add_(1.0)
    assert y._version == version + 1 and y.detach().tolist() == [3.0] * 3


def test_detach_in_place():
    x = tg.ones(3, requires_grad=True)
    y = x * 2.0
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad
    with pytest.raises(RuntimeError, match=r"Can't detach views in-place. Use detach\(\)"):
        y[1:].detach_()                           # any view, as in PyTorch


def test_clone_copies_and_keeps_the_gradient_flowing():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not shares_memory(c.array, x.array)
    (c * c).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


# In-place ops on tensors outside the graph

@pytest.mark.parametrize("op, expected", [
    (lambda t: t.add_(2.0), [3.0, 4.0, 5.0]),
    (lambda t: t.add_(tg.ones(3), alpha=3), [4.0, 5.0, 6.0]),
    (lambda t: t.sub_(1.0), [0.0, 1.0, 2.0]),
    (lambda t: t.sub_(tg.ones(3), alpha=2), [-1.0, 0.0, 1.0]),
    (lambda t: t.mul_(tg.tensor([1.0, 0.0, -1.0])), [1.0, 0.0, -3.0]),
    (lambda t: t.div_(2.0), [0.5, 1.0, 1.5]),
    (lambda t: t.pow_(2), [1.0, 4.0, 9.0]),
    (lambda t: t.clamp_(min=1.5, max=2.5), [1.5, 2.0, 2.5]),
    (lambda t: t.copy_(tg.tensor(7)), [7.0, 7.0, 7.0]),          # broadcast and cast
    (lambda t: t.zero_(), [0.0, 0.0, 0.0]),
    (lambda t: t.fill_(-1.0), [-1.0, -1.0, -1.0]),
    (lambda t: t.__iadd__(1.0), [2.0, 3.0, 4.0]),
    (lambda t: t.__isub__(1.0), [0.0, 1.0, 2.0]),
    (lambda t: t.__imul__(2.0), [2.0, 4.0, 6.0]),
    (lambda t: t.__itruediv__(4.0), [0.25, 0.5, 0.75]),
], ids=["add_", "add_alpha", "sub_", "sub_alpha", "mul_", "div_", "pow_", "clamp_", "copy_",
        "zero_", "fill_", "+=", "-=", "*=", "/="])
def test_in_place_ops_write_into_the_same_array(op, expected):
    t = tg.tensor([1.0, 2.0, 3.0])
    array, version = t.array, t._version
    assert op(t) is t
    assert t.array is array and t.tolist() == expected
    assert t._version == version + 1


@pytest.mark.parametrize("index, value, expected", [
    (1, 9.0, [0, 9, 0, 0]),
    (slice(1, 3), tg.tensor([5.0, 6.0]), [0, 5, 6, 0]),
    ([0, 3], 2.0, [2, 0, 0, 2]),
    (tg.tensor([True, False, True, False]), -1.0, [-1, 0, -1, 0]),
    (tg.tensor([3]), tg.tensor([8.0]), [0, 0, 0, 8]),
], ids=["int", "slice", "list", "mask", "int-tensor"])
def test_setitem(index, value, expected):
    t = tg.zeros(4)
    t[index] = value
    assert t.tolist() == expected


def test_in_place_through_a_view_changes_the_base():
    t = tg.zeros(2, 3)
    t[1].add_(1.0)
    t.view(6)[0:2].fill_(4.0)
    assert t.tolist() == [[4.0, 4.0, 0.0], [1.0, 1.0, 1.0]]


def test_in_place_result_must_fit_the_tensor():
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\) doesn't match the "
                                           r"broadcast shape \(2, 3\)"):
        tg.zeros(3).add_(tg.ones(2, 3))
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired "
                                           "output type int64"):
        tg.zeros(3, dtype=tg.int64).add_(0.5)
    with pytest.raises(RuntimeError, match="clamp_: result type float32 can't be cast to the "
                                           "desired output type int64"):
        tg.tensor([1, 2, 3]).clamp_(min=1.5)
    t = tg.tensor([1, 2, 3])
    assert t.clamp_(min=2) is t and t.tolist() == [2, 2, 3]


def test_is_contiguous_and_contiguous():
    x = tg.randn(3, 4)
    assert x.is_contiguous() and x.contiguous() is x
    t = x.T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.tolist() == t.tolist()


def test_contiguous_copy_stays_in_the_graph():
    x = tg.randn(3, 4, dtype=tg.float64, requires_grad=True)
    y = x.T.contiguous()
    y.backward(tg.ones(4, 3, dtype=tg.float64))
    assert x.grad.tolist() == np.ones((3, 4)).tolist()


@pytest.mark.parametrize("dtype, name", [(tg.float32, "FloatTensor"), (tg.float64, "DoubleTensor"),
                                         (tg.int64, "LongTensor"), (tg.bool, "BoolTensor")])
def test_type_names_and_conversion(dtype, name):
    x = tg.zeros(2, dtype=dtype)
    assert x.type() == f"tinygen.{name}"
    assert tg.zeros(2).type(dtype).dtype == dtype
    assert tg.zeros(2).type(f"tinygen.{name}").dtype == dtype


def test_new_full_zeros_ones_tensor_keep_dtype_and_device():
    x = tg.zeros(2, dtype=tg.float64)
    for t in (x.new_full((2, 3), 1.5), x.new_zeros(2, 3), x.new_ones((2, 3))):
        assert t.shape == (2, 3) and t.dtype == tg.float64 and t.device == x.device
    assert x.new_full((2,), 1.5).tolist() == [1.5, 1.5]
    assert x.new_tensor([1, 2]).dtype == tg.float64
    made = x.new_zeros((2,), dtype=tg.int32, device="cpu", requires_grad=False)
    assert made.dtype == tg.int32 and made.tolist() == [0, 0]
    assert x.new_ones(1, dtype=tg.float32, requires_grad=True).requires_grad
    assert x.new_full((1,), 2, dtype=tg.int64).tolist() == [2]


@pytest.mark.parametrize("method, args, expected", [
    ("gt", (2.0,), [False, False, True]), ("ge", (2.0,), [False, True, True]),
    ("lt", (2.0,), [True, False, False]), ("le", (2.0,), [True, True, False]),
    ("ne", (2.0,), [True, False, True]), ("isinf", (), [False, False, False]),
    ("logical_not", (), [False, False, False]), ("logical_and", (0,), [False, False, False]),
    ("logical_or", (0,), [True, True, True]), ("logical_xor", (1,), [False, False, False]),
    ("floor_divide", (2,), [0.0, 1.0, 1.0]), ("nonzero", (), [[0], [1], [2]])])
def test_not_differentiable_methods_leave_the_graph(method, args, expected):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = getattr(x, method)(*args)
    assert not y.requires_grad and y.tolist() == expected


@pytest.mark.parametrize("method, args, expected", [
    ("remainder", (2.0,), [1.0, 0.0, 1.0]), ("fmod", (-2.0,), [1.0, 0.0, 1.0]),
    ("div", (2.0, "floor"), [0.0, 1.0, 1.0]), ("div", (2.0, "trunc"), [0.0, 1.0, 1.0])])
def test_differentiable_rounding_methods(method, args, expected):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = getattr(x, method)(*args)
    assert y.requires_grad and y.tolist() == expected
