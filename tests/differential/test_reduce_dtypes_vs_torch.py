"""Reductions against PyTorch on what test_unary_reduce_vs_torch.py leaves out: the dtypes uint8,
int8, int32 and float16 beside the others, ``dtype=``, NaN, max/argmax ties and empty inputs.
Compared: the result dtype (PyTorch keeps int8 in a sum with dtype=int8, gives int64 without,
refuses an integer mean), the values, the indices, and the error type where PyTorch raises."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")

EACH = settings(max_examples=4, deadline=None, derandomize=True)      # per parametrized case
DTYPES = ("bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64")
# float16 sums accumulate in float32 in both libraries, but not in the same order
F16_TOL = 1e-2


def array(seed, shape, dtype, nan=False, low=-4, high=4):
    """S.array for every dtype (uint8 from 0), with some NaN when ``nan`` and floating."""
    if dtype == "float16":
        a = S.array(seed, shape, "float32").astype("float16")
    else:
        a = S.array(seed, shape, dtype, low=0 if dtype == "uint8" else low, high=high)
    if nan and dtype.startswith("float") and a.size:
        a.reshape(-1)[np.random.default_rng(seed + 7).random(a.size) < 0.3] = np.nan
    return a


def same(op, arrays, what, grad=True):
    """S.compare of ``op(lib, *tensors)`` in tinygen and torch, float16 within F16_TOL."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(S.RTOL, "float16", F16_TOL)
        return S.compare(torch, lambda *a: op(tg, *a), lambda *a: op(torch, *a), arrays,
                         grad=grad, what=what)


REDUCTIONS = ["sum", "prod", "mean", "nansum", "nanmean", "std", "var", "norm", "amax", "amin",
              "logsumexp", "all", "any", "count_nonzero"]


def _kwargs(name, dim, keepdim):
    """The arguments PyTorch accepts for ``name``: prod takes an int dim or none, logsumexp
    needs one, count_nonzero has no keepdim."""
    if name == "prod" and not isinstance(dim, int):
        return {}
    if name == "logsumexp" and dim is None:
        dim = -1
    if name == "norm" and isinstance(dim, tuple) and len(dim) > 2:
        dim = dim[:2]           # PyTorch's default "fro" norm refuses 3 dims; tinygen takes them
    if name == "count_nonzero":
        return {"dim": dim}
    return {"dim": dim, "keepdim": keepdim}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", REDUCTIONS)
@EACH
@given(shape=S.shapes(), seed=S.seeds, nan=st.booleans(), keepdim=st.booleans(), data=st.data())
def test_reductions_on_every_dtype_match_torch(name, dtype, shape, seed, nan, keepdim, data):
    kwargs = _kwargs(name, data.draw(S.dims(len(shape))), keepdim)
    a = array(seed, shape, dtype, nan)
    same(lambda L, x: getattr(L, name)(x, **kwargs), [a], f"{name} {dtype} {kwargs}")


WITH_DTYPE = ["sum", "prod", "mean", "nansum", "nanmean", "cumsum", "cumprod"]


@pytest.mark.parametrize("out", DTYPES[1:])
@pytest.mark.parametrize("name", WITH_DTYPE)
@EACH
@given(dtype=st.sampled_from(DTYPES), shape=S.shapes(), seed=S.seeds, data=st.data())
def test_reductions_with_a_dtype_argument_match_torch(name, dtype, out, shape, seed, data):
    if name.startswith("cum"):
        kwargs = {"dim": data.draw(st.integers(-max(len(shape), 1), max(len(shape) - 1, 0)))}
    elif name == "prod":
        kwargs = {"dim": data.draw(st.integers(-len(shape), len(shape) - 1))} if shape else {}
    else:
        kwargs = {"dim": data.draw(S.dims(len(shape)))}
    a = array(seed, shape, dtype, nan=data.draw(st.booleans()))
    # an integer result of an input that requires grad: PyTorch's autograd refuses it
    same(lambda L, x: getattr(L, name)(x, **kwargs, dtype=getattr(L, out)), [a],
         f"{name} {dtype} -> {out} {kwargs}", grad=out.startswith("float"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
@EACH
@given(shape=S.shapes(), seed=S.seeds, nan=st.booleans(), keepdim=st.booleans(), data=st.data())
def test_extremes_with_ties_and_nan_match_torch(name, dtype, shape, seed, nan, keepdim, data):
    """Values drawn from {0, 1} (and NaN): ties everywhere. PyTorch returns the first index of
    the extreme (on CPU), and a NaN and its (first) index wherever a row holds one."""
    a = array(seed, shape, dtype, nan, low=0, high=2)
    if dtype.startswith("float"):
        a = np.round(np.abs(a) / 2)
    dim = data.draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    if dim is None and name in ("max", "min"):
        kwargs = {}
    else:
        kwargs = {"dim": dim, "keepdim": keepdim}
    same(lambda L, x: getattr(L, name)(x, **kwargs), [a], f"{name} {dtype} {kwargs}",
         grad=not nan)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@EACH
@given(shape=S.shapes(), seed=S.seeds, data=st.data())
def test_scans_on_every_dtype_match_torch(name, dtype, shape, seed, data):
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape) - 1, 0)))
    a = array(seed, shape, dtype, nan=data.draw(st.booleans()))
    same(lambda L, x: getattr(L, name)(x, dim), [a], f"{name} {dtype} dim={dim}")


# ---- the mismatches these tests found, pinned (each fixed in tinygen) --------------------------

@pytest.mark.parametrize("name", ["sum", "nansum", "cumsum", "prod", "cumprod"])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32"])
def test_small_integer_dtype_argument_is_kept_and_wraps(name, dtype):
    x = np.array([100, 100, 3], np.int64)               # 203 and 30000 overflow 8 bits
    out = same(lambda L, a: getattr(L, name)(a, 0, dtype=getattr(L, dtype)), [x], name)
    assert str(out.dtype) == f"torch.{dtype}"


def test_float16_scans_accumulate_in_float32():
    x = np.array([2048, 1, 1, 1, 1], np.float16)         # float16 steps are 2 apart past 2048
    same(lambda L, a: L.cumsum(a, 0), [x], "cumsum")
    running = tg.cumsum(tg.tensor(x), 0)
    assert running.dtype == tg.float16
    assert running.tolist() == [2048, 2048, 2050, 2052, 2052]    # float16 steps: all 2048
    assert tg.tensor(x).sum().item() == 2052


def test_all_and_any_of_uint8_are_uint8():
    x = np.array([[0, 3], [1, 2]], np.uint8)
    for name in ("all", "any"):
        assert str(same(lambda L, a: getattr(L, name)(a, 1), [x], name).dtype) == "torch.uint8"
        assert same(lambda L, a: getattr(L, name)(a), [x], name).dtype == torch.uint8


def test_argmax_argmin_refuse_bool():
    for name in ("argmax", "argmin"):
        with pytest.raises(RuntimeError, match="bool"):
            getattr(tg, name)(tg.tensor([True, False]))
        assert same(lambda L, a: getattr(L, name)(a, 0), [np.array([True])], name) is None


def test_mean_takes_a_dtype_and_nanmean_a_floating_one():
    ints = np.array([[1, 2], [4, 7]], np.int32)
    assert same(lambda L, a: L.mean(a, 1, dtype=L.float64), [ints], "mean").tolist() == [
        1.5, 5.5]
    assert same(lambda L, a: L.mean(a), [ints], "mean") is None               # RuntimeError
    halves = np.array([1.0, np.nan], np.float16)
    assert same(lambda L, a: L.nanmean(a, dtype=L.int8), [halves], "nanmean") is None


def test_empty_reductions():
    empty = np.zeros((0, 3), np.float32)
    assert same(lambda L, a: L.sum(a, 0), [empty], "sum").tolist() == [0, 0, 0]
    assert same(lambda L, a: L.prod(a, 0), [empty], "prod").tolist() == [1, 1, 1]
    assert np.isnan(same(lambda L, a: L.mean(a), [empty], "mean").item())
    for name in ("max", "amax", "argmax", "amin"):                  # no identity: errors
        assert same(lambda L, a: getattr(L, name)(a), [empty], name) is None
        assert same(lambda L, a: getattr(L, name)(a, 0), [empty], name) is None
    assert same(lambda L, a: L.amax(a, 1), [empty], "amax").shape == (0,)
