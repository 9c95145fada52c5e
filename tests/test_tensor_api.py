"""The PyTorch Tensor/top-level API surface: legacy constructors, seeding, in-place shape
methods, memory queries, hooks, and the top-level functional re-exports."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import gradcheck


def test_legacy_constructor_sizes_and_data():
    assert tg.Tensor([1, 2]).dtype == tg.float32 and tg.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert tg.Tensor(2, 3).shape == (2, 3) and tg.Tensor(2, 3).dtype == tg.float32
    assert tg.Tensor(2).shape == (2,) and tg.Tensor().shape == (0,)
    assert tg.Tensor((2, 3)).tolist() == [2.0, 3.0]                 # a tuple is data
    with pytest.raises(TypeError):
        tg.Tensor(2.5)
    with pytest.raises(RuntimeError):
        tg.Tensor(-1)
    array = np.arange(3)
    assert tg.Tensor(array).array is array                          # wrapped, unchanged
    assert tg.Tensor(np.array([1.0]), requires_grad=True).requires_grad


def test_typed_constructors():
    assert tg.LongTensor([1.5, 2]).tolist() == [1, 2] and tg.LongTensor(2, 3).dtype == tg.int64
    assert tg.BoolTensor(2).dtype == tg.bool and tg.DoubleTensor([1]).dtype == tg.float64
    for name, dtype in [("FloatTensor", "float32"), ("IntTensor", "int32"),
                        ("HalfTensor", "float16"), ("ByteTensor", "uint8")]:
        assert str(getattr(tg, name)([1]).dtype) == dtype
    assert tg.FloatTensor(2, 2).type() == "tinygen.FloatTensor"


def test_legacy_constructors_match_torch():
    torch = pytest.importorskip("torch")
    for args in [([1, 2],), (2, 3), ((2, 3),), ([[1, 2], [3, 4]],)]:
        ours, theirs = tg.Tensor(*args), torch.Tensor(*args)
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) in str(theirs.dtype)
    np.testing.assert_array_equal(tg.LongTensor([1.5, 2]).numpy(),
                                  torch.LongTensor([1.5, 2]).numpy())


def test_manual_seed_returns_default_generator():
    assert tg.manual_seed(7) is tg.default_generator and tg.initial_seed() == 7
    a = tg.randn(3)
    tg.manual_seed(7)
    assert tg.randn(3).tolist() == a.tolist()
    s = tg.seed()
    assert isinstance(s, int) and tg.initial_seed() == s


def test_in_place_shape_methods():
    x = tg.arange(6.0).reshape(1, 2, 3)
    assert x.squeeze_() is x and x.shape == (2, 3)
    assert x.unsqueeze_(0).shape == (1, 2, 3) and x.squeeze_(0).t_().shape == (3, 2)
    assert x.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert x.transpose_(0, 1).swapaxes_(0, 1).swapdims_(0, 1).shape == (2, 3)
    leaf = tg.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.t_()


def test_in_place_shape_in_graph_gradient():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x * 2
    y.t_()
    assert y.shape == (3, 2)
    (y * tg.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.arange(6.0).reshape(3, 2).T)


def test_resize():
    x = tg.arange(6.0)
    assert x.resize_(2, 2).tolist() == [[0, 1], [2, 3]]
    assert x.resize_(3, 2).tolist() == [[0, 1], [2, 3], [0, 0]]
    assert x.resize_as_(tg.zeros(2)).tolist() == [0, 1]
    version = x._version
    assert x.resize_(2) is x and x._version == version      # no change, no new version
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        tg.zeros(2, requires_grad=True).resize_(3)


def test_as_strided():
    x = tg.arange(6.0)
    y = x.as_strided((2, 2), (1, 2), 1)
    assert y.tolist() == [[1, 3], [2, 4]]
    with pytest.raises(RuntimeError):
        x.as_strided((3,), (3,))
    w = tg.tensor(np.arange(6.0), dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda t: t.as_strided((2, 2), (1, 2), 1), (w,))


def test_memory_queries():
    x = tg.arange(12.0).reshape(3, 4)
    assert x.stride() == (4, 1) and x.t().stride() == (1, 4) and x.stride(0) == 4
    assert x[1:, 2:].storage_offset() == 6 and x.storage_offset() == 0
    assert x[1:].data_ptr() == x.data_ptr() + 16
    assert x.nbytes == 48 and x.itemsize == 4 and x.get_device() == -1 and x.is_cpu
    assert not x.is_complex() and x.is_signed() and not tg.zeros(1, dtype=tg.uint8).is_signed()
    assert x.is_same_size(tg.zeros(3, 4)) and not x.is_inference()
    assert tg.tensor([2.0]).is_nonzero() and not tg.tensor([0]).is_nonzero()
    for bad in (tg.zeros(0), tg.zeros(2)):
        with pytest.raises(RuntimeError, match="ambiguous"):
            bad.is_nonzero()


def test_small_methods():
    x = tg.arange(6.0).reshape(2, 3)
    assert x.new_empty(2, 1).shape == (2, 1) and x.new_empty(2).dtype == tg.float32
    assert x.narrow_copy(1, 1, 2).tolist() == [[1, 2], [4, 5]]
    assert x.sum_to_size(1, 3).tolist() == [[3, 5, 7]] and x.sum_to_size(2, 1).shape == (2, 1)
    with pytest.raises(RuntimeError, match="expandable"):
        x.sum_to_size(2)
    flags = tg.tensor([[True, False, True]])           # a sum of bools counts, in int64
    assert flags.sum_to_size(1, 1).dtype == tg.int64 and flags.sum_to_size(1, 3) is flags
    assert tg.tensor(True).sum_to_size(()).dtype == tg.int64
    assert x.broadcast_to((2, 2, 3)).shape == (2, 2, 3) and x.positive() is x
    assert x.byte().dtype == tg.uint8 and str(x.char().dtype) == "int8"
    assert str(x.short().dtype) == "int16"


def test_shifts_and_frexp():
    a = tg.tensor([1, 2, 8])
    assert (a << 2).tolist() == [4, 8, 32] and (a >> 1).tolist() == [0, 1, 4]
    assert tg.bitwise_left_shift(a, tg.tensor([1, 0, 2])).tolist() == [2, 2, 32]
    assert (a << 1).dtype == tg.int64 and a.bitwise_right_shift(3).tolist() == [0, 0, 1]
    m, e = tg.frexp(tg.tensor([8.0, 0.3, 0.0]))
    assert e.dtype == tg.int32 and e.tolist() == [4, -1, 0]
    np.testing.assert_allclose(m.numpy() * 2.0 ** e.numpy(), [8.0, 0.3, 0.0], rtol=1e-6)
    with pytest.raises(RuntimeError):
        tg.tensor([1.0]) << 1


def test_retains_grad_and_post_accumulate_hook():
    w = tg.ones(2, requires_grad=True)
    y = w * 3
    assert not y.retains_grad and not w.retains_grad
    y.retain_grad()
    assert y.retains_grad
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    y.sum().backward()
    (w * 2).sum().backward()
    assert seen == [[3.0, 3.0], [5.0, 5.0]]                       # after each accumulation
    handle.remove()
    (w * 2).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.register_post_accumulate_grad_hook(print)


def test_index_reduce():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    src = tg.tensor([[2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    idx = tg.tensor([0, 0, 2])
    assert x.index_reduce(0, idx, src, "prod").tolist() == [[6, 12], [3, 4], [20, 24]]
    assert x.index_reduce(0, idx, src, "prod", include_self=False).tolist() == [
        [6, 6], [3, 4], [4, 4]]
    np.testing.assert_allclose(x.index_reduce(0, idx, src, "mean").numpy(),
                               [[2, 7 / 3], [3, 4], [4.5, 5]], rtol=1e-6)
    assert x.index_reduce(0, idx, src, "amax").tolist() == [[3, 3], [3, 4], [5, 6]]
    assert x.index_reduce(0, idx, src, "amin", include_self=False).tolist() == [
        [2, 2], [3, 4], [4, 4]]
    x.requires_grad_().index_reduce(0, idx, src, "mean").sum().backward()   # it has one now
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 3] * 2, [1] * 2, [1 / 2] * 2], rtol=1e-6)


def test_index_reduce_matches_torch():
    torch = pytest.importorskip("torch")
    x, src = np.random.default_rng(0).normal(size=(2, 4, 3, 3))
    idx = np.array([1, 0, 1])
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            ours = tg.tensor(x).index_reduce(1, tg.tensor(idx), tg.tensor(src), reduce,
                                             include_self=include_self)
            theirs = torch.tensor(x).index_reduce(1, torch.tensor(idx), torch.tensor(src),
                                                  reduce, include_self=include_self)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_typed_constructor_takes_numpy_int_as_a_size():
    """NumPy 2 gives its scalars ``__array_namespace__``; an np.int64 is still a size."""
    assert tg.DoubleTensor(np.int64(3)).shape == (3,)
    assert tg.LongTensor(np.int32(2), 2).shape == (2, 2)


def test_resize_of_transposed_tensor_keeps_memory_order():
    """As PyTorch, resize_ keeps the storage's order, not the transposed view's."""
    x = tg.arange(6.0).reshape(2, 3).t()
    assert x.resize_(2, 2).tolist() == [[0, 1], [2, 3]]


def test_top_level_losses_are_unreduced_by_default():
    """torch.kl_div & co. (ATen's int-reduction forms) give 'none' when reduction is left out
    (PyTorch 2.x at run time); 1 is the mean, 2 the sum."""
    rng = np.random.default_rng(0)
    a, b = tg.tensor(rng.standard_normal((3, 4))), tg.tensor(rng.uniform(0.1, 1, (3, 4)))
    sign, y = tg.tensor(np.sign(rng.standard_normal((3, 4)))), tg.tensor([1.0, -1.0, 1.0])
    calls = {"kl_div": lambda r: tg.kl_div(a, b, *r),
             "margin_ranking_loss": lambda r: tg.margin_ranking_loss(a, b, sign, 0.0, *r),
             "hinge_embedding_loss": lambda r: tg.hinge_embedding_loss(a, sign, 1.0, *r),
             "cosine_embedding_loss": lambda r: tg.cosine_embedding_loss(a, b, y, 0.0, *r),
             "triplet_margin_loss": lambda r: tg.triplet_margin_loss(a, b, a * 2, 1.0, 2, 1e-6,
                                                                     False, *r)}
    for name, call in calls.items():
        plain, none = call(()), call((0,))
        np.testing.assert_array_equal(plain.numpy(), none.numpy(), err_msg=name)
        assert plain.ndim >= 1, name
        np.testing.assert_allclose(call((1,)).numpy(), none.numpy().mean(), err_msg=name)
        np.testing.assert_allclose(call((2,)).numpy(), none.numpy().sum(), err_msg=name)


def test_top_level_losses_default_reduction_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((3, 4))
    b = np.abs(a[::-1]) + 0.1
    ref = torch.kl_div(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(tg.kl_div(tg.tensor(a), tg.tensor(b)).numpy(), ref.numpy())


@pytest.mark.parametrize("name, other, expected", [
    ("__ipow__", 2, [25, 36]), ("__imod__", 4, [1, 2]), ("__ifloordiv__", 4, [1, 1]),
    ("__iand__", 3, [1, 2]), ("__ior__", 1, [5, 7]), ("__ixor__", 1, [4, 7]),
    ("__ilshift__", 1, [10, 12]), ("__irshift__", 1, [2, 3])])
def test_augmented_assignments_write_in_place(name, other, expected):
    x = tg.tensor([5, 6])
    view = x[:1]
    assert getattr(x, name)(other) is x and x.tolist() == expected and x._version == 1
    assert view.tolist() == expected[:1]                         # the memory itself changed
    with pytest.raises(RuntimeError, match="broadcast shape"):   # growing x is refused
        getattr(tg.tensor([5, 6]), name)(tg.tensor([[1], [2]]))
