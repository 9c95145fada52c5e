"""allclose and equal: Python bools with PyTorch's tolerances, broadcasting and shape rules;
nonzero and where(condition); the bitwise, logical and comparison ops, outside the graph.
(clamp, maximum, minimum and where's gradients: test_elementwise.py.)"""

import operator

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host


def test_allclose_uses_rtol_and_atol(device):
    x = tg.tensor([1.0, 100.0], dtype=tg.float64, device=device)
    assert tg.allclose(x, x + 1e-9) is True
    assert x.allclose(x * (1 + 1e-6)) is True                # within rtol=1e-5
    assert x.allclose(x * (1 + 1e-4)) is False
    assert x.allclose(x + 0.5, atol=0.6) is True
    assert tg.allclose(x, 1.0) is False
    assert tg.allclose(tg.ones(2, 3, device=device), tg.ones(3, device=device)) is True


def test_allclose_nan(device):
    x = tg.tensor([1.0, float("nan")], device=device)
    assert x.allclose(x) is False
    assert x.allclose(x, equal_nan=True) is True


def test_equal_needs_same_shape_and_values(device):
    x = tg.tensor([[1, 2], [3, 4]], device=device)
    assert tg.equal(x, x.clone()) is True
    assert x.equal(x.float()) is True                        # values compare after promotion
    assert x.equal(tg.tensor([[1, 2], [3, 5]], device=device)) is False
    assert x.equal(tg.tensor([1, 2, 3, 4], device=device)) is False
    assert tg.equal(tg.ones(1, 2), tg.ones(2)) is False      # no broadcasting


def test_matches_torch():
    torch = pytest.importorskip("torch")
    a, b = [1.0, 2.0, 3.0], [1.0, 2.00002, 3.0]
    assert tg.allclose(tg.tensor(a), tg.tensor(b)) == torch.allclose(torch.tensor(a),
                                                                     torch.tensor(b))
    assert tg.equal(tg.tensor(a), tg.tensor(b)) == torch.equal(torch.tensor(a), torch.tensor(b))


def test_nonzero_rows_and_tuples(device):
    x = tg.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], device=device, requires_grad=True)
    rows = x.nonzero()
    assert rows.dtype == tg.int64 and not rows.requires_grad
    assert rows.tolist() == [[0, 1], [1, 0], [1, 2]]
    rows_of, cols = tg.nonzero(x, as_tuple=True)
    assert rows_of.tolist() == [0, 1, 1] and cols.tolist() == [1, 0, 2]
    assert [t.tolist() for t in tg.where(x != 0)] == [[0, 1, 1], [1, 0, 2]]
    assert tg.nonzero(tg.zeros(2, 3, device=device)).shape == (0, 2)


def test_nonzero_of_a_scalar_is_as_pytorch(device):
    assert tg.nonzero(tg.tensor(5, device=device)).shape == (1, 0)
    assert tg.nonzero(tg.tensor(0, device=device)).shape == (0, 0)
    assert [t.tolist() for t in tg.tensor(5, device=device).nonzero(as_tuple=True)] == [[0]]


def test_where_needs_both_branches_or_neither():
    with pytest.raises(TypeError, match="where"):
        tg.where(tg.ones(2) > 0, tg.ones(2))


def test_where_needs_a_bool_condition():
    """An int 0/1 condition is refused, as PyTorch: a float one would otherwise pass silently."""
    with pytest.raises(RuntimeError, match="condition to be a boolean tensor.*int64"):
        tg.where(tg.tensor([0, 1]), tg.ones(2), tg.zeros(2))


def test_where_of_numpy_scalars_is_the_default_float():
    y = tg.where(tg.tensor([True, False]), np.float64(1.5), np.float64(0.0))
    assert y.dtype == tg.float32 and y.tolist() == [1.5, 0.0]


BITWISE = [("bitwise_and", operator.and_, [1, 4, 0]), ("bitwise_or", operator.or_, [3, 5, -1]),
           ("bitwise_xor", operator.xor, [2, 1, -1])]


@pytest.mark.parametrize("name, operator_, expected", BITWISE, ids=[b[0] for b in BITWISE])
def test_bitwise_ops_on_integers(name, operator_, expected, device):
    a, b = tg.tensor([3, 5, -1], device=device), tg.tensor([1, 4, 0], device=device)
    for y in (getattr(tg, name)(a, b), getattr(a, name)(b), operator_(a, b)):
        assert y.dtype == tg.int64 and y.tolist() == expected
    small = tg.tensor([3, 5, -1], dtype=tg.int32, device=device)
    assert operator_(small, 6).dtype == tg.int32
    assert operator_(small, 6).tolist() == operator_(np.int32([3, 5, -1]), 6).tolist()
    assert operator_(6, small).tolist() == operator_(6, np.int32([3, 5, -1])).tolist()


def test_bitwise_not_on_integers_and_bools(device):
    assert (~tg.tensor([1, 0, 5], device=device)).tolist() == [-2, -1, -6]
    assert tg.bitwise_not(tg.tensor([True, False], device=device)).tolist() == [False, True]
    assert tg.tensor([0], dtype=tg.uint8, device=device).bitwise_not().tolist() == [255]


def test_bitwise_ops_on_bools_are_logical(device):
    p, q = tg.tensor([True, True, False], device=device), tg.tensor([True, False, False],
                                                                     device=device)
    for y, expected in [(p & q, [True, False, False]), (p | q, [True, True, False]),
                        (p ^ q, [False, True, False]), (~p, [False, False, True]),
                        (True & q, [True, False, False]), (p ^ True, [False, False, True])]:
        assert y.dtype == tg.bool and y.tolist() == expected
    assert (p & 1).dtype == tg.int64 and (p & 1).tolist() == [1, 1, 0]     # promoted, as PyTorch


@pytest.mark.parametrize("op", [operator.invert, lambda x: x & x, lambda x: x | 1,
                                lambda x: 1 ^ x, lambda x: tg.tensor([3], device=x.device) & 1.5],
                         ids=["~", "&", "|", "^ reflected", "int & float"])
def test_bitwise_ops_refuse_floats(op, device):
    with pytest.raises(TypeError, match="only implemented on integer and bool tensors"):
        op(tg.tensor([1.5], device=device))


LOGICAL = [("logical_and", [False, False, True, False]), ("logical_or", [True, False, True, True]),
           ("logical_xor", [True, False, False, True])]


@pytest.mark.parametrize("name, expected", LOGICAL, ids=[c[0] for c in LOGICAL])
def test_logical_ops_treat_nonzero_as_true(name, expected, device):
    a = tg.tensor([1.5, 0.0, -2.0, 0.0], device=device, requires_grad=True)
    b = tg.tensor([0, 0, 3, 7], device=device)
    for y in (getattr(tg, name)(a, b), getattr(a, name)(b)):
        assert y.dtype == tg.bool and not y.requires_grad and y.tolist() == expected
    assert a.logical_not().tolist() == [False, True, False, True]


@pytest.mark.parametrize("name, ref", [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                                       ("le", np.less_equal), ("gt", np.greater),
                                       ("ge", np.greater_equal)])
def test_comparison_methods(name, ref, device):
    x = tg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    for other in (2.0, tg.tensor([3.0, 2.0, 1.0], device=device)):
        y = getattr(x, name)(other)
        assert y.dtype == tg.bool and not y.requires_grad
        np.testing.assert_array_equal(host(y), ref(host(x), host(other) if isinstance(
            other, tg.Tensor) else other))
    assert not x.isinf().any().item()


def test_bitwise_and_logical_match_torch():
    torch = pytest.importorskip("torch")
    a, b = [3, -5, 0, 12], [6, 5, -1, 0]
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or",
                 "logical_xor"):
        assert getattr(tg, name)(tg.tensor(a), tg.tensor(b)).tolist() == getattr(torch, name)(
            torch.tensor(a), torch.tensor(b)).tolist()
    assert tg.bitwise_not(tg.tensor(a)).tolist() == torch.bitwise_not(torch.tensor(a)).tolist()
    m = [[0, 2, 0], [1, 0, 3]]
    assert tg.nonzero(tg.tensor(m)).tolist() == torch.nonzero(torch.tensor(m)).tolist()
