"""Casting against PyTorch: ``.to(dtype)``, ``.type(dtype)`` and the shorthands (``.int()``,
``.byte()``, ...) between the nine dtypes. Floats truncate toward zero into integers, negative
floats and out-of-range integers wrap into unsigned and narrower integer types (PyTorch's CPU
behaviour), anything nonzero is True, and float64 beyond float16's range becomes inf. NaN, inf
and floats out of the target integer's range are left out: PyTorch calls those undefined."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg

torch = pytest.importorskip("torch")

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
SHORTHANDS = {"bool": "bool", "uint8": "byte", "int8": "char", "int16": "short", "int32": "int",
              "int64": "long", "float16": "half", "float32": "float", "float64": "double"}
FLOATS = [0.0, -0.0, 0.5, -0.5, 0.99, -0.99, 1.7, -1.7, 2.5, -3.9, 100.2, -100.7, 127.9,
          -128.9, 250.6, 1e5, -1e5, 7e4, -7e4, 1e-8, 65519.0, 65520.0, 1e300]
INTS = [0, 1, -1, 5, -7, 127, -128, 128, 255, 256, 300, -300, 32767, -32768, 70000, -70000,
        2**31 - 1, -2**31, 2**40, -2**40]
FAST = settings(max_examples=40, deadline=None, derandomize=True)


def _source(d1, d2):
    """Values of ``d1`` whose conversion to ``d2`` PyTorch defines (negative floats into uint8
    wrap through int64 on CPU, as tested; floats beyond the integer range are left out)."""
    if d1 == "bool":
        return np.array([True, False, True])
    if d1.startswith("float"):
        with np.errstate(over="ignore"):
            values = np.array(FLOATS).astype(d1)
        values = values[np.isfinite(values)]
        if d2 != "bool" and not d2.startswith("float"):
            info = np.iinfo(d2)
            wide = values.astype(np.float64)
            low = -129 if d2 == "uint8" else info.min - 1
            values = values[(wide > low) & (wide < info.max + 1)]
        return values
    info = np.iinfo(d1)
    return np.array([v for v in INTS if info.min <= v <= info.max], dtype=d1)


def _same(ours, theirs, what):
    assert str(ours.dtype).rsplit(".", 1)[-1] == str(theirs.dtype).rsplit(".", 1)[-1], what
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=what)


@pytest.mark.parametrize("d1,d2", list(itertools.product(DTYPES, DTYPES)))
def test_to_type_and_shorthands_match_torch(d1, d2):
    values = _source(d1, d2)
    theirs = torch.tensor(values).to(getattr(torch, d2))
    ours = tg.tensor(values)
    _same(ours.to(getattr(tg, d2)), theirs, f"{d1}.to({d2})")
    _same(ours.type(getattr(tg, d2)), theirs, f"{d1}.type({d2})")
    _same(getattr(ours, SHORTHANDS[d2])(), theirs, f"{d1}.{SHORTHANDS[d2]}()")
    _same(tg.tensor(values[:0]).to(getattr(tg, d2)), torch.tensor(values[:0]).to(
        getattr(torch, d2)), f"empty {d1}.to({d2})")


@FAST
@given(values=st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=6),
       d1=st.sampled_from(["float16", "float32", "float64"]),
       d2=st.sampled_from(["int8", "int16", "int32", "int64", "bool"]))
def test_float_to_int_truncates_toward_zero_like_torch(values, d1, d2):
    array = np.array(values).astype(d1)
    if d2 != "bool":
        info = np.iinfo(d2)
        wide = array.astype(np.float64)
        array = array[(wide > info.min - 1) & (wide < info.max + 1)]
    ours = tg.tensor(array).to(getattr(tg, d2)).numpy()
    np.testing.assert_array_equal(ours, torch.tensor(array).to(getattr(torch, d2)).numpy())
    expected = array != 0 if d2 == "bool" else np.trunc(array.astype(np.float64))
    np.testing.assert_array_equal(ours, expected)


def test_casting_by_example():
    """The rules spelled out, independent of PyTorch's numbers."""
    x = tg.tensor([-1.7, -0.5, 0.5, 2.9], dtype=tg.float64)
    assert x.int().tolist() == [-1, 0, 0, 2] and x.long().dtype == tg.int64
    assert x.byte().tolist() == [255, 0, 0, 2]                  # -1 wraps around
    assert x.bool().tolist() == [True, True, True, True]
    big = tg.tensor([1e5, -1e5, 65504.0, 1e-8], dtype=tg.float64).half()
    assert big.tolist()[:3] == [float("inf"), float("-inf"), 65504.0] and big.tolist()[3] == 0
    assert tg.tensor([300, -1]).to(tg.uint8).tolist() == [44, 255]
    assert tg.tensor([200], dtype=tg.int16).char().tolist() == [-56]
    assert tg.tensor([True, False]).short().tolist() == [1, 0]
    assert tg.tensor([True]).short().dtype == tg.int16 == tg.short


def test_cast_keeps_or_drops_the_graph_like_torch():
    """A float result stays differentiable, an integer or bool one leaves the graph."""
    x = tg.tensor([1.5, -2.5], dtype=tg.float64, requires_grad=True)
    y = torch.tensor([1.5, -2.5], dtype=torch.float64, requires_grad=True)
    for name in ("float", "half", "double", "int", "long", "bool", "byte", "short", "char"):
        assert getattr(x, name)().requires_grad == getattr(y, name)().requires_grad, name
    x.float().sum().backward()
    y.float().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())
    assert x.grad.dtype == tg.float64


@pytest.mark.parametrize("name", ["torch.IntTensor", "torch.LongTensor", "torch.FloatTensor",
                                  "torch.DoubleTensor", "torch.ByteTensor", "torch.BoolTensor",
                                  "torch.HalfTensor"])
def test_type_by_name_matches_torch(name):
    values = np.array([1.5, -2.5, 0.0])
    ours = tg.tensor(values).type(name)
    theirs = torch.tensor(values).type(name)
    _same(ours, theirs, name)


def test_type_without_argument_names_the_tensor_type():
    assert tg.tensor([1.0]).type() == "tinygen.FloatTensor"        # PyTorch: torch.FloatTensor
    assert tg.tensor([1]).type().endswith(torch.tensor([1]).type().split(".")[-1])


def test_overflowing_casts_are_quiet_like_torch():
    """float64 -> float16 overflow and int -> uint8 wraparound used to warn (NumPy's
    RuntimeWarning); PyTorch gives inf and the wrapped value silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.tensor([1e5], dtype=tg.float64).half().tolist() == [float("inf")]
        assert tg.tensor([2**31 - 1], dtype=tg.int32).half().tolist() == [float("inf")]
        assert tg.tensor([-1.5]).byte().tolist() == [255]
