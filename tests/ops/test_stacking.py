"""hstack, vstack, dstack, column_stack, row_stack, atleast_nd, hsplit, vsplit, dsplit,
split_with_sizes, fliplr, flipud, rot90, ravel, t, diag_embed, diagflat, cartesian_prod,
combinations, broadcast_tensors and broadcast_shapes: values against NumPy, gradients against
finite differences."""

import itertools

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck

# name, shapes of the inputs, tinygen function, NumPy reference
CASES = [
    ("hstack", [(2, 3), (2, 1)], lambda *ts: tg.hstack(ts), lambda *a: np.hstack(a)),
    ("hstack 1-d", [(2,), (3,)], lambda *ts: tg.hstack(list(ts)), lambda *a: np.hstack(a)),
    ("vstack", [(3,), (2, 3)], lambda *ts: tg.vstack(ts), lambda *a: np.vstack(a)),
    ("row_stack", [(3,), (3,)], lambda *ts: tg.row_stack(ts), lambda *a: np.vstack(a)),
    ("dstack", [(2,), (1, 2), (1, 2, 2)], lambda *ts: tg.dstack(ts), lambda *a: np.dstack(a)),
    ("column_stack", [(3,), (3, 2), (3,)], lambda *ts: tg.column_stack(ts),
     lambda *a: np.column_stack(a)),
    ("atleast_3d", [(4,)], tg.atleast_3d, np.atleast_3d),
    ("atleast_3d of 2-d", [(2, 4)], tg.atleast_3d, np.atleast_3d),
    ("atleast_2d", [()], tg.atleast_2d, np.atleast_2d),
    ("atleast_1d", [()], tg.atleast_1d, np.atleast_1d),
    ("fliplr", [(2, 3, 2)], lambda x: x.fliplr(), np.fliplr),
    ("flipud", [(2, 3)], tg.flipud, np.flipud),
    ("rot90", [(2, 3, 4)], lambda x: x.rot90(), np.rot90),
    ("rot90 k=2", [(2, 3, 4)], lambda x: tg.rot90(x, 2, (2, 0)),
     lambda a: np.rot90(a, 2, (2, 0))),
    ("rot90 k=-1", [(2, 3, 4)], lambda x: tg.rot90(x, -1, (1, 2)),
     lambda a: np.rot90(a, -1, (1, 2))),
    ("ravel", [(2, 3)], lambda x: x.T.ravel(), lambda a: a.T.ravel()),
    ("t", [(2, 3)], tg.t, np.transpose),
    ("t of vector", [(3,)], tg.t, lambda a: a),
    ("diagflat", [(2, 2)], lambda x: x.diagflat(-1), lambda a: np.diagflat(a, -1)),
    ("diag_embed", [(2, 3)], lambda x: x.diag_embed(1),
     lambda a: np.stack([np.diag(row, 1) for row in a])),
    ("diag_embed dims", [(2, 3)], lambda x: tg.diag_embed(x, -1, 0, 2),
     lambda a: np.stack([np.diag(row, -1) for row in a]).transpose(1, 0, 2)),
    ("cartesian_prod", [(2,), (3,)], tg.cartesian_prod,
     lambda a, b: np.array(list(itertools.product(a, b)))),
    ("combinations", [(4,)], lambda x: tg.combinations(x, 3),
     lambda a: np.array(list(itertools.combinations(a, 3)))),
    ("combinations with replacement", [(3,)], lambda x: tg.combinations(x, with_replacement=True),
     lambda a: np.array(list(itertools.combinations_with_replacement(a, 2)))),
]


@pytest.mark.parametrize("name, shapes, fn, ref", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name, shapes, fn, ref, device, rng, leaf):
    inputs = [leaf(rng, *s, device=device) for s in shapes]
    got, want = fn(*inputs), ref(*(host(x) for x in inputs))
    np.testing.assert_equal(host(got), want)
    assert gradcheck(fn, inputs)


def test_splits(device):
    x = tg.arange(24, device=device).reshape(2, 4, 3)
    a = host(x)
    for got, want in ((x.hsplit(2), np.hsplit(a, 2)), (tg.vsplit(x, [1]), np.vsplit(a, [1])),
                      (x.dsplit([1, 2]), np.dsplit(a, [1, 2])),
                      (tg.hsplit(x[0, 0], 3), np.hsplit(a[0, 0], 3)),
                      (x.split_with_sizes([1, 3], 1), np.split(a, [1], 1))):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_equal(host(g), w)
    with pytest.raises(RuntimeError, match="not divisible"):
        tg.hsplit(x, 3)
    with pytest.raises(RuntimeError, match="at least 3 dimension"):
        tg.dsplit(x[0], 3)


def test_broadcasting_helpers(device, rng, leaf):
    assert tg.broadcast_shapes((2, 1), (3,), 1) == (2, 3)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        tg.broadcast_shapes((2,), (3,))
    a, b = leaf(rng, 2, 1, device=device), leaf(rng, 3, device=device)
    x, y = tg.broadcast_tensors(a, b)
    assert x.shape == y.shape == (2, 3)
    assert gradcheck(lambda p, q: tg.broadcast_tensors([p, q])[0] * tg.broadcast_tensors(p, q)[1],
                     (a, b))
    assert tg.atleast_1d(a, b)[1] is b and len(tg.atleast_2d([a, b])) == 2
    assert tg.combinations(b, 4).shape == (0, 4) and tg.combinations(b, 0).shape == (0,)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(24.0).reshape(2, 3, 4)
    t, x = torch.tensor(a), tg.tensor(a)
    np.testing.assert_equal(host(x.rot90(3, (0, 2))), t.rot90(3, (0, 2)).numpy())
    np.testing.assert_equal(host(tg.diag_embed(x, 2, 1, 0)), torch.diag_embed(t, 2, 1, 0).numpy())
    np.testing.assert_equal(host(tg.combinations(x[0, 0], 2, True)),
                            torch.combinations(t[0, 0], 2, True).numpy())
    assert tuple(torch.combinations(t[0, 0], 0).shape) == tg.combinations(x[0, 0], 0).shape
    np.testing.assert_equal(host(tg.column_stack([x[0, 0], x[0, 1]])),
                            torch.column_stack([t[0, 0], t[0, 1]]).numpy())


def test_rot90_of_a_vector_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="total dims >= 2"):
        tg.rot90(tg.zeros(5))
