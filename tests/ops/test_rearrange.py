"""movedim, swapaxes, narrow, unflatten, tensor_split, diagonal, diag, trace, diff, meshgrid,
block_diag, take_along_dim, masked_select, scatter(_add) and their in-place forms, tensordot,
kron, cross, cdist, searchsorted, bucketize, bincount, unique, logspace: values against NumPy,
gradients against finite differences."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck

# name, tinygen function of one (3, 4, 5) tensor, NumPy reference
VIEWS = [
    ("movedim", lambda x: x.movedim((0, 1), (2, 0)), lambda a: np.moveaxis(a, (0, 1), (2, 0))),
    ("moveaxis", lambda x: tg.moveaxis(x, -1, 0), lambda a: np.moveaxis(a, -1, 0)),
    ("swapaxes", lambda x: x.swapaxes(0, 2), lambda a: np.swapaxes(a, 0, 2)),
    ("swapdims", lambda x: tg.swapdims(x, 1, 2), lambda a: np.swapaxes(a, 1, 2)),
    ("narrow", lambda x: x.narrow(2, -3, 2), lambda a: a[:, :, 2:4]),
    ("unflatten", lambda x: x.unflatten(1, (2, -1)), lambda a: a.reshape(3, 2, 2, 5)),
    ("diagonal", lambda x: x.diagonal(1, 0, 2), lambda a: np.diagonal(a, 1, 0, 2)),
    ("diagonal below", lambda x: tg.diagonal(x, -1, -1, 1), lambda a: np.diagonal(a, -1, -1, 1)),
    ("diag", lambda x: tg.diag(x[0], -2), lambda a: np.diag(a[0], -2)),
    ("diag of vector", lambda x: x[0, 0].diag(1), lambda a: np.diag(a[0, 0], 1)),
    ("trace", lambda x: x[1].trace(), lambda a: np.trace(a[1])),
    ("diff", lambda x: x.diff(n=2, dim=1), lambda a: np.diff(a, n=2, axis=1)),
    ("diff append", lambda x: tg.diff(x, append=x[..., :1], prepend=x[..., 1:3]),
     lambda a: np.diff(a, append=a[..., :1], prepend=a[..., 1:3])),
    ("masked_select", lambda x: x.masked_select(x.detach() > 0),
     lambda a: a[a > 0]),
    ("kron", lambda x: tg.kron(x[0], x[1, :2]), lambda a: np.kron(a[0], a[1, :2])),
    ("tensordot", lambda x: tg.tensordot(x, x[0], dims=([1, 2], [0, 1])),
     lambda a: np.tensordot(a, a[0], axes=([1, 2], [0, 1]))),
    ("tensordot int", lambda x: tg.tensordot(x, x.permute(2, 0, 1), 1),
     lambda a: np.tensordot(a, a.transpose(2, 0, 1), 1)),
    ("tensordot size-1 dims broadcast",       # as PyTorch: the size-2 dims are summed
     lambda x: tg.tensordot(x[:1, :, :1], x[:2, :2], dims=([0, 2], [1, 0])),
     lambda a: a[0, :, :1] * a[:2, :2].sum((0, 1))),
    ("cross", lambda x: tg.cross(x[:, :, :3], x[:, 1:, :3].sum(1, keepdim=True), dim=2),
     lambda a: np.cross(a[:, :, :3], a[:, 1:, :3].sum(1, keepdims=True), axis=2)),
    ("cdist", lambda x: tg.cdist(x, x[:, :2] + 0.5),
     lambda a: np.sqrt(((a[:, :, None] - a[:, None, :2] - 0.5) ** 2).sum(-1))),
]


@pytest.mark.parametrize("name, fn, ref", VIEWS, ids=[c[0] for c in VIEWS])
def test_values_and_gradients(name, fn, ref, device, rng, leaf):
    x = leaf(rng, 3, 4, 5, device=device)
    np.testing.assert_allclose(host(fn(x)), ref(host(x)), rtol=1e-12, atol=1e-14)
    assert gradcheck(fn, (x,))


def test_diagonal_is_a_view(device, rng, leaf):
    """As PyTorch's: writing to the diagonal changes the tensor, also while recording (the
    gradient then flows through the changed diagonal and the untouched rest)."""
    h = tg.arange(12.0, device=device).reshape(3, 4)
    h.diagonal(1).mul_(5)
    np.testing.assert_array_equal(host(h), [[0, 5, 2, 3], [4, 5, 30, 7], [8, 9, 10, 55]])
    x = leaf(rng, 3, 3, device=device)
    y = x * 1
    y.diagonal().mul_(3)
    (y * y).sum().backward()
    want = 2 * host(x)
    want[np.diag_indices(3)] *= 9
    np.testing.assert_allclose(host(x.grad), want, rtol=1e-12)
    assert y.diagonal()._version == y._version


def test_tensor_split(device, rng, leaf):
    x = leaf(rng, 7, 2, device=device)
    for parts, sections in ((x.tensor_split(3), 3), (tg.tensor_split(x, [1, 5, -1]), [1, 5, -1])):
        for got, want in zip(parts, np.array_split(host(x), sections)):
            np.testing.assert_equal(host(got), want)
    assert [p.shape[1] for p in x.tensor_split(3, dim=1)] == [1, 1, 0]


def test_meshgrid(device):
    a, b = tg.arange(3, device=device), tg.arange(2, device=device)
    for indexing in ("ij", "xy"):
        for got, want in zip(tg.meshgrid(a, b, indexing=indexing),
                             np.meshgrid(host(a), host(b), indexing=indexing)):
            np.testing.assert_equal(host(got), want)


def test_block_diag(device, rng, leaf):
    a, b = leaf(rng, 2, 3, device=device), leaf(rng, 1, device=device)
    out = tg.block_diag(a, b, tg.tensor(7.0, dtype=tg.float64, device=device))
    want = np.zeros((4, 5))
    want[:2, :3], want[2, 3], want[3, 4] = host(a), host(b)[0], 7
    np.testing.assert_equal(host(out), want)
    assert gradcheck(lambda s, t: tg.block_diag(s, t), (a, b))
    assert tg.block_diag(tg.ones(1, 1, dtype=tg.int64), tg.ones(1)).dtype == tg.float32


def test_take_along_dim(device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    idx = tg.tensor(rng.integers(0, 4, (1, 2)), device=device)
    np.testing.assert_equal(host(x.take_along_dim(idx, 1)),
                            np.take_along_axis(host(x), np.broadcast_to(host(idx), (3, 2)), 1))
    flat = tg.take_along_dim(x, tg.tensor([0, 11], device=device))
    np.testing.assert_equal(host(flat), host(x).reshape(-1)[[0, 11]])
    assert gradcheck(lambda t: t.take_along_dim(idx, 1), (x,))


def test_take_along_dim_counts_negative_indices_from_the_end(device):
    x = tg.arange(6.0, device=device).reshape(2, 3)
    idx = tg.tensor([[-3, -1], [2, -2]], device=device)
    assert x.take_along_dim(idx, 1).tolist() == [[0.0, 2.0], [5.0, 4.0]]
    assert tg.take_along_dim(x, tg.tensor([-1], device=device)).tolist() == [5.0]
    with pytest.raises(IndexError, match="out of bounds"):
        x.take_along_dim(tg.tensor([[-4]], device=device), 1)


def test_scatter_and_scatter_add(device, rng, leaf):
    x, src = leaf(rng, 3, 4, device=device), leaf(rng, 2, 5, device=device)
    index = tg.tensor([[0, 1, 2, 0], [2, 0, 0, 1]], device=device)
    want = host(x).copy()
    np.add.at(want, (host(index), np.arange(4)), host(src)[:, :4])
    np.testing.assert_allclose(host(x.scatter_add(0, index, src)), want)
    assert gradcheck(lambda a, s: a.scatter_add(0, index, s), (x, src))
    rows = tg.tensor([[3, 1], [0, 0]], device=device)           # no repeats along dim 1
    np.testing.assert_allclose(host(tg.scatter(x, 1, rows[:, :1].expand(2, 1), src)),
                               _scatter_ref(host(x), host(src), [[3], [0]]))
    assert gradcheck(lambda a, s: a.scatter(1, rows[:1], s), (x, src))
    filled = x.scatter(1, rows, value=-1.0)
    assert host(filled)[0, 3] == -1 and host(filled)[1, 0] == -1 and host(filled)[0, 0] != -1


def _scatter_ref(x, src, index):
    out = x.copy()
    for i, row in enumerate(index):
        for j, k in enumerate(row):
            out[i, k] = src[i, j]
    return out


def test_in_place_scatter(device, rng, leaf):
    base = leaf(rng, 3, 4, device=device)
    index = tg.tensor([[0, 2]], device=device)
    y = base * 2
    y.scatter_(1, index, 5.0)
    y.scatter_add_(0, tg.tensor([[1, 1, 1, 1]], device=device), tg.ones(1, 4, dtype=tg.float64,
                                                                      device=device))
    want = host(base) * 2
    want[0, [0, 2]] = 5
    want[1] += 1
    np.testing.assert_allclose(host(y), want)
    y.sum().backward()
    grad = np.full((3, 4), 2.0)
    grad[0, [0, 2]] = 0
    np.testing.assert_equal(host(base.grad), grad)


def test_search_and_count(device):
    seq = tg.tensor([[1, 3, 5, 7], [2, 4, 6, 8]], device=device)
    values = tg.tensor([[3, 6], [4, 9]], device=device)
    np.testing.assert_equal(host(tg.searchsorted(seq, values)), [[1, 3], [1, 4]])
    np.testing.assert_equal(host(tg.searchsorted(seq, values, right=True)), [[2, 3], [2, 4]])
    out = tg.searchsorted(seq[0], tg.tensor([0, 5], device=device), side="right", out_int32=True)
    assert out.dtype == tg.int32 and host(out).tolist() == [0, 3]
    np.testing.assert_equal(host(tg.bucketize(values, seq[0])), [[1, 3], [2, 4]])
    counts = tg.bincount(tg.tensor([0, 2, 2], device=device), minlength=5)
    assert host(counts).tolist() == [1, 0, 2, 0, 0] and counts.dtype == tg.int64
    weighted = tg.tensor([0, 2, 2], device=device).bincount(tg.tensor([0.5, 1.0, 2.0],
                                                                      device=device))
    assert host(weighted).tolist() == [0.5, 0, 3] and weighted.dtype == tg.float32
    with pytest.raises(RuntimeError, match="non-negative"):
        tg.bincount(tg.tensor([-1, 2]))


def test_unique(device):
    x = tg.tensor([[3, 1], [3, 2], [3, 1]], device=device)
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert host(values).tolist() == [1, 2, 3] and host(counts).tolist() == [2, 1, 3]
    np.testing.assert_equal(host(values)[host(inverse)], host(x))
    rows, inverse = tg.unique(x, dim=0, return_inverse=True)
    assert host(rows).tolist() == [[3, 1], [3, 2]] and host(inverse).tolist() == [0, 1, 0]


def test_logspace(device):
    x = tg.logspace(-1, 2, 4, base=2.0, device=device)
    np.testing.assert_allclose(host(x), np.logspace(-1, 2, 4, base=2.0), rtol=1e-6)
    assert x.dtype == tg.float32


def test_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(2).standard_normal((3, 4, 3))
    x, t = tg.tensor(values), torch.tensor(values, dtype=torch.float32)
    np.testing.assert_allclose(host(tg.cross(x, x.flip(0))),
                               torch.cross(t, t.flip(0), dim=0).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(tg.cdist(x, x)), torch.cdist(t, t).numpy(), atol=1e-5)
    for got, want in zip(x.tensor_split(3, 1), t.tensor_split(3, 1)):
        assert got.shape == tuple(want.shape)
    np.testing.assert_allclose(host(x.diagonal(0, 1, 2)), t.diagonal(0, 1, 2).numpy())


def test_refused_arguments_raise_as_pytorch():
    x = tg.zeros(2, 3, 4, 5, 6)
    with pytest.raises(RuntimeError, match="repeated dim in `source`"):
        tg.movedim(x, (1, 0, -4), (0, 4, -5))
    with pytest.raises(RuntimeError, match="order to be non-negative"):
        tg.diff(tg.zeros(1, 3), -1)
    with pytest.raises(RuntimeError, match="0-dim integral Tensor"):
        tg.narrow(x, 0, tg.tensor(True), 1)
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        tg.logspace(0, 3, -1)
