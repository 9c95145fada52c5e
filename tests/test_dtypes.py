"""PyTorch's dtype rules, as documented in tinygen/dtypes.py: integer and bool inputs to float
ops give the default float, Python numbers never widen, 0-dim tensors don't widen within a
category, and a higher category always wins."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen import dtypes


def f32(*shape):
    return tg.ones(*shape, dtype=tg.float32)


def f64(*shape):
    return tg.ones(*shape, dtype=tg.float64)


def i32(*shape):
    return tg.ones(*shape, dtype=tg.int32)


def i64(*shape):
    return tg.ones(*shape, dtype=tg.int64)


def b(*shape):
    return tg.ones(*shape, dtype=tg.bool)


@pytest.mark.parametrize("make, expected", [
    (lambda: i64(3).exp(), tg.float32),
    (lambda: i32(3).sqrt(), tg.float32),
    (lambda: b(3).sigmoid(), tg.float32),
    (lambda: i64(3).tanh(), tg.float32),
    (lambda: i64(3) / 2, tg.float32),
    (lambda: i64(3) / i64(3), tg.float32),
    (lambda: b(3) / b(3), tg.float32),
    (lambda: i64(3) * 0.5, tg.float32),
    (lambda: 0.5 * i32(3), tg.float32),
    (lambda: i64(3) + 1.5, tg.float32),
], ids=["exp", "sqrt", "sigmoid", "tanh", "div-number", "div-tensor", "div-bool", "mul-float",
        "rmul-float", "add-float"])
def test_int_and_bool_inputs_to_float_ops_give_the_default_float(make, expected):
    assert make().dtype == expected


def test_the_default_float_follows_set_default_dtype():
    try:
        tg.set_default_dtype(tg.float64)
        assert i64(3).exp().dtype == tg.float64
        assert (i64(3) * 0.5).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)


@pytest.mark.parametrize("make, expected", [
    (lambda: f32(3) * 2.0, tg.float32),
    (lambda: 2.0 * f32(3), tg.float32),
    (lambda: f32(3) + 2, tg.float32),
    (lambda: tg.ones(3, dtype=tg.float16) * 2.0, tg.float16),
    (lambda: f64(3) * 2.0, tg.float64),
    (lambda: i32(3) + 5, tg.int32),
    (lambda: b(3) + True, tg.bool),
    (lambda: b(3) + 1, tg.int64),                    # a higher category: its default dtype
    (lambda: f32(3) ** 2, tg.float32),
], ids=["f32*float", "float*f32", "f32+int", "f16*float", "f64*float", "i32+int", "bool+bool",
        "bool+int", "f32**int"])
def test_python_numbers_do_not_widen(make, expected):
    assert make().dtype == expected


def _add_in_place(x, value):
    x += value
    return x


@pytest.mark.parametrize("make, expected", [
    (lambda: f32(3) / np.sqrt(8), tg.float32),
    (lambda: np.float64(2) * f32(3), tg.float32),
    (lambda: i64(3) * np.float64(0.5), tg.float32),
    (lambda: i32(3) + np.int64(1), tg.int32),
    (lambda: i32(3) * np.float32(2), tg.float32),
    (lambda: f32(3) - np.int64(1), tg.float32),
    (lambda: tg.ones(3, dtype=tg.float16) * np.float32(2), tg.float16),
    (lambda: f32(3) ** np.float64(2), tg.float32),
    (lambda: np.float64(2) ** f32(3), tg.float32),
    (lambda: tg.where(b(3), f32(3), np.float64(0)), tg.float32),
    (lambda: f32(3).clamp(np.float64(0), np.float64(0.5)), tg.float32),
    (lambda: f32(3).masked_fill(b(3), np.float64(3)), tg.float32),
    (lambda: _add_in_place(f32(3), np.float64(1)), tg.float32),
], ids=["f32/np.sqrt", "np.f64*f32", "i64*np.f64", "i32+np.i64", "i32*np.f32", "f32-np.i64",
        "f16*np.f32", "f32**np.f64", "np.f64**f32", "where", "clamp", "masked_fill", "+="])
def test_numpy_scalars_count_as_python_numbers(make, expected):
    """PyTorch reads NumPy scalars as Python numbers; NumPy 2 would widen to their dtype."""
    assert make().dtype == expected


def test_numpy_scalars_keep_values_and_compare():
    np.testing.assert_allclose(host(f32(2) / np.sqrt(8)), [8 ** -0.5] * 2, rtol=1e-7)
    assert (tg.tensor([0.5, 1.5]) < np.float64(1)).tolist() == [True, False]
    with pytest.raises(RuntimeError, match="float32 can't be cast to the desired output type "
                                           "int64"):
        _add_in_place(i64(3), np.float64(0.5))


@pytest.mark.parametrize("make, expected", [
    (lambda: f32(3) + tg.tensor(1.0, dtype=tg.float64), tg.float32),
    (lambda: tg.tensor(1.0, dtype=tg.float64) * f32(3), tg.float32),
    (lambda: i32(3) + tg.tensor(1), tg.int32),
    (lambda: tg.ones(3, dtype=tg.float16) - tg.tensor(1.0), tg.float16),
], ids=["f32+0d-f64", "0d-f64*f32", "i32+0d-i64", "f16-0d-f32"])
def test_zero_dim_tensors_do_not_widen_within_a_category(make, expected):
    assert make().dtype == expected


@pytest.mark.parametrize("make, expected", [
    (lambda: i64(3) + tg.tensor(1.0, dtype=tg.float64), tg.float64),   # category up: its dtype
    (lambda: i32(3) * tg.tensor(2.0), tg.float32),
    (lambda: b(3) + tg.tensor(2, dtype=tg.int32), tg.int32),
    (lambda: f32(3) + f64(3), tg.float64),                              # both dimensioned
    (lambda: i32(3) + i64(3), tg.int64),
    (lambda: tg.tensor(1.0) + tg.tensor(1.0, dtype=tg.float64), tg.float64),  # both 0-d
    (lambda: tg.ones(3, dtype=tg.uint8) + i32(3), tg.int32),
], ids=["i64+0d-f64", "i32*0d-f32", "bool+0d-i32", "f32+f64", "i32+i64", "0d+0d", "u8+i32"])
def test_higher_category_or_equal_dimensions_promote(make, expected):
    assert make().dtype == expected


def test_promotion_casts_operands_differentiably():
    x = tg.ones(3, dtype=tg.float32, requires_grad=True)
    w = tg.ones(3, dtype=tg.float64, requires_grad=True)
    y = x * w
    assert y.dtype == tg.float64
    y.sum().backward()
    assert x.grad.dtype == tg.float32 and w.grad.dtype == tg.float64


def test_float_op_on_int_keeps_values():
    np.testing.assert_allclose(tg.arange(3).exp().cpu().numpy(), np.exp(np.arange(3)), rtol=1e-6)
    assert (tg.arange(4) / 2).tolist() == [0.0, 0.5, 1.0, 1.5]


def test_sum_of_ints_and_bools_is_int64():
    assert i32(3).sum().dtype == tg.int64 and b(3).sum().dtype == tg.int64
    assert b(3).sum().item() == 3


@pytest.mark.parametrize("a, a_ndim, b_dtype, b_ndim, number, expected", [
    (dtypes.float32, 1, dtypes.float64, 1, False, dtypes.float64),
    (dtypes.float32, 1, dtypes.float64, 0, False, dtypes.float32),
    (dtypes.float32, 0, dtypes.float64, 1, False, dtypes.float64),
    (dtypes.float32, 0, dtypes.float64, 0, False, dtypes.float64),
    (dtypes.int32, 1, dtypes.float64, 0, True, dtypes.float32),
    (dtypes.int32, 1, dtypes.float64, 0, False, dtypes.float64),
    (dtypes.float16, 1, dtypes.float32, 0, True, dtypes.float16),
    (dtypes.bool, 1, dtypes.int64, 0, True, dtypes.int64),
    (dtypes.float64, 1, dtypes.int64, 1, False, dtypes.float64),
])
def test_result_type(a, a_ndim, b_dtype, b_ndim, number, expected):
    assert dtypes.result_type(a, a_ndim, b_dtype, b_ndim, number) == expected


@pytest.mark.parametrize("spec, expected", [
    (tg.float32, np.float32), ("float64", np.float64), (np.int32, np.int32), (float, np.float32),
    (int, np.int64), (bool, np.bool_), (tg.long, np.int64), (tg.double, np.float64),
    (tg.half, np.float16),
])
def test_as_dtype(spec, expected):
    assert dtypes.as_dtype(spec) == np.dtype(expected)


def test_as_dtype_refuses_non_dtypes():
    with pytest.raises(TypeError, match="is not a dtype.*tg.float32"):
        dtypes.as_dtype(object())


def test_dtypes_are_numpy_dtypes():
    assert tg.float32 == np.dtype("float32") and tg.ones(1).cpu().numpy().dtype == tg.float32
