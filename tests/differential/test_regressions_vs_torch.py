"""The mismatches the differential tests found, pinned as plain cases (each fixed in tinygen)."""

import numpy as np
import pytest

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")


def _same(op_tg, op_torch, *arrays):
    return S.compare(torch, op_tg, op_torch, [np.asarray(a) for a in arrays])


def test_bool_subtraction_is_refused():
    for pair in [(True, 1.0), (1.0, True), (True, False)]:
        assert _same(tg.sub, torch.sub, *pair) is None
    with pytest.raises(RuntimeError, match="bool"):
        1.0 - tg.tensor([True])


def test_integer_pow_with_negative_integer_exponents():
    base, exponent = [1, 2, 0, -1, -2, -1], [-1, -1, -1, -3, -2, -2]
    _same(tg.pow, torch.pow, np.array(base), np.array(exponent))
    with pytest.raises(RuntimeError, match="negative integer powers"):
        tg.zeros(0, dtype=tg.int64) ** -3


def test_pow_gradient_in_the_exponent_at_base_zero():
    base, exponent = np.zeros(3), np.array([-1.0, 0.0, 2.0])     # -inf, 0, 0 as in PyTorch
    _same(lambda a, b: tg.pow(a, b), lambda a, b: torch.pow(a, b), base, exponent)


@pytest.mark.parametrize("name", ["pow", "remainder", "fmod", "floor_divide"])
def test_two_bool_operands_are_not_implemented(name):
    assert _same(getattr(tg, name), getattr(torch, name), True, False) is None
    with pytest.raises(NotImplementedError):
        getattr(tg, name)(tg.tensor([True]), tg.tensor([False]))


def test_bool_tensor_to_a_python_bool_power_stays_bool():
    """PyTorch refuses pow of two bool tensors but takes a Python bool exponent."""
    assert (tg.tensor([True, False]) ** True).tolist() == [True, False]
    assert (tg.tensor([True, False]) ** True).dtype == tg.bool


def test_float_remainder_by_zero_is_quiet():
    with np.errstate(all="raise"):
        y = tg.remainder(tg.tensor([1.0, 0.0]), 0.0)
        q = tg.floor_divide(tg.tensor([1.0, 0.0]), 0.0)
    assert np.isnan(y.numpy()).all() and np.isinf(q.numpy()[0])


def test_bool_unary_ops_follow_torch():
    x = np.array([True, False])
    _same(tg.sign, torch.sign, x)
    for name in ["abs", "floor"]:
        assert _same(getattr(tg, name), getattr(torch, name), x) is None


def test_reducing_an_empty_dim_raises_index_error():
    x = tg.zeros(0, 3)
    for op in [lambda t: t.amax(0), lambda t: t.max(0), lambda t: t.argmax(0), tg.argmax]:
        with pytest.raises(IndexError):
            op(x)
    with pytest.raises(RuntimeError):                       # and PyTorch's type without a dim
        x.amax()


@pytest.mark.parametrize("correction", [2, 3])
def test_var_with_correction_past_the_count_is_inf(correction):
    # values only: PyTorch's backward divides by N - correction unclamped (so its gradient
    # is finite for correction > N), tinygen's gives nan there
    S.compare(torch, lambda t: tg.var(t, 0, correction=correction),
              lambda t: torch.var(t, 0, correction=correction), [np.array([0.5, -1.5])],
              grad=False)
    assert tg.var(tg.zeros(2), correction=2).item() != tg.var(tg.zeros(2), correction=2).item()


def test_diff_of_order_zero_and_of_a_scalar():
    x, t = tg.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert tg.diff(x, n=0, prepend=tg.tensor([0.0])).tolist() == \
        torch.diff(t, n=0, prepend=torch.tensor([0.0])).tolist() == [1.0, 2.0]
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="at least one-dimensional"):
            lib.diff(lib.tensor(1.0))
