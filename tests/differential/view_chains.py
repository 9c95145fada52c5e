"""Random chains of view ops for the differential tests (test_views_*_vs_torch.py).

Each builder draws the arguments of one view op valid on ``t`` (a torch tensor: PyTorch decides
which drawn ops are valid, so a chain never stops half way) and returns ``fn(L, x)``, run alike
on both libraries (``L`` is ``torch`` or ``tinygen``), or None where the op does not apply.
Slices have positive steps only: tinygen also accepts negative ones, on purpose."""

import math

import pytest
from hypothesis import strategies as st

from tests.differential import strategies as S

torch = pytest.importorskip("torch")


def _dim(draw, ndim, extra=0):
    n = ndim + extra
    return draw(st.integers(-n, n - 1)) if n else None


def _new_shape(draw, shape):
    """A shape of the same numel, sometimes with a -1."""
    numel = math.prod(shape)
    out, left = [], numel
    for _ in range(draw(st.integers(0, 2))):
        side = draw(st.sampled_from([d for d in (1, 2, 3) if numel and left % d == 0] or [1]))
        out.append(side)
        left //= side
    out.append(left if numel else 0)
    if draw(st.booleans()):
        out[draw(st.integers(0, len(out) - 1))] = -1
    return tuple(out)


def _view(draw, t):
    new = _new_shape(draw, tuple(t.shape))
    return draw(st.sampled_from([lambda L, x: x.view(new), lambda L, x: x.reshape(new),
                                 lambda L, x: x.view_as(L.empty(tuple(x.view(new).shape)))]))


def _permute(draw, t):
    order = draw(st.permutations(range(t.ndim)))
    return lambda L, x: x.permute(tuple(order))


def _transpose(draw, t):
    if t.ndim == 0:
        return None
    a, b = _dim(draw, t.ndim), _dim(draw, t.ndim)
    name = draw(st.sampled_from(["transpose", "swapaxes", "movedim"]))
    return lambda L, x: getattr(x, name)(a, b)


def _t(draw, t):
    if t.ndim > 2:
        return lambda L, x: x.mT
    return draw(st.sampled_from([lambda L, x: x.t(), lambda L, x: x.T]))


def _expand(draw, t):
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    new = lead + tuple(draw(st.sampled_from([n, -1] + [2] * (n == 1))) for n in t.shape)
    return lambda L, x: x.expand(new)


def _narrow(draw, t):
    if t.ndim == 0:
        return None
    d = _dim(draw, t.ndim)
    start = draw(st.integers(0, t.shape[d]))
    length = draw(st.integers(0, t.shape[d] - start))
    return lambda L, x: x.narrow(d, start, length)


def _select(draw, t):
    if t.ndim == 0 or 0 in t.shape:
        return None
    d = _dim(draw, t.ndim)
    i = draw(st.integers(-t.shape[d], t.shape[d] - 1))
    return lambda L, x: x.select(d, i)


def _slice(draw, t):
    """Basic indexing: ints, slices with positive steps, None and Ellipsis."""
    index = []
    for n in t.shape[:draw(st.integers(0, t.ndim))]:
        kind = draw(st.sampled_from(["int", "slice", "slice", "none"]))
        if kind == "int" and n:
            index.append(draw(st.integers(-n, n - 1)))
        elif kind == "none":
            index += [None, slice(None)]
        else:
            start = draw(st.none() | st.integers(-n - 1, n + 1))
            stop = draw(st.none() | st.integers(-n - 1, n + 1))
            index.append(slice(start, stop, draw(st.none() | st.integers(1, 3))))
    if draw(st.booleans()):
        index.append(Ellipsis)
    index = tuple(index)
    return lambda L, x: x[index]


def _unsqueeze(draw, t):
    d = _dim(draw, t.ndim, extra=1)
    return lambda L, x: x.unsqueeze(d)


def _squeeze(draw, t):
    if t.ndim == 0 or draw(st.booleans()):
        return lambda L, x: x.squeeze()
    d = _dim(draw, t.ndim)
    return lambda L, x: x.squeeze(d)


def _flatten(draw, t):
    if t.ndim == 0:
        return lambda L, x: x.flatten()
    a, b = sorted((_dim(draw, t.ndim) % t.ndim, _dim(draw, t.ndim) % t.ndim))
    return lambda L, x: x.flatten(a, b)


def _unflatten(draw, t):
    if t.ndim == 0:
        return None
    d = _dim(draw, t.ndim)
    n = t.shape[d]
    parts = draw(st.sampled_from([(n,), (1, n), (-1, 1)] + [(2, -1)] * (n % 2 == 0 and n > 0)))
    return lambda L, x: x.unflatten(d, parts)


def _diagonal(draw, t):
    if t.ndim < 2:
        return None
    a = _dim(draw, t.ndim)
    b = draw(st.sampled_from([d for d in range(t.ndim) if d != a % t.ndim]))
    offset = draw(st.integers(-2, 2))
    return lambda L, x: x.diagonal(offset, a, b)


def _unfold(draw, t):
    if t.ndim == 0:
        return None
    d = _dim(draw, t.ndim)
    size = draw(st.integers(0, t.shape[d]))
    step = draw(st.integers(max(size, 1), max(size, 1) + 1))     # windows never overlap
    return _read_only(lambda L, x: x.unfold(d, size, step))


def _pieces(draw, t):
    """One output of split, chunk or unbind."""
    if t.ndim == 0:
        return None
    d = _dim(draw, t.ndim)
    n = t.shape[d]
    kind = draw(st.sampled_from(["split", "chunk", "unbind"]))
    if kind == "unbind" and n == 0:
        return None
    if kind == "unbind":
        i = draw(st.integers(0, n - 1))
        return lambda L, x: x.unbind(d)[i]
    arg = draw(st.integers(1, 3))
    count = len(torch.empty(t.shape).split(arg, d) if kind == "split"
                else torch.empty(t.shape).chunk(arg, d))
    i = draw(st.integers(0, count - 1))
    return lambda L, x: getattr(x, kind)(arg, d)[i]


def _as_strided(draw, t):
    """as_strided on contiguous input (non-contiguous input is tested in tests/ops/
    test_index_gaps.py), its offset from the memory's start, as PyTorch's; every element it
    reads lies inside ``t``."""
    if not t.is_contiguous() or t.numel() == 0:
        return None
    size = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    stride = tuple(draw(st.integers(0, 3)) for _ in size)
    span = sum((n - 1) * s for n, s in zip(size, stride))
    if span >= t.numel():
        return None
    start = t.storage_offset() + draw(st.integers(0, t.numel() - 1 - span))
    return _read_only(lambda L, x: x.as_strided(size, stride, start))


def _read_only(fn):
    """Mark ``fn``'s result read-only in tinygen, as its docstring says: no ``_base`` and no
    in-place changes (``is_read_only``)."""
    fn.read_only = True
    return fn


def is_read_only(steps):
    """Whether a chain's result is read-only in tinygen (a step was unfold or as_strided)."""
    return any(getattr(fn, "read_only", False) for fn in steps)


VIEW_OPS = {"view": _view, "permute": _permute, "transpose": _transpose, "t": _t,
            "expand": _expand, "narrow": _narrow, "select": _select, "slice": _slice,
            "unsqueeze": _unsqueeze, "squeeze": _squeeze, "flatten": _flatten,
            "unflatten": _unflatten, "diagonal": _diagonal, "unfold": _unfold,
            "pieces": _pieces, "as_strided": _as_strided}
# in-place through these is refused or read-only in tinygen, on purpose (see the test files)
GRAD_VIEW_OPS = sorted(set(VIEW_OPS) - {"pieces", "unfold", "as_strided"})


@st.composite
def chains(draw, names=tuple(sorted(VIEW_OPS)), max_dims=3):
    """(base shape, [fn, ...]): every op in the chain succeeds on PyTorch."""
    shape = draw(S.shapes(max_dims=max_dims, min_side=1, max_side=3))
    t, steps = torch.zeros(shape), []
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=4)):
        fn = VIEW_OPS[name](draw, t)
        if fn is None:
            continue
        try:
            t = fn(torch, t)
        except (RuntimeError, IndexError):      # an invalid view is test_shape_vs_torch's
            continue
        steps.append(fn)
    return shape, steps


def run(L, x, steps):
    for fn in steps:
        x = fn(L, x)
    return x

