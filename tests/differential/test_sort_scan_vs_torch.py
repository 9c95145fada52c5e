"""Sorting, order statistics and scans against PyTorch, on what test_search_vs_torch.py leaves
out: the dtypes uint8, int8, int32 and float16, NaN (PyTorch sorts it last ascending, first
descending, and topk, median, kthvalue and cummax treat it as the largest value), ties, sorter,
and the counting and differencing ops (histc, bincount, diff, trapezoid).

Indices are compared where PyTorch defines them: stable sorts, the cummax/cummin family, mode,
and order statistics of distinct values; among ties only the values are compared."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S
from tests.differential.test_reduce_dtypes_vs_torch import DTYPES, array, same

torch = pytest.importorskip("torch")

EACH = settings(max_examples=12, deadline=None, derandomize=True)      # per parametrized case
FAST = settings(max_examples=30, deadline=None, derandomize=True)
NUMBERS = DTYPES[1:]


def _dim(draw, shape):
    n = max(len(shape), 1)
    return draw(st.integers(-n, n - 1))


def ties(seed, shape, dtype, nan=False):
    """Values in {0, 1, 2} (bools for bool), NaN among them when ``nan``: full of ties."""
    return np.abs(array(seed, shape, dtype, nan, low=0, high=3)).round().astype(dtype)


def distinct(seed, shape, dtype, nan=False):
    """Distinct values in random order, one of them NaN when ``nan`` (floating dtypes)."""
    size = int(np.prod(shape))
    a = np.random.default_rng(seed).permutation(size).reshape(shape).astype(dtype)
    if nan and dtype.startswith("float") and size:
        a[a == 0] = np.nan
    return a


@pytest.mark.parametrize("dtype", DTYPES)
@EACH
@given(name=st.sampled_from(["sort", "argsort", "msort"]), stable=st.booleans(),
       descending=st.booleans(), shape=S.shapes(), seed=S.seeds, nan=st.booleans(),
       data=st.data())
def test_sort_with_ties_and_nan_matches_torch(dtype, name, stable, descending, shape, seed, nan,
                                              data):
    d = _dim(data.draw, shape)
    x = ties(seed, shape, dtype, nan)
    ops = {"sort": lambda L, a: L.sort(a, dim=d, descending=descending, stable=stable),
           "argsort": lambda L, a: L.argsort(a, dim=d, descending=descending, stable=stable),
           "msort": lambda L, a: L.msort(a)}
    op = ops[name]
    if not stable and name != "msort":      # the order of ties is unspecified: values only
        op = (lambda L, a: L.sort(a, dim=d, descending=descending).values)
    same(op, [x], f"{name} {dtype} d={d} desc={descending} stable={stable}")


@pytest.mark.parametrize("dtype", DTYPES)
@EACH
@given(name=st.sampled_from(["topk", "kthvalue", "median", "nanmedian", "mode"]),
       tied=st.booleans(), nan=st.booleans(), largest=st.booleans(), keepdim=st.booleans(),
       shape=S.shapes(), seed=S.seeds, data=st.data())
def test_order_statistics_match_torch(dtype, name, tied, nan, largest, keepdim, shape, seed,
                                      data):
    """Indices too, except among ties (mode defines them: the last occurrence of the value)."""
    d = _dim(data.draw, shape)
    side = shape[d] if shape else 1
    k = data.draw(st.integers(0 + (name == "kthvalue"), side + 1))     # side + 1: an error
    if name == "mode":
        nan = False                         # PyTorch documents no mode of a row with NaN
    x = (ties if tied else distinct)(seed, shape, dtype, nan)
    ops = {"topk": lambda L, a: L.topk(a, k, d, largest=largest),
           "kthvalue": lambda L, a: L.kthvalue(a, k, d, keepdim=keepdim),
           "median": lambda L, a: L.median(a, d, keepdim=keepdim),
           "nanmedian": lambda L, a: L.nanmedian(a, d, keepdim=keepdim),
           "mode": lambda L, a: L.mode(a, d, keepdim=keepdim)}
    op = ops[name]
    if tied and name != "mode":
        op = (lambda L, a: ops[name](L, a)[0])
    same(op, [x], f"{name} {dtype} k={k} d={d} tied={tied}")


@pytest.mark.parametrize("dtype", DTYPES)
@EACH
@given(name=st.sampled_from(["cummax", "cummin"]), nan=st.booleans(), shape=S.shapes(),
       seed=S.seeds, data=st.data())
def test_cummax_cummin_with_ties_and_nan_match_torch(dtype, name, nan, shape, seed, data):
    """PyTorch's running index moves to every new tie (the last occurrence) and to every NaN,
    and stays on a NaN until the next NaN."""
    d = _dim(data.draw, shape)
    x = ties(seed, shape, dtype, nan)
    # PyTorch's gradient of an empty cummax requires grad itself, which S.compare cannot read
    same(lambda L, a: getattr(L, name)(a, d), [x], f"{name} d={d}", grad=x.size > 0)


@pytest.mark.parametrize("dtype", DTYPES)
@EACH
@given(consecutive=st.booleans(), inverse=st.booleans(), counts=st.booleans(),
       shape=S.shapes(), seed=S.seeds)
def test_unique_with_nan_matches_torch(dtype, consecutive, inverse, counts, shape, seed):
    """Every NaN is its own value in PyTorch (NaN != NaN), sorted after the numbers."""
    x = ties(seed, shape, dtype, nan=True)          # NaN-free floats: test_search_vs_torch.py
    kw = {"return_inverse": inverse, "return_counts": counts}

    def op(L, a):
        return L.unique_consecutive(a, **kw) if consecutive else L.unique(a, sorted=True, **kw)
    same(op, [x], f"unique {dtype} consecutive={consecutive}", grad=False)


@pytest.mark.parametrize("dtype", NUMBERS)
@EACH
@given(right=st.booleans(), use_sorter=st.booleans(), out_int32=st.booleans(), n=st.integers(0, 6),
       vshape=S.shapes(max_dims=2), seed=S.seeds)
def test_searchsorted_with_sorter_matches_torch(dtype, right, use_sorter, out_int32, n, vshape,
                                                seed):
    seq = ties(seed, (n,), dtype)
    values = ties(seed + 1, vshape, dtype)
    sorter = np.argsort(seq, kind="stable")
    if not use_sorter:
        seq = seq[sorter]
    kwargs = {"right": right, "out_int32": out_int32}

    def op(L, s, v, o):
        if use_sorter:
            return L.searchsorted(s, v, sorter=o, side="right" if right else "left")
        return L.searchsorted(s, v, **kwargs), L.bucketize(v, s, **kwargs)
    same(op, [seq, values, sorter], f"searchsorted {dtype} sorter={use_sorter}")


@FAST
@given(dtype=st.sampled_from(["float16", "float32", "float64", "int64"]), bins=st.integers(1, 5),
       limits=st.sampled_from([(0, 0), (-1, 1), (0, 2), (1, 1)]), shape=S.shapes(),
       seed=S.seeds)
def test_histc_matches_torch(dtype, bins, limits, shape, seed):
    x = array(seed, shape, dtype)           # int64: NotImplementedError in both
    same(lambda L, a: L.histc(a, bins, *limits), [x], f"histc {dtype} {bins} {limits}")


@FAST
@given(dtype=st.sampled_from(["uint8", "int8", "int32", "int64", "bool"]),
       weights=st.sampled_from([None, "float16", "float32", "float64", "int64"]),
       minlength=st.integers(0, 6), n=st.integers(0, 6), seed=S.seeds)
def test_bincount_matches_torch(dtype, weights, minlength, n, seed):
    """Weights in float32 give float32 counts, any others float64; an empty input gives
    int64 zeros even with weights; bool input is NotImplementedError (PyTorch's quirks)."""
    x = ties(seed, (n,), dtype)
    if weights is None:
        same(lambda L, a: L.bincount(a, minlength=minlength), [x], "bincount")
        return
    w = array(seed + 1, (n,), weights)
    same(lambda L, a, b: L.bincount(a, b, minlength=minlength), [x, w],
         f"bincount {dtype} weights {weights}")


@FAST
@given(dtype=st.sampled_from(DTYPES), n=st.integers(1, 3), ends=st.booleans(),
       shape=S.shapes(min_dims=1), seed=S.seeds, data=st.data())
def test_diff_matches_torch(dtype, n, ends, shape, seed, data):
    # left out, both in tinygen/ops/rearrange.py: a 0-d input (PyTorch: RuntimeError) and n=0
    # with prepend/append (PyTorch returns the input unchanged)
    d = _dim(data.draw, shape)
    x = ties(seed, shape, dtype)
    if not ends:
        same(lambda L, a: L.diff(a, n, d), [x], f"diff {dtype} n={n} d={d}")
        return
    edge = list(shape)
    edge[d] = data.draw(st.integers(0, 2))
    p, q = ties(seed + 1, tuple(edge), dtype), ties(seed + 2, tuple(edge), dtype)
    same(lambda L, a, b, c: L.diff(a, n, d, prepend=b, append=c), [x, p, q],
         f"diff {dtype} n={n} d={d} ends")


@FAST
@given(dtype=st.sampled_from(["float16", "float32", "float64", "int64"]),
       spacing=st.sampled_from(["none", "dx", "x"]), cumulative=st.booleans(),
       shape=S.shapes(min_dims=1, min_side=1), seed=S.seeds, data=st.data())
def test_trapezoid_matches_torch(dtype, spacing, cumulative, shape, seed, data):
    # left out (tinygen/ops/numeric.py): an empty integer input, where PyTorch's shortcut
    # returns integer zeros
    d = _dim(data.draw, shape)
    y = array(seed, shape, dtype)
    x = np.cumsum(np.abs(array(seed + 1, (shape[d],), "float64")) + 0.1)
    name = "cumulative_trapezoid" if cumulative else "trapezoid"

    def op(L, a, b):
        if spacing == "x":
            return getattr(L, name)(a, b, dim=d)
        return getattr(L, name)(a, **({"dx": 0.5} if spacing == "dx" else {}), dim=d)
    same(op, [y, x], f"{name} {dtype} {spacing} d={d}")


# ---- the mismatches these tests found, pinned (each fixed in tinygen) --------------------------

def test_topk_counts_nan_as_largest():
    x = np.array([1.0, np.nan, 3.0, np.nan, -1.0])
    values, indices = tg.topk(tg.tensor(x), 3)
    assert np.isnan(values.numpy()[:2]).all() and values[2].item() == 3.0
    assert indices.tolist() == [1, 3, 2]
    same(lambda L, a: L.topk(a, 3), [x], "topk")
    assert tg.topk(tg.tensor(x), 2, largest=False).indices.tolist() == [4, 0]


def test_unique_keeps_every_nan_apart():
    x = np.array([1.0, np.nan, 1.0, np.nan])
    values, inverse, counts = tg.unique(tg.tensor(x), return_inverse=True, return_counts=True)
    assert values.numpy()[0] == 1 and np.isnan(values.numpy()[1:]).all()
    assert counts.tolist() == [2, 1, 1] and inverse.tolist()[::2] == [0, 0]
    same(lambda L, a: L.unique(a, return_inverse=True, return_counts=True), [x], "unique",
         grad=False)


def test_bool_order_statistics_raise_torchs_errors():
    b = np.array([[True, False], [False, False]])
    for name in ("median", "nanmedian", "kthvalue"):
        k = (1,) if name == "kthvalue" else ()
        with pytest.raises(NotImplementedError, match="bool"):
            getattr(tg, name)(tg.tensor(b), *k, 0)
        assert same(lambda L, a: getattr(L, name)(a, *k, 0), [b], name) is None
        assert same(lambda L, a: getattr(L, name)(a, *k, 0), [np.zeros((0, 2), bool)],
                    name) is None                                   # IndexError first
    with pytest.raises(RuntimeError, match="bool"):
        tg.topk(tg.tensor(b), 1)
    assert tg.kthvalue(tg.tensor(True), 1).values.item() is True   # 0-d: returned as it is


def test_median_of_nothing_is_nan_and_mode_of_nothing_an_index_error():
    assert np.isnan(tg.median(tg.zeros(0)).item())
    same(lambda L, a: L.median(a), [np.zeros((2, 0))], "median")
    with pytest.raises(IndexError, match="non-zero"):
        tg.mode(tg.zeros(0))
    assert same(lambda L, a: L.mode(a, 1), [np.zeros((2, 0))], "mode") is None


def test_histc_and_bincount_dtypes():
    with pytest.raises(NotImplementedError):
        tg.histc(tg.tensor([1, 2]))
    ints = tg.tensor([0, 2, 2])
    assert tg.bincount(ints, tg.tensor([1.0, 2.0, 3.0], dtype=tg.float16)).dtype == tg.float64
    assert tg.bincount(ints, tg.tensor([1.0, 2.0, 3.0])).dtype == tg.float32
    assert tg.bincount(ints, tg.tensor([1, 2, 3])).tolist() == [1.0, 0.0, 5.0]
    empty = tg.bincount(tg.tensor([], dtype=tg.int64), tg.tensor([]), minlength=2)
    assert empty.dtype == tg.int64 and empty.tolist() == [0, 0]
    with pytest.raises(NotImplementedError):
        tg.bincount(tg.tensor([True]))
