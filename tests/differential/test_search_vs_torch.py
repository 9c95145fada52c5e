"""Sorting and searching against PyTorch: sort, argsort, msort, topk, kthvalue, searchsorted,
bucketize, unique, unique_consecutive and nonzero.

Where PyTorch documents no order among equal values (sort without ``stable``, topk, kthvalue's
index), the data is float (normal draws: no ties); stable sorts and the unique family get
small integers, full of ties, since their results are defined for them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")

FAST = settings(max_examples=40, deadline=None, derandomize=True)


def _dim(draw, shape):
    n = max(len(shape), 1)
    return draw(st.integers(-n, n - 1))


@FAST
@given(name=st.sampled_from(["sort", "argsort", "msort"]), stable=st.booleans(),
       descending=st.booleans(), shape=S.shapes(max_dims=3), seed=S.seeds,
       dtype=st.sampled_from(["float64", "float32", "int64", "bool"]), data=st.data())
def test_sort_matches_torch(name, stable, descending, shape, seed, dtype, data):
    if not stable and dtype not in S.FLOATS:        # ties: order unspecified
        stable = True
    d = _dim(data.draw, shape)
    x = S.array(seed, shape, dtype)
    ops = {"sort": lambda L, a: L.sort(a, dim=d, descending=descending, stable=stable),
           "argsort": lambda L, a: L.argsort(a, dim=d, descending=descending, stable=stable),
           "msort": lambda L, a: L.msort(a)}
    S.compare(torch, lambda a: ops[name](tg, a), lambda a: ops[name](torch, a), [x], seed,
              what=f"{name} d={d} desc={descending}")


@FAST
@given(largest=st.booleans(), sorted_=st.booleans(), shape=S.shapes(max_dims=3), seed=S.seeds,
       kth=st.booleans(), keepdim=st.booleans(), data=st.data())
def test_topk_and_kthvalue_match_torch(largest, sorted_, shape, seed, kth, keepdim, data):
    d = _dim(data.draw, shape)
    side = shape[d] if shape else 1
    k = data.draw(st.integers(0 + kth, side + 1))   # side + 1: an error in both
    x = S.array(seed, shape, "float64")
    if kth:
        def op(L, a):
            return L.kthvalue(a, k, d, keepdim=keepdim)
    elif sorted_:
        def op(L, a):
            return L.topk(a, k, d, largest=largest, sorted=True)
    else:                   # unsorted: the order is unspecified, so sort both the same way
        def op(L, a):
            values, indices = L.topk(a, k, d, largest=largest, sorted=False)
            order = L.argsort(indices, dim=d)
            return L.gather(values, d, order), L.gather(indices, d, order)
    S.compare(torch, lambda a: op(tg, a), lambda a: op(torch, a), [x], seed,
              what=f"topk/kth k={k} d={d}")


@FAST
@given(right=st.booleans(), use_side=st.booleans(), nd=st.booleans(),
       n=st.integers(0, 5), vshape=S.shapes(max_dims=2), seed=S.seeds,
       dtype=st.sampled_from(["int64", "float64"]), out_int32=st.booleans())
def test_searchsorted_and_bucketize_match_torch(right, use_side, nd, n, vshape, seed, dtype,
                                                out_int32):
    rng = np.random.default_rng(seed)
    lead = vshape[:-1] if nd and vshape else ()
    seq = np.sort(S.array(seed, lead + (n,), dtype), axis=-1)
    values = S.array(seed + 1, vshape, dtype)
    kwargs = {"side": "right" if right else "left"} if use_side else {"right": right}
    bucket = not nd and rng.integers(2)

    def op(L, s, v):
        if bucket:
            return L.bucketize(v, s, out_int32=out_int32, right=right)
        return L.searchsorted(s, v, out_int32=out_int32, **kwargs)
    S.compare(torch, lambda s, v: op(tg, s, v), lambda s, v: op(torch, s, v), [seq, values],
              seed, what=f"searchsorted bucket={bucket} {kwargs}")


@FAST
@given(consecutive=st.booleans(), inverse=st.booleans(), counts=st.booleans(),
       use_dim=st.booleans(), shape=S.shapes(max_dims=3), seed=S.seeds,
       dtype=st.sampled_from(["int64", "float64", "bool"]), data=st.data())
def test_unique_matches_torch(consecutive, inverse, counts, use_dim, shape, seed, dtype, data):
    d = _dim(data.draw, shape) if use_dim else None
    x = S.array(seed, shape, dtype, low=0, high=3)
    if dtype == "float64":                          # ties in a float tensor
        x = np.round(x)
    kw = {"return_inverse": inverse, "return_counts": counts, "dim": d}

    def op(L, a):
        if consecutive:
            return L.unique_consecutive(a, **kw)
        return L.unique(a, sorted=True, **kw)
    S.compare(torch, lambda a: op(tg, a), lambda a: op(torch, a), [x], seed, grad=False,
              what=f"unique consecutive={consecutive} {kw}")


@FAST
@given(as_tuple=st.booleans(), shape=S.shapes(max_dims=3), seed=S.seeds,
       dtype=st.sampled_from(["int64", "float64", "bool"]))
def test_nonzero_matches_torch(as_tuple, shape, seed, dtype):
    x = S.array(seed, shape, dtype, low=-1, high=2)
    S.compare(torch, lambda a: tg.nonzero(a, as_tuple=as_tuple),
              lambda a: torch.nonzero(a, as_tuple=as_tuple), [x], seed, what="nonzero")
    S.compare(torch, lambda a: tg.argwhere(a), lambda a: torch.argwhere(a), [x], seed,
              what="argwhere")


# ---- the mismatches these tests found, pinned (each fixed in tinygen) --------------------------

def _same(op, *arrays):
    return S.compare(torch, lambda *a: op(tg, *a), lambda *a: op(torch, *a),
                     [np.asarray(a) for a in arrays])


def test_kthvalue_errors_have_torchs_types():
    assert _same(lambda L, x: L.kthvalue(x, 2), np.zeros(1)) is None     # RuntimeError
    assert _same(lambda L, x: L.kthvalue(x, 1), np.zeros(0)) is None     # IndexError


def test_searchsorted_with_no_rows():
    _same(lambda L, s, v: L.searchsorted(s, v), np.zeros((0, 1)), np.zeros((0, 0)))
    _same(lambda L, s, v: L.searchsorted(s, v, side="right"), np.zeros((0, 0), np.int64),
          np.zeros((0, 2), np.int64))


@pytest.mark.parametrize("shape, dim", [((0, 0), 0), ((0, 1), 1), ((2, 0), 1)])
def test_unique_along_a_dim_with_empty_dims(shape, dim):
    for name in ("unique", "unique_consecutive"):
        _same(lambda L, x: getattr(L, name)(x, dim=dim), np.zeros(shape, np.int64))
