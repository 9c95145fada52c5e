"""Type promotion against PyTorch: the result dtype and values of arithmetic, comparison, bitwise,
division, min/max, where and clamp for every pair of the nine dtypes, as dimensioned tensors,
0-d tensors and Python scalars (a higher category wins, the same category yields to a
dimensioned tensor); integer division's sign conventions and its division-by-zero error;
``result_type``, ``promote_types`` and ``can_cast``."""

import itertools
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg

torch = pytest.importorskip("torch")

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
PAIRS = list(itertools.product(DTYPES, DTYPES))
RANKS = [((3,), (3,)), ((3,), ()), ((), (3,)), ((), ())]     # dimensioned and 0-d operands
RTOL = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}
OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
             "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
             "pow": operator.pow, "lt": operator.lt, "le": operator.le, "eq": operator.eq,
             "ne": operator.ne, "gt": operator.gt, "and": operator.and_, "or": operator.or_,
             "xor": operator.xor, "lshift": operator.lshift, "rshift": operator.rshift}
FUNCTIONS = ("true_divide", "floor_divide", "remainder", "fmod", "minimum", "maximum")
SHIFTS = ("lshift", "rshift")
# PyTorch raises NotImplementedError for bitwise ops on floats; tinygen keeps its TypeError
# (tests/ops/test_compare.py relies on it).
BITWISE_FLOAT = {NotImplementedError: (NotImplementedError, TypeError)}
FAST = settings(max_examples=40, deadline=None, derandomize=True)


def _values(dtype, shape, seed, nonzero=False, small=False):
    """An array (0-d too, never a NumPy scalar) of ``dtype``: small values, negatives too (not
    for uint8), no zeros when ``nonzero``, 0..3 for ``small`` (shifts, integer exponents)."""
    return np.asarray(_draw(dtype, shape, seed, nonzero, small))


def _draw(dtype, shape, seed, nonzero, small):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.ones(shape, bool) if nonzero else rng.random(shape) < 0.5
    if small:
        return rng.integers(0, 4, shape).astype(dtype)
    if dtype.startswith("float"):
        values = rng.standard_normal(shape) * 3
        return np.where(np.abs(values) < 0.1, 1.0, values).astype(dtype)
    values = rng.integers(0 if dtype == "uint8" else -5, 6, shape)
    return np.where(values == 0, 2, values).astype(dtype) if nonzero else values.astype(dtype)


def _same(ours, theirs, what):
    """Same dtype, shape and values (close for floats, exact otherwise)."""
    name = str(theirs.dtype).rsplit(".", 1)[-1]
    assert str(ours.dtype).rsplit(".", 1)[-1] == name, f"{what}: {ours.dtype} vs {theirs.dtype}"
    ours_np, theirs_np = ours.numpy(), theirs.numpy()
    assert ours_np.shape == theirs_np.shape, f"{what}: shape"
    if name in RTOL:
        np.testing.assert_allclose(ours_np, theirs_np, rtol=RTOL[name], atol=RTOL[name],
                                   equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ours_np, theirs_np, err_msg=what)


def _both(op, args, what, same_error=None):
    """``op(lib, *args)`` with tinygen and with torch (arrays become each one's tensors): both
    raise the same error type, or they agree on dtype, shape and values."""
    ours_in = [tg.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    theirs_in = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        theirs = op(torch, *theirs_in)
    except (RuntimeError, TypeError) as error:
        expected = (same_error or {}).get(type(error), type(error))
        with pytest.raises(expected):
            op(tg, *ours_in)
        return
    _same(op(tg, *ours_in), theirs, what)


def _operands(name, d1, d2, ranks, seed):
    small = name in SHIFTS or name == "pow" and d2[0] != "f"
    divides = name in ("floordiv", "mod", "floor_divide", "remainder", "fmod")
    return (_values(d1, ranks[0], seed),
            _values(d2, ranks[1], seed + 1, nonzero=divides and d2[0] != "f", small=small))


@pytest.mark.parametrize("name", list(OPERATORS))
def test_operators_promote_every_dtype_pair_like_torch(name):
    op = OPERATORS[name]
    for (d1, d2), ranks in itertools.product(PAIRS, RANKS):
        args = _operands(name, d1, d2, ranks, seed=len(d1) * 7 + len(d2))
        _both(lambda lib, a, b: op(a, b), args, f"{d1} {name} {d2} {ranks}", BITWISE_FLOAT)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_promote_every_dtype_pair_like_torch(name):
    for (d1, d2), ranks in itertools.product(PAIRS, RANKS):
        args = _operands(name, d1, d2, ranks, seed=len(d1) * 5 + len(d2))
        _both(lambda lib, a, b: getattr(lib, name)(a, b), args, f"{name}({d1}, {d2}) {ranks}")


@pytest.mark.parametrize("d1,d2", PAIRS)
def test_where_and_tensor_clamp_promote_like_torch(d1, d2):
    for ranks in RANKS:
        a, b = _values(d1, ranks[0], 3), _values(d2, ranks[1], 4)
        cond = _values("bool", (3,), 5)
        _both(lambda lib, c, x, y: lib.where(c, x, y), (cond, a, b), f"where {d1} {d2} {ranks}")
        _both(lambda lib, x, y: lib.clamp(x, min=y), (a, b), f"clamp min {d1} {d2} {ranks}")
        _both(lambda lib, x, y: lib.clamp(x, max=y), (a, b), f"clamp max {d1} {d2} {ranks}")
        _both(lambda lib, x, y: lib.clamp(x, y, y + 1 if d2 != "bool" else y), (a, b),
              f"clamp both {d1} {d2} {ranks}")


@FAST
@given(dtype=st.sampled_from(DTYPES), name=st.sampled_from(list(OPERATORS)),
       scalar=st.sampled_from([True, False, 2, -3, 0, 0.5, -1.5, 3.0, 300]),
       reflected=st.booleans(), rank=st.sampled_from([(3,), ()]), seed=st.integers(0, 99))
def test_python_scalar_on_either_side_promotes_like_torch(dtype, name, scalar, reflected,
                                                          rank, seed):
    if name in SHIFTS and not isinstance(scalar, bool) and isinstance(scalar, int):
        scalar = abs(scalar) % 4                         # shifts past the width are undefined
    op = OPERATORS[name]
    a = _values(dtype, rank, seed, nonzero=reflected and name in ("floordiv", "mod"))
    if name in SHIFTS and reflected:
        a = _values(dtype, rank, seed, small=True)
    call = (lambda lib, x: op(scalar, x)) if reflected else (lambda lib, x: op(x, scalar))
    _both(call, (a,), f"{scalar!r} {name} {dtype}" if reflected else f"{dtype} {name} {scalar!r}",
          BITWISE_FLOAT)


@FAST
@given(dtype=st.sampled_from(DTYPES), name=st.sampled_from(FUNCTIONS[:4]),
       scalar=st.sampled_from([True, 2, -3, 0.5, -1.5]), seed=st.integers(0, 99))
def test_division_functions_with_scalars_promote_like_torch(dtype, name, scalar, seed):
    a = _values(dtype, (4,), seed)
    _both(lambda lib, x: getattr(lib, name)(x, scalar), (a,), f"{name}({dtype}, {scalar!r})")


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
@pytest.mark.parametrize("scalar", [-3, 200, 300, 70000])
def test_out_of_range_python_ints_wrap_into_the_dtype_like_torch(dtype, scalar):
    a = np.array([1, 2, 5], dtype=dtype)
    for name in ("add", "sub", "mul", "lt", "eq", "and", "xor"):
        op = OPERATORS[name]
        _both(lambda lib, x: op(x, scalar), (a,), f"{dtype} {name} {scalar}")
        _both(lambda lib, x: op(scalar, x), (a,), f"{scalar} {name} {dtype}")


def test_out_of_range_python_int_regressions():
    """uint8 + -3 used to raise NumPy's OverflowError and uint8 < -3 to compare by value."""
    x = tg.tensor([1, 2], dtype=tg.uint8)
    assert (x + -3).tolist() == [254, 255] and (x + -3).dtype == tg.uint8
    assert (x < -3).tolist() == [True, True]                 # -3 is 253 as a uint8
    assert (tg.tensor([1], dtype=tg.int8) * 200).tolist() == [-56]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        x ** -3                                              # checked before the wrap


def test_shift_and_bool_regressions():
    """Shifts follow the category rules (a 0-d int8 does not widen a uint8 tensor); shifts of
    bools, bool % bool, bool ** bool tensor and clamping bools by two bounds are refused;
    bool ** Python bool is a bool."""
    x = tg.tensor([1, 2], dtype=tg.uint8)
    assert (x << tg.tensor(1, dtype=tg.int8)).dtype == tg.uint8
    assert (tg.tensor(1, dtype=tg.int8) >> x).dtype == tg.uint8
    assert (x << tg.tensor([1, 1], dtype=tg.int8)).dtype == tg.int16
    b = tg.tensor([True, False])
    for fails in (lambda: b << b, lambda: b % True, lambda: tg.floor_divide(b, False),
                  lambda: tg.fmod(b, True), lambda: True ** b, lambda: tg.tensor([1.5]) << 1,
                  lambda: tg.clamp(b, b, b), lambda: tg.clamp(b, min=True)):
        with pytest.raises(NotImplementedError):
            fails()
    assert (b ** True).tolist() == [True, False] and (b ** False).tolist() == [True, True]
    assert (b ** True).dtype == tg.bool
    assert tg.clamp(b, min=tg.tensor([True, True])).tolist() == [True, True]


@FAST
@given(a=st.lists(st.integers(-9, 9), min_size=1, max_size=6), b=st.integers(-4, 4),
       dtype=st.sampled_from(["int8", "int16", "int32", "int64"]))
def test_integer_division_sign_conventions(a, b, dtype):
    """// and % round toward -inf (Python's), fmod and div(trunc) toward zero (C's)."""
    b = b or 3
    x = tg.tensor(np.array(a, dtype=dtype))
    assert (x // b).tolist() == [v // b for v in a]
    assert (x % b).tolist() == [v % b for v in a]
    assert tg.remainder(x, b).tolist() == [v % b for v in a]
    assert tg.fmod(x, b).tolist() == [int(np.fmod(v, b)) for v in a]
    assert tg.div(x, b, rounding_mode="trunc").tolist() == [int(v / b) for v in a]
    assert tg.div(x, b, rounding_mode="floor").tolist() == [v // b for v in a]
    ta = torch.tensor(np.array(a, dtype=dtype))
    assert (x // b).tolist() == (ta // b).tolist() and (x % b).tolist() == (ta % b).tolist()
    assert tg.fmod(x, b).tolist() == torch.fmod(ta, b).tolist()


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
@pytest.mark.parametrize("op", [
    lambda lib, a, b: a // b, lambda lib, a, b: a % b, lambda lib, a, b: lib.fmod(a, b),
    lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    lambda lib, a, b: lib.floor_divide(a, 0), lambda lib, a, b: lib.remainder(a, 0)])
def test_integer_division_by_zero_raises_like_torch(dtype, op):
    a, b = np.array([5, 1], dtype=dtype), np.array([0, 1], dtype=dtype)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op(torch, torch.tensor(a), torch.tensor(b))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        op(tg, tg.tensor(a), tg.tensor(b))


def test_float_division_by_zero_follows_ieee_like_torch():
    a, zero = np.array([5, -5, 0]), np.array([0, 0, 0])
    _both(lambda lib, x, y: x / y, (a, zero), "int / 0")
    _both(lambda lib, x, y: x.float() // 0, (a, zero), "float // 0")
    _both(lambda lib, x, y: x.float() % y, (a, zero), "float % 0")
    _both(lambda lib, x, y: lib.fmod(x.double(), 0.0), (a, zero), "fmod(float, 0)")


@pytest.mark.parametrize("d1,d2", PAIRS)
def test_result_type_promote_types_and_can_cast_match_torch(d1, d2):
    t1, t2 = getattr(torch, d1), getattr(torch, d2)
    g1, g2 = getattr(tg, d1), getattr(tg, d2)
    assert tg.promote_types(g1, g2) == getattr(tg, str(torch.promote_types(t1, t2))[6:])
    assert tg.can_cast(g1, g2) == torch.can_cast(t1, t2)
    for r1, r2 in RANKS:
        ours = tg.result_type(tg.zeros(r1, dtype=g1), tg.zeros(r2, dtype=g2))
        theirs = torch.result_type(torch.zeros(r1, dtype=t1), torch.zeros(r2, dtype=t2))
        assert ours == getattr(tg, str(theirs)[6:]), (d1, d2, r1, r2)
    for scalar in (True, 3, -2.5):
        ours = tg.result_type(tg.zeros(3, dtype=g1), scalar)
        assert ours == getattr(tg, str(torch.result_type(torch.zeros(3, dtype=t1), scalar))[6:])


def test_category_rules_by_example():
    """The rules spelled out: a 0-d tensor or scalar of a higher category wins (a Python float
    as the default dtype), one of the same category yields to the dimensioned tensor."""
    i32, f16 = tg.ones(2, dtype=tg.int32), tg.ones(2, dtype=tg.float16)
    assert (i32 + tg.tensor(1, dtype=tg.int64)).dtype == tg.int32
    assert (i32 + tg.tensor(1.0, dtype=tg.float64)).dtype == tg.float64
    assert (i32 + 1.0).dtype == tg.float32 and (i32 + True).dtype == tg.int32
    assert (f16 + tg.tensor(1.0, dtype=tg.float64)).dtype == tg.float16
    assert (f16 + tg.ones(2, dtype=tg.int64)).dtype == tg.float16
    assert (tg.ones(2, dtype=tg.uint8) + tg.ones(2, dtype=tg.int8)).dtype == tg.int16
    assert (tg.tensor(1, dtype=tg.uint8) + tg.tensor(1, dtype=tg.int8)).dtype == tg.int16
    assert (tg.tensor([True]) + tg.tensor(1, dtype=tg.int8)).dtype == tg.int8
