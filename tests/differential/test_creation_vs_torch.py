"""Creation functions against PyTorch: arange's length and dtype inference (float steps that
round, negative steps, integer dtypes with fractional arguments), linspace/logspace, full and
full_like's dtype from the fill value, eye, sizes given as ints, tuples or lists, tensor() and
as_tensor() dtype inference from lists and NumPy arrays, tril/triu_indices, the *_like dtype
override, randint's dtype and shape, and the deprecated inclusive ``range``."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg

torch = pytest.importorskip("torch")

FAST = settings(max_examples=40, deadline=None, derandomize=True)
INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
RTOL = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}


def _same(ours, theirs, what=""):
    """Same dtype, shape and values (close for floats, exact otherwise)."""
    name = str(theirs.dtype).rsplit(".", 1)[-1]
    assert str(ours.dtype).rsplit(".", 1)[-1] == name, f"{what}: {ours.dtype} vs {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: {ours.shape} vs {theirs.shape}"
    if name in RTOL:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=RTOL[name],
                                   atol=RTOL[name], err_msg=what)
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=what)


def _both(make, what="", errors=(RuntimeError, ValueError)):
    """``make(lib)`` agrees for tinygen and torch, or both raise one of ``errors`` (PyTorch says
    ValueError or RuntimeError for the same bad arange depending on the dtype)."""
    try:
        theirs = make(torch)
    except errors:
        with pytest.raises(errors):
            make(tg)
        return None
    _same(make(tg), theirs, what)
    return theirs


def _dtype(lib, name):
    return None if name is None else getattr(lib, name)


numbers = st.one_of(st.integers(-6, 6), st.floats(-6, 6).map(lambda v: round(v, 2)))


@FAST
@given(start=numbers, end=numbers, step=st.one_of(st.integers(-3, 3),
                                                  st.sampled_from([0.1, 0.25, 0.3, 0.5, 0.7,
                                                                   -0.1, -0.5, 1.5, -1.9])),
       dtype=st.sampled_from([None, "float64", "float32", "int64", "int32", "int16"]))
def test_arange_matches_torch(start, end, step, dtype):
    """Length, values and dtype: ints give int64, any float the default dtype; integer dtypes
    with fractional arguments follow PyTorch's truncation rules."""
    _both(lambda lib: lib.arange(start, end, step, dtype=_dtype(lib, dtype)),
          f"arange({start}, {end}, {step}, {dtype})")


@pytest.mark.parametrize("args", [(5,), (0, 1, 0.1), (1, 2.5, 0.5), (10, 0, -3), (0, -1, -0.25),
                                  (1.0,), (2, 8.0), (0, 1, 0.3), (-5, 5, 0.7), (3, 3),
                                  (0.5, 5, 1), (-2.7, 3, 1.9), (0, 5, 1.5)])
def test_arange_fixed_cases_match_torch(args):
    theirs = _both(lambda lib: lib.arange(*args), f"arange{args}")
    assert theirs.dtype == (torch.int64 if all(isinstance(a, int) for a in args)
                            else torch.float32)
    for dtype in INT_DTYPES:
        _both(lambda lib: lib.arange(*args, dtype=getattr(lib, dtype)), f"arange{args} {dtype}")


def test_arange_integer_dtype_regressions():
    """Integer dtypes used to take NumPy's float arange and truncate each value."""
    assert tg.arange(-0.5, 3, 1, dtype=tg.int64).tolist() == [0, 1, 2]
    assert tg.arange(0, 5, 1.5, dtype=tg.int32).tolist() == [0, 1, 2, 3]
    assert tg.arange(0, 5, 1.5, dtype=tg.int64).tolist() == [0, 1, 2, 3, 4]
    assert tg.arange(-2.7, 3, 1.9, dtype=tg.uint8).tolist() == [254, 255, 0, 1]
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        tg.arange(0, 1, 0.5, dtype=tg.int64)


@pytest.mark.parametrize("args", [(0, 1, 5), (0, 1, 1), (0, 1, 0), (2, 10, 4), (-3, 3, 7),
                                  (0, 10, 3), (10, 0, 4), (-1.5, 2.5, 6), (0, 1.9, 5),
                                  (0.5, 7.5, 4), (3, -4, 6)])
@pytest.mark.parametrize("dtype", [None, "float64", "int64", "int32", "float16"])
def test_linspace_logspace_match_torch(args, dtype):
    _both(lambda lib: lib.linspace(*args, dtype=_dtype(lib, dtype)), f"linspace{args}")
    if max(args[:2]) <= 4:                  # 10 ** 10 overflows int32 and float16
        _both(lambda lib: lib.logspace(*args, dtype=_dtype(lib, dtype)), f"logspace{args}")
    _both(lambda lib: lib.logspace(*args, base=2, dtype=_dtype(lib, dtype)), f"logspace2{args}")


def test_integer_linspace_logspace_truncate_bounds_regression():
    """Integer dtypes used to truncate only the values, not start and end first."""
    assert tg.linspace(0, 1.9, 5, dtype=tg.int64).tolist() == [0, 0, 0, 0, 1]
    assert tg.logspace(-1.5, 2.5, 6, dtype=tg.int64).tolist() == [0, 0, 1, 6, 25, 100]


def test_linspace_uint8_nonnegative_matches_torch():
    """(PyTorch's uint8 linspace of negative bounds is not a wraparound; it is left out.)"""
    _both(lambda lib: lib.linspace(0, 200, 5, dtype=lib.uint8), "linspace uint8")
    _both(lambda lib: lib.logspace(0, 2, 3, dtype=lib.uint8), "logspace uint8")


@pytest.mark.parametrize("fill", [True, False, 3, -1, 0, 2.5, -0.0])
@pytest.mark.parametrize("dtype", [None, "int64", "float64", "bool", "uint8"])
def test_full_and_full_like_dtype_match_torch(fill, dtype):
    if dtype == "uint8" and fill == -1:
        return                                      # PyTorch refuses -1 as uint8; tested below
    _both(lambda lib: lib.full((2, 3), fill, dtype=_dtype(lib, dtype)), f"full {fill!r}")
    for like in ("int32", "float16", "bool"):
        _both(lambda lib: lib.full_like(lib.zeros(2, dtype=getattr(lib, like)), fill,
                                        dtype=_dtype(lib, dtype)), f"full_like {like} {fill!r}")


@pytest.mark.parametrize("n,m", [(3, None), (2, 4), (4, 2), (0, 3), (3, 0), (0, None), (1, 1)])
@pytest.mark.parametrize("dtype", [None, "int64", "bool", "float64"])
def test_eye_matches_torch(n, m, dtype):
    _both(lambda lib: lib.eye(n, dtype=_dtype(lib, dtype)) if m is None else
          lib.eye(n, m, dtype=_dtype(lib, dtype)), f"eye({n}, {m})")


@pytest.mark.parametrize("size", [((2, 3),), ([2, 3],), (2, 3), (4,), ((),), (0,), ([],),
                                  ((0, 2),), (1, 1, 1)])
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_sizes_as_ints_tuples_lists_match_torch(size, name):
    ours, theirs = getattr(tg, name)(*size), getattr(torch, name)(*size)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == tg.float32 and theirs.dtype == torch.float32
    if name != "empty":
        _same(ours, theirs, f"{name}{size}")


DATA = [[True, False], [1, 2], [1.5, 2], [True, 2], [True, 2.5], [[1, 2], [3, 4.0]], [],
        [[], []], 3, 2.5, True, [1, True, 0.5], [[True], [False]], -7, [0.1, 0.2],
        np.array([1.0, 2.0]), np.array([1, 2], dtype=np.int32), np.array([True]),
        np.array([[1, 2]], dtype=np.uint8), np.array(2.0, dtype=np.float16),
        np.array([1, 2], dtype=np.int16), np.float64(2.0), np.int32(3)]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_and_as_tensor_infer_dtype_like_torch(data):
    """Python bools/ints/floats give bool/int64/default float (mixed lists the highest); NumPy
    arrays and scalars keep their dtype (float64 stays float64)."""
    for make in ("tensor", "as_tensor"):
        _both(lambda lib: getattr(lib, make)(data), f"{make}({data!r})")
        _both(lambda lib: getattr(lib, make)(data, dtype=lib.float64), f"{make} f64")
        _both(lambda lib: getattr(lib, make)(data, dtype=lib.int16), f"{make} i16")


def test_as_tensor_shares_a_numpy_array_like_torch():
    array = np.array([1.0, 2.0])
    ours, theirs = tg.as_tensor(array), torch.as_tensor(array)
    array[0] = 5.0
    assert ours.tolist() == theirs.tolist() == [5.0, 2.0] and ours.dtype == tg.float64


@pytest.mark.parametrize("rows,cols", [(3, 3), (3, 4), (4, 3), (0, 3), (1, 1), (2, 5)])
@pytest.mark.parametrize("offset", [0, 1, -1, 2, -2, 5, -5])
def test_tril_triu_indices_match_torch(rows, cols, offset):
    _both(lambda lib: lib.tril_indices(rows, cols, offset), f"tril_indices {rows} {cols}")
    _both(lambda lib: lib.triu_indices(rows, cols, offset), f"triu_indices {rows} {cols}")


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like"])
@pytest.mark.parametrize("src", ["float32", "int64", "bool", "float64"])
@pytest.mark.parametrize("dtype", [None, "int64", "float64", "bool", "uint8", "float16"])
def test_like_functions_take_a_dtype_override_like_torch(name, src, dtype):
    if name == "rand_like" and (dtype or src)[0] != "f":
        with pytest.raises((RuntimeError, TypeError, ValueError, NotImplementedError)):
            torch.rand_like(torch.zeros(2, 3, dtype=getattr(torch, src)),
                            dtype=_dtype(torch, dtype))
        return
    outs = [getattr(lib, name)(lib.zeros(2, 3, dtype=getattr(lib, src)),
                               dtype=_dtype(lib, dtype)) for lib in (tg, torch)]
    assert str(outs[0].dtype).rsplit(".", 1)[-1] == str(outs[1].dtype).rsplit(".", 1)[-1]
    assert tuple(outs[0].shape) == tuple(outs[1].shape) == (2, 3)
    if name in ("zeros_like", "ones_like"):
        _same(*outs, name)


@pytest.mark.parametrize("args,dtype", [((5, (3,)), None), ((2, 5, (2, 2)), None),
                                        ((0, 2, (4,)), "int32"), ((-3, 3, (4,)), "float32"),
                                        ((10, (2,)), "uint8"), ((3, 4, ()), "int16"),
                                        ((3, (0, 2)), "float64")])
def test_randint_shape_dtype_and_bounds_match_torch(args, dtype):
    low, high = (0, args[0]) if len(args) == 2 else args[:2]
    outs = [lib.randint(*args, dtype=_dtype(lib, dtype)) for lib in (tg, torch)]
    assert str(outs[0].dtype).rsplit(".", 1)[-1] == str(outs[1].dtype).rsplit(".", 1)[-1]
    assert tuple(outs[0].shape) == tuple(outs[1].shape) == args[-1]
    values = outs[0].numpy()
    assert ((values >= low) & (values < high)).all()


def test_randint_bad_bounds_raise_like_torch():
    for args in [(3, 3, (2,)), (5, 2, (2,))]:
        with pytest.raises(RuntimeError):
            torch.randint(*args)
        with pytest.raises((RuntimeError, ValueError)):
            tg.randint(*args)


@pytest.mark.parametrize("args", [(0, 4), (0, 1, 0.25), (5, 1, -2), (1.0, 3), (2, 2)])
def test_deprecated_range_includes_its_end_like_torch(args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(lambda lib: lib.range(*args), f"range{args}")
