"""Shape ops against PyTorch: views, reordering, joining, splitting, flips, diagonals.

Each case draws its arguments from the input's shape (valid ones mostly, invalid ones sometimes,
where both libraries must raise the same error type) and is run on both libraries by the same
lambda, so values, dtypes, shapes and float64 gradients are compared by ``S.compare``."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygen as tg
from tests.differential import strategies as S

torch = pytest.importorskip("torch")

FAST = settings(max_examples=100, deadline=None, derandomize=True)
DTYPES = ("float64", "float64", "int64", "bool")


def _dim(draw, ndim, extra=0):
    """A dim of an ``ndim``-d tensor (``extra`` more allowed for unsqueeze), negatives too."""
    n = max(ndim + extra, 1)
    return draw(st.integers(-n, n - 1))


def _new_shape(draw, shape):
    """A shape of the same numel, sometimes with a -1, sometimes (rarely) a wrong one."""
    numel = math.prod(shape)
    sides = [d for d in range(1, 7) if numel and numel % d == 0]
    out, left = [], numel
    for _ in range(draw(st.integers(0, 3))):
        d = draw(st.sampled_from([d for d in sides if left % d == 0] or [1]))
        out.append(d)
        left //= d
    if left != 1 or not numel or draw(st.booleans()):
        out.append(left if numel else 0)
    if out and draw(st.booleans()):
        out[draw(st.integers(0, len(out) - 1))] = -1
    if draw(st.integers(0, 9)) == 0:
        out.append(2)
    return tuple(out)


def _reshape(draw, shape):
    new = _new_shape(draw, shape)
    return lambda L, x: x.reshape(new)


def _view(draw, shape):
    new = _new_shape(draw, shape)
    transpose = len(shape) >= 2 and draw(st.booleans())     # often not viewable then
    return lambda L, x: (x.transpose(0, 1) if transpose else x).view(new)


def _permute(draw, shape):
    order = draw(st.permutations(range(len(shape))))
    order = [d - len(shape) if draw(st.booleans()) else d for d in order]
    return lambda L, x: x.permute(tuple(order))


def _transpose(draw, shape):
    a, b = _dim(draw, len(shape)), _dim(draw, len(shape))
    name = draw(st.sampled_from(["transpose", "swapaxes", "swapdims"]))
    return lambda L, x: getattr(L, name)(x, a, b)


def _t(draw, shape):
    return lambda L, x: x.t()


def _squeeze(draw, shape):
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return lambda L, x: x.squeeze()
    if kind == "int":
        d = _dim(draw, len(shape))
        return lambda L, x: x.squeeze(d)
    dims = draw(S.dims(len(shape), allow_none=False, allow_tuple=True))
    dims = dims if isinstance(dims, tuple) else (dims,)
    return lambda L, x: L.squeeze(x, dims)


def _unsqueeze(draw, shape):
    d = _dim(draw, len(shape), extra=1)
    return lambda L, x: L.unsqueeze(x, d)


def _flatten(draw, shape):
    a, b = _dim(draw, len(shape)), _dim(draw, len(shape))
    return lambda L, x: L.flatten(x, a, b)


def _unflatten(draw, shape):
    if not shape:               # PyTorch fails inside on 0-d ("unexpected error")
        return lambda L, x: x.reshape(1).unflatten(0, (1, -1))
    d = _dim(draw, len(shape))
    side = shape[d]
    parts = draw(st.sampled_from([(side,), (1, side), (-1, 1), (side, 1, 1)]
                                 + ([(2, side // 2), (-1, 2)] if side and side % 2 == 0 else [])))
    return lambda L, x: x.unflatten(d, parts)


def _expand(draw, shape):
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    new = lead + tuple(draw(st.sampled_from([s, -1] + [2, 3] * (s == 1))) for s in shape)
    as_ = draw(st.booleans()) and -1 not in new
    if as_:
        return lambda L, x: x.expand_as(L.zeros(new))
    return lambda L, x: x.expand(new)


def _repeat(draw, shape):
    reps = tuple(draw(st.lists(st.integers(0, 3), min_size=max(len(shape) - 1, 0),
                               max_size=len(shape) + 1)))
    if draw(st.booleans()):
        return lambda L, x: L.tile(x, reps)
    return lambda L, x: x.repeat(reps)


def _flip(draw, shape):
    kind = draw(st.sampled_from(["flip", "fliplr", "flipud"]))
    if kind != "flip":
        return lambda L, x: getattr(L, kind)(x)
    dims = draw(S.dims(len(shape), allow_none=False))
    dims = dims if isinstance(dims, tuple) else ((dims,) if dims is not None else ())
    return lambda L, x: L.flip(x, dims)


def _roll(draw, shape):
    if draw(st.booleans()) or not shape:
        shift = draw(st.integers(-5, 5))
        return lambda L, x: L.roll(x, shift)
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=3))
    shifts = tuple(draw(st.integers(-5, 5)) for _ in dims)
    one = len(dims) == 1 and draw(st.booleans())
    if one:
        return lambda L, x: L.roll(x, shifts[0], dims[0])
    return lambda L, x: L.roll(x, shifts, tuple(dims))


def _narrow(draw, shape):
    d = _dim(draw, len(shape))
    side = shape[d] if shape else 0
    start = draw(st.integers(-side, side)) if side else 0
    length = draw(st.integers(0, max(side - (start % side if side else 0), 0) + 1))
    return lambda L, x: L.narrow(x, d, start, length)


def _movedim(draw, shape):
    n = len(shape)
    src = draw(st.lists(st.integers(0, max(n - 1, 0)), unique=True, max_size=n))
    dst = draw(st.lists(st.integers(0, max(n - 1, 0)), unique=True, min_size=len(src),
                        max_size=len(src)))
    if len(src) == 1 and draw(st.booleans()):
        return lambda L, x: L.movedim(x, src[0] - n, dst[0])
    return lambda L, x: L.movedim(x, tuple(src), tuple(dst))


def _diagonal(draw, shape):
    off = draw(st.integers(-3, 3))
    a, b = _dim(draw, len(shape)), _dim(draw, len(shape))
    return lambda L, x: L.diagonal(x, off, a, b)


def _tri(draw, shape):
    name, off = draw(st.sampled_from(["tril", "triu"])), draw(st.integers(-3, 3))
    return lambda L, x: getattr(L, name)(x, off)


def _diag_embed(draw, shape):
    off = draw(st.integers(-2, 2))
    a, b = _dim(draw, len(shape), extra=1), _dim(draw, len(shape), extra=1)
    return lambda L, x: L.diag_embed(x, off, a, b)


def _split(draw, shape):
    d = _dim(draw, len(shape))
    side = shape[d] if shape else 0
    kind = draw(st.sampled_from(["split", "sizes", "chunk", "tensor_split", "indices",
                                 "unbind"]))
    if kind == "split":
        size = draw(st.integers(1, 4))
        return lambda L, x: L.split(x, size, d)
    if kind == "sizes":
        sizes = []
        while sum(sizes) < side:
            sizes.append(draw(st.integers(0, side - sum(sizes))))
        return lambda L, x: L.split(x, sizes, d)
    if kind == "chunk":
        n = draw(st.integers(1, 4))
        return lambda L, x: L.chunk(x, n, d)
    if kind == "tensor_split":
        n = draw(st.integers(1, 4))
        return lambda L, x: L.tensor_split(x, n, d)
    if kind == "indices":
        idx = draw(st.lists(st.integers(-side - 1, side + 1), max_size=3))
        return lambda L, x: L.tensor_split(x, idx, d)
    return lambda L, x: L.unbind(x, d)


CASES = {name[1:]: fn for name, fn in globals().items()
         if name.startswith("_") and callable(fn) and name not in ("_dim", "_new_shape")}


@FAST
@given(name=st.sampled_from(sorted(CASES)), shape=S.shapes(max_dims=4), seed=S.seeds,
       dtype=st.sampled_from(DTYPES), data=st.data())
def test_shape_ops_match_torch(name, shape, seed, dtype, data):
    op = CASES[name](data.draw, shape)
    x = S.array(seed, shape, dtype)
    S.compare(torch, lambda a: op(tg, a), lambda a: op(torch, a), [x], seed, what=name)


def _same_shape_tail(draw, n):
    """``n`` shapes equal but in one dim (for cat) and the dim."""
    base = list(draw(S.shapes(min_dims=1, max_dims=3)))
    d = draw(st.integers(-len(base), len(base) - 1))
    out = []
    for _ in range(n):
        s = list(base)
        s[d] = draw(st.integers(0, 3))
        out.append(tuple(s))
    return out, d


@FAST
@given(kind=st.sampled_from(["cat", "concat", "stack", "hstack", "vstack", "dstack"]),
       n=st.integers(1, 3), seed=S.seeds, dtypes=st.lists(st.sampled_from(DTYPES), min_size=3,
                                                           max_size=3), data=st.data())
def test_joining_ops_match_torch(kind, n, seed, dtypes, data):
    shapes, d = _same_shape_tail(data.draw, n)
    if kind == "stack" or kind.endswith("stack") and data.draw(st.booleans()):
        shapes = [shapes[0]] * n
    if data.draw(st.integers(0, 7)) == 0:                      # a mismatch to be refused
        shapes[-1] = shapes[-1] + (2,)
    arrays = [S.array(seed + i, s, t) for i, (s, t) in enumerate(zip(shapes, dtypes))]
    if kind in ("cat", "concat", "stack"):
        def op(L, *xs):
            return getattr(L, kind)(list(xs), d)
    else:
        def op(L, *xs):
            return getattr(L, kind)(xs)
    S.compare(torch, lambda *a: op(tg, *a), lambda *a: op(torch, *a), arrays, seed, what=kind)


def test_view_of_non_contiguous_raises_like_torch():
    x = np.arange(6.0).reshape(2, 3)
    assert S.compare(torch, lambda a: a.t().view(6), lambda a: a.t().view(6), [x]) is None
    assert S.compare(torch, lambda a: a.view(-1, -1), lambda a: a.view(-1, -1), [x]) is None
    with pytest.raises(RuntimeError):
        tg.tensor(x).view(4, -1)


# ---- the mismatches these tests found, pinned (each fixed in tinygen) --------------------------

def _same(op, *arrays):
    return S.compare(torch, lambda *a: op(tg, *a), lambda *a: op(torch, *a),
                     [np.asarray(a) for a in arrays])


@pytest.mark.parametrize("op", [
    lambda L, x: L.narrow(x, 0, 0, 0),                  # 0-d: RuntimeError, not IndexError
    lambda L, x: L.diag_embed(x, 0, 0, 0),
    lambda L, x: L.split(x, 1), lambda L, x: L.chunk(x, 2), lambda L, x: L.tensor_split(x, 2),
    lambda L, x: L.cat([x, x])])
def test_zero_d_inputs_are_refused_like_torch(op):
    assert _same(op, np.float64(1.0)) is None


def test_narrow_start_and_length_errors():
    assert _same(lambda L, x: L.narrow(x, 0, 4, 0), np.zeros(3)) is None       # IndexError
    assert _same(lambda L, x: L.narrow(x, 0, 1, 3), np.zeros(3)) is None       # RuntimeError
    with pytest.raises(IndexError):
        tg.zeros(3).narrow(0, -4, 1)


def test_split_into_no_sizes_and_cat_skipping_empty_vectors():
    assert _same(lambda L, x: L.split(x, [], 0), np.zeros(0)) == ()
    _same(lambda L, a, b: L.cat([a, b, a]), np.zeros(0), np.ones((2, 3)))
    _same(lambda L, a, b: L.cat([a, b], 1), np.zeros(0, np.int64), np.ones((2, 0)))


def test_unflatten_infers_minus_one_from_the_dim_alone():
    _same(lambda L, x: x.unflatten(0, (-1, 1)), np.zeros((0, 0)))
    assert _same(lambda L, x: x.unflatten(0, (3, -1)), np.zeros((4, 2))) is None
