"""nonzero_static, new_empty_strided, as_subclass and dim_order: closed forms and PyTorch."""

import numpy as np
import pytest

import tinygen as tg

VALUES = [[0, 1, 0], [2, 0, 3]]


@pytest.mark.parametrize("size, fill_value", [(5, -1), (3, 7), (1, -1), (0, -1)])
def test_nonzero_static(size, fill_value):
    x = tg.tensor(VALUES)
    out = tg.nonzero_static(x, size=size, fill_value=fill_value)
    found = np.argwhere(np.array(VALUES))[:size]
    expected = np.full((size, 2), fill_value)
    expected[:len(found)] = found
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(x.nonzero_static(size=size, fill_value=fill_value).numpy(),
                                  expected)
    torch = pytest.importorskip("torch")
    theirs = torch.nonzero_static(torch.tensor(VALUES), size=size, fill_value=fill_value)
    np.testing.assert_array_equal(out.numpy(), theirs.numpy())


def test_nonzero_static_zero_dim_and_errors():
    assert tuple(tg.nonzero_static(tg.tensor(3.0), size=2).shape) == (2, 0)
    assert tuple(tg.tensor([0.0, 1.5]).nonzero_static(size=2).shape) == (2, 1)
    with pytest.raises(RuntimeError, match="'size' must be an non-negative integer"):
        tg.nonzero_static(tg.tensor(VALUES), size=-1)
    with pytest.raises(TypeError):
        tg.nonzero_static(tg.tensor(VALUES), 2)             # size is keyword-only, as in torch


def test_new_empty_strided():
    x = tg.zeros(2, dtype=tg.float64)
    out = x.new_empty_strided((2, 3), (1, 2))
    assert tuple(out.shape) == (2, 3) and out.stride() == (1, 2) and out.dtype == tg.float64
    other = x.new_empty_strided((4,), (1,), dtype=tg.int32, requires_grad=False)
    assert other.dtype == tg.int32 and not other.requires_grad
    assert x.new_empty_strided((2, 2), (2, 1), requires_grad=True).requires_grad
    torch = pytest.importorskip("torch")
    theirs = torch.zeros(2, dtype=torch.float64).new_empty_strided((2, 3), (1, 2))
    assert theirs.stride() == out.stride() and tuple(theirs.shape) == tuple(out.shape)


class Marked(tg.Tensor):
    """A Tensor subclass with a method of its own."""

    def double_it(self):
        return self * 2


def test_as_subclass_shares_memory_and_graph():
    a = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    b = a.as_subclass(Marked)
    assert type(b) is Marked and isinstance(b, tg.Tensor)
    assert b.data_ptr() == a.data_ptr() and b.requires_grad and not b.is_leaf
    np.testing.assert_array_equal(b.double_it().detach().numpy(), [2.0, 4.0, 6.0])
    (b * tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0, 3.0])
    plain = tg.zeros(2)
    alias = plain.as_subclass(Marked)
    alias.add_(1)                                           # written through to the original
    np.testing.assert_array_equal(plain.numpy(), [1.0, 1.0])
    assert alias.is_leaf and not alias.requires_grad
    assert tg.autograd.gradcheck(lambda t: t.as_subclass(Marked).double_it() ** 2, (a,))
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        a.as_subclass(int)


def layouts(lib):
    base = lib.zeros(2, 3, 4, 5)
    return [base, base.permute(0, 2, 3, 1), base.transpose(1, 3), base.permute(3, 2, 1, 0),
            base[:, :, 1:3], lib.zeros(3, 4).T, lib.zeros(2, 1, 4), lib.zeros(3, 1).expand(3, 4),
            lib.zeros(4), lib.zeros(())]


def test_dim_order_closed_forms():
    found = [t.dim_order() for t in layouts(tg)]
    assert found[0] == (0, 1, 2, 3)
    assert found[1] == (0, 3, 1, 2)                         # the permute's inverse
    assert found[2] == (0, 3, 2, 1)
    assert found[3] == (3, 2, 1, 0)
    assert found[5] == (1, 0)
    assert found[9] == ()
    assert tg.zeros(2, 3).dim_order(ambiguity_check=True) == (0, 1)
    with pytest.raises(RuntimeError, match="does not have unique dim order"):
        tg.zeros(2, 1, 4).dim_order(ambiguity_check=True)
    with pytest.raises(TypeError, match="must be a bool or a list of memory formats"):
        tg.zeros(2, 3).dim_order(ambiguity_check="ILLEGAL")


def test_dim_order_matches_torch():
    """The orders themselves; the ambiguity check is pinned by closed forms above (torch's own
    check changes with torch's global state: after some torch models have run in the same
    process it stops refusing size-1 dims)."""
    torch = pytest.importorskip("torch")
    for mine, theirs in zip(layouts(tg), layouts(torch)):
        assert mine.stride() == theirs.stride()
        assert mine.dim_order() == theirs.dim_order()
