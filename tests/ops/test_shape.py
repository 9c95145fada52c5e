"""Shape ops: values against NumPy, gradients against finite differences (including size-1 and
zero-size dims), views, and the errors for shapes that don't fit."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64, shares_memory
from tinygen.autograd import gradcheck, gradgradcheck
from tinygen.ops import sum_to

# name, tinygen op, NumPy reference, input shape
SHAPE_OPS = [
    ("reshape", lambda x: x.reshape(4, -1), lambda a: a.reshape(4, -1), (2, 3, 4)),
    ("reshape tuple", lambda x: tg.reshape(x, (3, 8)), lambda a: a.reshape(3, 8), (2, 3, 4)),
    ("reshape to 0-d", lambda x: x.reshape(()), lambda a: a.reshape(()), (1, 1)),
    ("reshape zero-size", lambda x: x.reshape(3, -1, 2), lambda a: a.reshape(3, 0, 2), (0, 6)),
    ("view", lambda x: x.view(-1), lambda a: a.reshape(-1), (2, 3, 4)),
    ("view_as", lambda x: x.view_as(tg.ones(6, 4)), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("flatten", lambda x: x.flatten(), lambda a: a.reshape(-1), (2, 3, 4)),
    ("flatten(1)", lambda x: x.flatten(1), lambda a: a.reshape(2, 12), (2, 3, 4)),
    ("flatten(0, -2)", lambda x: tg.flatten(x, 0, -2), lambda a: a.reshape(6, 4), (2, 3, 4)),
    ("flatten 0-d", lambda x: x.flatten(), lambda a: a.reshape(1), ()),
    ("permute", lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    ("permute negative", lambda x: tg.permute(x, (-1, 0, -2)), lambda a: a.transpose(2, 0, 1),
     (2, 3, 4)),
    ("permute zero-size", lambda x: x.permute(1, 0), lambda a: a.T, (0, 3)),
    ("transpose", lambda x: x.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1), (2, 3, 4)),
    ("tg.transpose", lambda x: tg.transpose(x, 1, 2), lambda a: np.swapaxes(a, 1, 2),
     (2, 3, 4)),
    ("T", lambda x: x.T, lambda a: a.T, (3, 4)),
    ("t()", lambda x: x.t(), lambda a: a.T, (3, 4)),
    ("mT", lambda x: x.mT, lambda a: np.swapaxes(a, -1, -2), (2, 3, 4)),
    ("expand", lambda x: x.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), (3, 1)),
    ("expand -1", lambda x: x.expand(2, -1, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), (3, 1)),
    ("expand_as", lambda x: x.expand_as(tg.ones(5, 3)), lambda a: np.broadcast_to(a, (5, 3)),
     (3,)),
    ("expand 0-d", lambda x: x.expand(2, 3), lambda a: np.broadcast_to(a, (2, 3)), ()),
    ("expand zero-size", lambda x: x.expand(0, 3), lambda a: np.broadcast_to(a, (0, 3)), (1, 3)),
    ("broadcast_to", lambda x: tg.broadcast_to(x, (4, 2, 3)),
     lambda a: np.broadcast_to(a, (4, 2, 3)), (2, 1)),
    ("squeeze", lambda x: x.squeeze(), lambda a: a.squeeze(), (1, 3, 1, 2)),
    ("squeeze(dim)", lambda x: x.squeeze(2), lambda a: a.squeeze(2), (1, 3, 1, 2)),
    ("squeeze(-4)", lambda x: tg.squeeze(x, -4), lambda a: a.squeeze(0), (1, 3, 1, 2)),
    ("squeeze tuple", lambda x: x.squeeze((0, 2)), lambda a: a.squeeze((0, 2)), (1, 3, 1, 2)),
    ("squeeze non-1 dim", lambda x: x.squeeze(1), lambda a: a, (1, 3, 1, 2)),
    ("unsqueeze", lambda x: x.unsqueeze(1), lambda a: a[:, None], (3, 2)),
    ("unsqueeze -1", lambda x: tg.unsqueeze(x, -1), lambda a: a[..., None], (3, 2)),
    ("unsqueeze 0-d", lambda x: x.unsqueeze(0), lambda a: a[None], ()),
    ("flip", lambda x: x.flip((0, 2)), lambda a: np.flip(a, (0, 2)), (2, 3, 4)),
    ("flip int", lambda x: tg.flip(x, 1), lambda a: np.flip(a, 1), (2, 3, 4)),
    ("flip -1", lambda x: x.flip(-1), lambda a: np.flip(a, -1), (5,)),
    ("sum_to", lambda x: sum_to(x, (3, 1)), lambda a: a.sum(axis=(0, 2))[:, None], (2, 3, 4)),
    ("sum_to same rank", lambda x: sum_to(x, (1, 4)), lambda a: a.sum(0, keepdims=True),
     (3, 4)),
    ("split", lambda x: x.split(2, dim=1), lambda a: (a[:, :2], a[:, 2:]), (2, 3, 4)),
    ("split sizes", lambda x: tg.split(x, [1, 3], -1), lambda a: (a[..., :1], a[..., 1:]),
     (2, 3, 4)),
    ("chunk", lambda x: x.chunk(3), lambda a: (a[:2], a[2:4], a[4:]), (5, 2)),
    ("chunk dim", lambda x: tg.chunk(x, 2, -1), lambda a: (a[..., :2], a[..., 2:]), (2, 3, 4)),
]
SHAPE_IDS = [case[0] for case in SHAPE_OPS]


def _as_tuple(values):
    return values if isinstance(values, tuple) else (values,)


@pytest.mark.parametrize("name, op, ref, shape", SHAPE_OPS, ids=SHAPE_IDS)
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_shape_op_forward_matches_numpy(name, op, ref, shape, dtype, device, rng, leaf):
    x = leaf(rng, *shape, device=device, dtype=dtype, requires_grad=False)
    outputs, expected = _as_tuple(op(x)), _as_tuple(ref(host(x)))
    assert len(outputs) == len(expected)
    for y, e in zip(outputs, expected):
        assert y.dtype == dtype
        assert y.shape == e.shape
        np.testing.assert_allclose(host(y), e, rtol=1e-6 if name.startswith("sum_to") else 0)


@pytest.mark.parametrize("name, op, ref, shape", SHAPE_OPS, ids=SHAPE_IDS)
def test_shape_op_gradcheck(name, op, ref, shape, device, rng, leaf):
    x = leaf(rng, *shape, device=device)
    assert gradcheck(op, (x,))
    assert gradgradcheck(op, (x,))
    outputs = _as_tuple(op(x))
    loss = sum((y * tg.tensor(rng.standard_normal(y.shape), device=device)).sum()
               for y in outputs)
    loss.backward()
    assert x.grad.shape == x.shape and x.grad.dtype == tg.float64


@pytest.mark.parametrize("name, op, ref", [
    ("reshape", lambda x: x.reshape(3, 0), lambda a: a.reshape(3, 0)),
    ("flatten", lambda x: x.flatten(), lambda a: a.reshape(-1)),
    ("transpose", lambda x: x.transpose(0, 1), lambda a: a.T),
    ("unsqueeze", lambda x: x.unsqueeze(1), lambda a: a[:, None]),
    ("expand", lambda x: x.unsqueeze(0).expand(2, 0, 3), lambda a: np.broadcast_to(a, (2, 0, 3))),
    ("flip", lambda x: x.flip(0), lambda a: a[::-1]),
    ("split", lambda x: x.split(2, 1)[1], lambda a: a[:, 2:]),
    ("chunk", lambda x: x.chunk(2, 0)[1], lambda a: a[0:0]),
    ("cat", lambda x: tg.cat([x, x], 1), lambda a: np.concatenate([a, a], 1)),
    ("stack", lambda x: tg.stack([x, x], -1), lambda a: np.stack([a, a], -1)),
], ids=str)
def test_shape_op_on_zero_size_tensor(name, op, ref, device, rng, leaf):
    x = leaf(rng, 0, 3, device=device)
    y = op(x)
    assert y.shape == ref(host(x)).shape
    y.sum().backward()
    assert x.grad.shape == (0, 3)


def test_chunk_of_empty_dim_gives_empty_pieces(device):
    pieces = tg.zeros(0, 2, device=device).chunk(3)
    assert [p.shape for p in pieces] == [(0, 2)] * 3


@pytest.mark.parametrize("length, chunks, sizes", [(4, 3, [2, 2]), (5, 3, [2, 2, 1]),
                                                   (6, 4, [2, 2, 2]), (3, 5, [1, 1, 1])])
def test_chunk_sizes_follow_pytorch(length, chunks, sizes, device):
    assert [p.shape[0] for p in tg.ones(length, device=device).chunk(chunks)] == sizes


def test_split_gradient_with_unused_pieces(device, rng, leaf):
    x = leaf(rng, 6, 2, device=device)
    a, b, c = x.split(2)
    g = tg.tensor(rng.standard_normal((2, 2)), dtype=tg.float64, device=device)
    b.backward(g)
    expected = np.zeros((6, 2))
    expected[2:4] = host(g)
    np.testing.assert_array_equal(host(x.grad), expected)


@pytest.mark.parametrize("shapes, dim", [
    ([(2, 3), (4, 3)], 0),
    ([(2, 3), (2, 1), (2, 4)], 1),
    ([(2, 3, 1), (2, 3, 2)], -1),
    ([(2, 0), (2, 3)], 1),
    ([(1, 2)], 0),
], ids=str)
def test_cat(shapes, dim, device, rng, leaf):
    xs = [leaf(rng, *s, device=device) for s in shapes]
    y = tg.cat(xs, dim)
    np.testing.assert_array_equal(host(y), np.concatenate([host(x) for x in xs], dim))
    f = lambda *xs: tg.cat(xs, dim)               # noqa: E731
    assert gradcheck(f, xs)
    assert gradgradcheck(f, xs)
    np.testing.assert_array_equal(host(tg.concatenate(tuple(xs), dim)), host(y))


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3], ids=str)
def test_stack(dim, device, rng, leaf):
    xs = [leaf(rng, 2, 3, device=device) for _ in range(3)]
    y = tg.stack(xs, dim)
    np.testing.assert_array_equal(host(y), np.stack([host(x) for x in xs], dim))
    f = lambda *xs: tg.stack(xs, dim)             # noqa: E731
    assert gradcheck(f, xs)
    assert gradgradcheck(f, xs)


@pytest.mark.parametrize("dtypes, expected", [
    ((tg.float32, tg.float64), tg.float64),
    ((tg.int64, tg.float32), tg.float32),
    ((tg.int32, tg.int64), tg.int64),
    ((tg.bool, tg.int64), tg.int64),
], ids=str)
def test_cat_promotes_dtypes(dtypes, expected, device):
    pieces = [tg.ones(2, dtype=dt, device=device) for dt in dtypes]
    assert tg.cat(pieces).dtype == expected
    assert tg.stack(pieces).dtype == expected


def test_cat_gradient_to_mixed_dtype_inputs(device, rng, leaf):
    a = leaf(rng, 2, device=device, dtype=tg.float32)
    b = leaf(rng, 3, device=device)
    y = tg.cat([a, b])
    assert y.dtype == tg.float64
    y.backward(tg.tensor(np.arange(5.0), dtype=tg.float64, device=device))
    assert a.grad.dtype == tg.float32 and b.grad.dtype == tg.float64
    np.testing.assert_array_equal(host(a.grad), [0.0, 1.0])
    np.testing.assert_array_equal(host(b.grad), [2.0, 3.0, 4.0])


def test_reshape_and_permute_are_views(device):
    x = tg.arange(24, device=device).reshape(2, 3, 4)
    for y in [x.reshape(6, 4), x.permute(2, 0, 1), x.transpose(0, 1), x[:, 1]]:
        before = host(y).copy()
        with tg.no_grad():
            x.add_(1)
        np.testing.assert_array_equal(host(y), before + 1)


def test_view_gradient_flows_through_chain(device, rng, leaf):
    x = leaf(rng, 2, 3, 4, device=device)
    f = lambda x: x.permute(1, 2, 0).reshape(12, 2).mT.unsqueeze(0).flip(-1)   # noqa: E731
    assert f(x).shape == (1, 2, 12)
    assert gradcheck(f, (x,))


VIEW_LAYOUTS = [
    ("contiguous", lambda x: x, (6, 4), True),
    ("transposed", lambda x: x.t(), (24,), False),
    ("transposed, rows kept", lambda x: x.t(), (6, 2, 2), True),
    ("column", lambda x: x[:, 1:2], (4,), True),
    ("every other column", lambda x: x[:, ::2], (12,), True),
    ("first columns", lambda x: x[:, :3], (12,), False),
    ("first columns, split", lambda x: x[:, :3], (2, 2, 3), True),
    ("expanded", lambda x: x[:1].expand(3, 6), (18,), False),
    ("expanded, split", lambda x: x[:1].expand(3, 6), (3, 2, 3), True),
    ("one element", lambda x: x[1:2, 2:3], (1,), True),
]


@pytest.mark.parametrize("name, make, shape, viewable", VIEW_LAYOUTS,
                         ids=[v[0] for v in VIEW_LAYOUTS])
def test_view_shares_memory_or_raises_as_pytorch(device, name, make, shape, viewable):
    """view() never copies: where the layout allows no view, it raises, as PyTorch does."""
    x = make(tg.arange(24.0, device=device).reshape(4, 6))
    if not viewable:
        with pytest.raises(RuntimeError, match=r"view size is not compatible with input "
                                               r"tensor's size and stride .* Use \.reshape"):
            x.view(shape)
        assert x.reshape(shape).shape == shape
        return
    y = x.view(shape)
    assert y.shape == shape and shares_memory(y.array, x.array)
    np.testing.assert_array_equal(host(y), host(x).reshape(shape))


@pytest.mark.parametrize("name, make, shape, viewable", VIEW_LAYOUTS,
                         ids=[v[0] for v in VIEW_LAYOUTS])
def test_which_views_raise_matches_torch(name, make, shape, viewable):
    torch = pytest.importorskip("torch")
    x = make(torch.arange(24.0).reshape(4, 6))
    try:
        x.view(shape)
    except RuntimeError:
        assert not viewable
    else:
        assert viewable


SHAPE_ERRORS = [
    ("reshape size", lambda x: x.reshape(5, 5), RuntimeError, r"\(5, 5\).*\(2, 3, 4\)"),
    ("reshape -1 does not divide", lambda x: x.reshape(5, -1), RuntimeError, "invalid"),
    ("reshape two -1", lambda x: x.reshape(-1, -1), RuntimeError, "-1"),
    ("view size", lambda x: x.view(7), RuntimeError, "invalid"),
    ("expand non-1 dim", lambda x: x.expand(2, 3, 5), RuntimeError, r"\(2, 3, 4\)"),
    ("expand fewer dims", lambda x: x.expand(3, 4), RuntimeError, "fewer dims"),
    ("expand -1 new dim", lambda x: x.expand(-1, 2, 3, 4), RuntimeError, "-1"),
    ("permute repeated", lambda x: x.permute(0, 0, 1), RuntimeError, "permutation"),
    ("permute too short", lambda x: x.permute(0, 1), RuntimeError, "permutation"),
    ("transpose range", lambda x: x.transpose(0, 3), IndexError, "out of range"),
    ("unsqueeze range", lambda x: x.unsqueeze(4), IndexError, r"\[-4, 3\]"),
    ("squeeze range", lambda x: x.squeeze(-4), IndexError, "out of range"),
    ("flatten range", lambda x: x.flatten(3), IndexError, "out of range"),
    ("flatten order", lambda x: x.flatten(2, 1), RuntimeError, "start_dim"),
    ("flip range", lambda x: x.flip(3), IndexError, "out of range"),
    ("split sizes", lambda x: x.split([1, 1], 1), ValueError, "add up to 2"),
    ("split range", lambda x: x.split(1, 3), IndexError, "out of range"),
    ("split size 0", lambda x: x.split(0), ValueError, "positive"),
    ("chunk 0", lambda x: x.chunk(0), ValueError, "positive"),
    ("cat size", lambda x: tg.cat([x, tg.ones(2, 4, 4)], 0), RuntimeError,
     r"\(2, 3, 4\).*\(2, 4, 4\)"),
    ("cat ndim", lambda x: tg.cat([x, tg.ones(3, 4)], 0), RuntimeError, r"\(3, 4\)"),
    ("cat range", lambda x: tg.cat([x, x], 3), IndexError, "out of range"),
    ("cat empty", lambda x: tg.cat([]), ValueError, "non-empty"),
    ("stack size", lambda x: tg.stack([x, tg.ones(2, 3, 5)]), RuntimeError, "equal size"),
    ("stack range", lambda x: tg.stack([x, x], 4), IndexError, "out of range"),
]


@pytest.mark.parametrize("name, op, error, match", SHAPE_ERRORS,
                         ids=[e[0] for e in SHAPE_ERRORS])
def test_shape_errors(name, op, error, match):
    with pytest.raises(error, match=match):
        op(tg.ones(2, 3, 4))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind_gives_the_slices_as_views(dim, device, rng, leaf):
    x = leaf(rng, 2, 3, 4, device=device)
    pieces = x.unbind(dim)
    assert len(pieces) == x.shape[dim]
    for i, piece in enumerate(pieces):
        np.testing.assert_array_equal(host(piece), np.take(host(x), i, axis=dim))
    assert gradcheck(lambda x: tg.unbind(x, dim), (x,))
    assert gradgradcheck(lambda x: tg.unbind(x, dim), (x,))


def test_split_and_unbind_record_one_node_whose_backward_joins_the_pieces(rng):
    x = leaf64(rng, 3, 4)
    pieces = x.split([1, 3], 1)
    assert pieces[0].grad_fn is pieces[1].grad_fn          # one node for all pieces
    (pieces[1] * 2.0).sum().backward()                     # piece 0 gets no gradient: zeros
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.r_[[[0.0, 2.0, 2.0, 2.0]] * 3])
    rows = tg.unbind(x, 0)
    assert len(rows) == 3 and rows[0].shape == (4,)
    assert rows[0].grad_fn is rows[2].grad_fn
    (rows[1] * 3.0).sum().backward()
    np.testing.assert_array_equal(host(x.grad)[1:], [[3.0, 5.0, 5.0, 5.0], [0.0, 2.0, 2.0, 2.0]])
    assert tg.unbind(tg.zeros(0, 2), 0) == ()
    assert gradcheck(lambda x: tg.unbind(x, 1)[2] * tg.unbind(x, 1)[0], (x,))


def test_split_pieces_are_views_sharing_the_version_counter(rng):
    x = leaf64(rng, 4).detach()
    y = x.tanh()
    first, _ = y.split(2)
    with tg.no_grad():
        first.mul_(2.0)
    np.testing.assert_allclose(y.cpu().numpy()[:2], 2 * np.tanh(x.cpu().numpy()[:2]))
    assert y._version_box is first._version_box
