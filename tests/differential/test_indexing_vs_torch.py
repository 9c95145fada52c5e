"""Indexing against PyTorch: getitem and setitem with every kind of index item (slices with
steps, ints, integer arrays and lists that broadcast, full and partial boolean masks, None,
Ellipsis, 0-d tensors), and the gather/scatter/index_*/masked_*/take/put family.

Negative slice steps are left out: PyTorch refuses them (ValueError) where tinygen, like NumPy,
accepts them, a deliberate extension its own tests rely on."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")

FAST = settings(max_examples=60, deadline=None, derandomize=True)
DTYPES = ("float64", "float64", "int64", "bool")


def _item(rng, side, ishape, numel):
    """One index item for a dim of size ``side``: (kind, payload)."""
    kind = rng.choice(["slice", "slice", "int", "arr", "arr", "list", "t0", "mask"])
    if kind == "slice":
        bound = [None] + list(range(-side - 2, side + 3))
        return kind, (rng.choice(bound), rng.choice(bound), rng.choice([None, 1, 2, 3]))
    # PyTorch checks no bounds on a tensor without elements (x[[5]] of a (1, 0) x gives (1, 0))
    low, high = (-side, side) if rng.integers(16) or not numel else (-side - 1, side + 1)
    if kind in ("int", "t0") or kind == "arr" and not side and int(np.prod(ishape)):
        return ("int" if kind == "arr" else kind), int(rng.integers(low, max(high, low + 1)))
    if kind == "list":      # as long as the arrays' last dim, so that they broadcast
        size = ishape[-1] if ishape and side else 0
        return kind, rng.integers(low, max(high, low + 1), size=size).tolist()
    if kind == "arr":
        shape = tuple(s if rng.integers(2) else 1 for s in ishape)
        return kind, rng.integers(low, high, size=shape) if side else np.zeros(shape, int)
    return kind, rng.random(side) < 0.5


@st.composite
def indices(draw, shape, seed):
    """A list of index items for ``shape``, masks joining dims, with None and Ellipsis; the
    items come from ``seed`` (hypothesis' own choices favour the first kinds too much)."""
    rng = np.random.default_rng(seed)
    ishape = draw(S.shapes(max_dims=2))
    items, d = [], 0
    extra = rng.integers(10) == 0                               # one index too many
    count = rng.choice([len(shape) + extra] * 3 + list(range(len(shape))))
    while d < count:
        side = shape[d] if d < len(shape) else 1
        kind, payload = _item(rng, side, ishape, int(np.prod(shape)))
        if kind == "mask":
            span = rng.integers(1, max(min(2, len(shape) - d), 1) + 1)
            payload = rng.random(shape[d:d + span]) < 0.5
            d += span - 1
        items.append((kind, payload))
        d += 1
    if items and rng.integers(2):
        a = rng.integers(0, len(items) + 1)
        b = rng.integers(a, len(items) + 1)
        items[a:b] = [("ellipsis", None)]
    for _ in range(rng.integers(0, 3)):
        items.insert(rng.integers(0, len(items) + 1), ("none", None))
    return items


def build(L, items):
    """The index tuple for library ``L`` (tinygen or torch)."""
    def one(kind, payload):
        if kind == "slice":
            return slice(*(None if p is None else int(p) for p in payload))
        if kind in ("arr", "mask"):
            return L.tensor(payload)
        if kind == "t0":
            return L.tensor(payload)
        return {"none": None, "ellipsis": Ellipsis}.get(kind, payload)
    return tuple(one(*item) for item in items)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(shape=S.shapes(min_dims=1, max_dims=4), seed=S.seeds, dtype=st.sampled_from(DTYPES),
       data=st.data())
def test_getitem_matches_torch(shape, seed, dtype, data):
    items = data.draw(indices(shape, seed))
    x = S.array(seed, shape, dtype)
    S.compare(torch, lambda a: a[build(tg, items)], lambda a: a[build(torch, items)], [x], seed,
              what=f"getitem {items}")


def _target(shape, items):
    """The positions x[index] selects, from PyTorch (None when it raises)."""
    try:
        return torch.arange(int(np.prod(shape))).reshape(shape)[build(torch, items)]
    except (IndexError, RuntimeError, ValueError):
        return None


@settings(max_examples=120, deadline=None, derandomize=True)
@given(shape=S.shapes(min_dims=1, max_dims=3), seed=S.seeds, dtype=st.sampled_from(DTYPES),
       data=st.data())
def test_setitem_matches_torch(shape, seed, dtype, data):
    items = data.draw(indices(shape, seed))
    picked = _target(shape, items)
    # repeated positions: PyTorch documents no winner
    assume(picked is None or picked.unique().numel() == picked.numel())
    vshape = () if picked is None else tuple(picked.shape)
    vshape = tuple(s if data.draw(st.booleans()) else 1 for s in vshape)
    vshape = vshape[data.draw(st.integers(0, len(vshape))):]
    x, v = S.array(seed, shape, dtype), S.array(seed + 3, vshape, dtype)

    def op(L):
        def run(a, b):
            y = a.clone()
            y[build(L, items)] = b
            return y
        return run
    S.compare(torch, op(tg), op(torch), [x, v], seed, what=f"setitem {items} {vshape}")


def test_setitem_of_a_python_scalar_and_a_view_chain():
    x = np.arange(12.0).reshape(3, 4)

    def op(a):
        y = a * 1
        y[1:, [0, -1]] = 7.5
        y[..., None, 0][y[:, 0, None] > 4] = -1.0
        return y
    S.compare(torch, op, op, [x])


# ---- gather / scatter / index_* / masked_* / take / put ----------------------------------------

def _along(draw, shape, seed, same=True):
    """A dim and an int64 index tensor shaped like x but (not ``same``) smaller along dims."""
    d = draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    side = shape[d] if shape else 1
    ishape = tuple(s if same or draw(st.booleans()) else draw(st.integers(0, s)) for s in shape)
    rng = np.random.default_rng(seed + 11)
    return d, (rng.integers(0, side, ishape) if side else np.zeros(ishape, np.int64))


def _distinct_along(shape, ishape, d, seed):
    """An index of ``ishape`` whose entries along ``d`` are distinct positions < shape[d]."""
    if not shape:
        return np.zeros((), np.int64)
    full = ishape[:d % len(shape)] + (shape[d],) + ishape[d % len(shape) + 1:]
    keys = np.random.default_rng(seed).random(full)
    return np.take(np.argsort(keys, axis=d), np.arange(ishape[d]), axis=d)


@FAST
@given(name=st.sampled_from(["gather", "scatter", "scatter_add", "take_along_dim",
                             "scatter_reduce"]),
       reduce=st.sampled_from(["sum", "prod", "mean", "amax", "amin"]),
       include_self=st.booleans(), shape=S.shapes(max_dims=3), seed=S.seeds, data=st.data())
def test_gather_scatter_match_torch(name, reduce, include_self, shape, seed, data):
    d, index = _along(data.draw, shape, seed, same=False)
    x = S.array(seed, shape, "float64")
    src = S.array(seed + 1, index.shape, "float64")
    if name == "gather":
        op = (lambda L: lambda a, s: L.gather(a, d, L.tensor(index)) + 0 * s.sum())
    elif name == "take_along_dim":
        op = (lambda L: lambda a, s: L.take_along_dim(a, L.tensor(index), d) + 0 * s.sum())
    elif name == "scatter_reduce":
        op = (lambda L: lambda a, s: L.scatter_reduce(a, d, L.tensor(index), s, reduce,
                                                      include_self=include_self))
    else:
        if name == "scatter":   # repeated positions have no defined winner: make them distinct
            index = _distinct_along(shape, index.shape, d, seed)
        op = (lambda L: lambda a, s: getattr(L, name)(a, d, L.tensor(index), s))
    S.compare(torch, op(tg), op(torch), [x, src], seed, what=f"{name} {reduce} {d}")


@FAST
@given(name=st.sampled_from(["index_select", "index_add", "index_copy", "index_fill"]),
       shape=S.shapes(min_dims=1, max_dims=3), seed=S.seeds, data=st.data())
def test_index_ops_match_torch(name, shape, seed, data):
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    side = shape[d]
    n = data.draw(st.integers(0, 4))
    rng = np.random.default_rng(seed)
    if name == "index_copy":                        # distinct positions: defined result
        index = rng.permutation(side)[:n]
    else:
        index = rng.integers(-side * (name == "index_fill"), max(side, 1), n) if side \
            else np.zeros(0, np.int64)
    src_shape = shape[:d % len(shape)] + (len(index),) + shape[d % len(shape) + 1:]
    x, src = S.array(seed, shape, "float64"), S.array(seed + 1, src_shape, "float64")
    ops = {"index_select": lambda L, a, s: L.index_select(a, d, L.tensor(index)) + 0 * s.sum(),
           "index_add": lambda L, a, s: L.index_add(a, d, L.tensor(index), s, alpha=2),
           "index_copy": lambda L, a, s: L.index_copy(a, d, L.tensor(index), s),
           "index_fill": lambda L, a, s: L.index_fill(a, d, L.tensor(index), -2.5) + s.sum()}
    S.compare(torch, lambda a, s: ops[name](tg, a, s), lambda a, s: ops[name](torch, a, s),
              [x, src], seed, what=f"{name} {d} {index}")


@FAST
@given(name=st.sampled_from(["masked_fill", "masked_scatter", "masked_select", "where",
                             "take", "put"]),
       pair=S.broadcast_pairs(), seed=S.seeds, dtype=st.sampled_from(DTYPES), data=st.data())
def test_masked_and_flat_ops_match_torch(name, pair, seed, dtype, data):
    x_shape, m_shape = pair
    if name in ("masked_scatter", "take", "put"):
        m_shape = x_shape
    mask = np.random.default_rng(seed).random(m_shape) < 0.5
    x = S.array(seed, x_shape, dtype)
    numel = int(np.prod(x_shape))
    rng = np.random.default_rng(seed + 2)
    flat = rng.permutation(numel)[:data.draw(st.integers(0, 3))] - numel * rng.integers(0, 2)
    src = S.array(seed + 1, (mask.sum(),) if name == "masked_scatter" else
                  flat.shape if name == "put" else m_shape, dtype)
    ops = {"masked_fill": lambda L, a, s: L.masked_fill(a, L.tensor(mask), 1.5),
           "masked_scatter": lambda L, a, s: L.masked_scatter(a, L.tensor(mask), s),
           "masked_select": lambda L, a, s: L.masked_select(a, L.tensor(mask)),
           "where": lambda L, a, s: L.where(L.tensor(mask), a, s),
           "take": lambda L, a, s: L.take(a, L.tensor(flat)),
           "put": lambda L, a, s: L.put(a, L.tensor(flat), s,
                                        accumulate=bool(seed % 2))}
    S.compare(torch, lambda a, s: ops[name](tg, a, s), lambda a, s: ops[name](torch, a, s),
              [x, src], seed, what=name)


# ---- the mismatches these tests found, pinned (each fixed in tinygen) --------------------------

def _same(op, *arrays):
    return S.compare(torch, lambda *a: op(tg, *a), lambda *a: op(torch, *a),
                     [np.asarray(a) for a in arrays])


@pytest.mark.parametrize("index", [
    lambda L: (0, slice(None), [1]), lambda L: (L.tensor(0), slice(None), L.tensor([True, False])),
    lambda L: (None, 0, [[1], [0]], 1), lambda L: (-1, None, None, [-1, 0, 1])])
def test_ints_are_applied_before_advanced_indices(index):
    # PyTorch: x[0, :, [1]] is (3, 1); NumPy puts the array dims first, (1, 3)
    x, value = np.arange(12.0).reshape(2, 3, 2), np.arange(3.0)[:, None]
    _same(lambda L, a: a[index(L)], x)

    def put(L, a, v):
        y = a * 1
        y[index(L)] = v
        return y
    target = tuple(torch.zeros(2, 3, 2)[index(torch)].shape)
    _same(put, x, np.ones(target) * np.arange(target[-1]))
    if target == (3, 1):
        _same(put, x, value)


def test_zero_size_and_zero_d_index_ops():
    _same(lambda L, a, s: L.index_add(a, 0, L.tensor([], dtype=L.int64), s), np.zeros((0, 0)),
          np.zeros((0, 0)))
    _same(lambda L, a, s: L.index_copy(a, 1, L.tensor([], dtype=L.int64), s), np.zeros((0, 2)),
          np.zeros((0, 0)))
    _same(lambda L, a: L.take_along_dim(a, L.zeros((0, 0), dtype=L.int64), 1), np.zeros((1, 0)))
    for op in ("scatter", "scatter_add"):
        _same(lambda L, a, s: getattr(L, op)(a, 0, L.tensor(0), s), 1.0, 2.0)
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        _same(lambda L, a, s: L.scatter_reduce(a, 0, L.tensor(0), s, reduce,
                                               include_self=False), 1.0, 2.0)


def test_bool_accumulation_is_logical_or():
    _same(lambda L, a, s: L.put(a, L.tensor([0, 1, 1]), s, accumulate=True),
          np.array([True, False, False]), np.array([False, True, False]))
    _same(lambda L, a, s: L.index_put(a, (L.tensor([2, 2]),), s, accumulate=True),
          np.array([True, False, False]), np.array([False, False]))
