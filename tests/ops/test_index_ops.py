"""index_add/copy/fill/put, take, put, select, the *_scatter ops, scatter_reduce, argwhere,
masked_scatter, unfold and fill_diagonal_ (and in-place forms): values against NumPy,
gradients against finite differences, and against PyTorch when it is installed."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, shares_memory
from tinygen.autograd import gradcheck, gradgradcheck


def _ints(values, device):
    return tg.tensor(values, dtype=tg.int64, device=device)


def test_index_add_copy_fill(device, rng, leaf):
    x, src = leaf(rng, 3, 4, device=device), leaf(rng, 3, 3, device=device)
    index = _ints([0, 2, 0], device)
    want = host(x).copy()
    np.add.at(want, (slice(None), [0, 2, 0]), 2 * host(src))
    np.testing.assert_allclose(host(x.index_add(1, index, src, alpha=2)), want)
    assert gradgradcheck(lambda a, s: tg.index_add(a, 1, index, s, alpha=2), (x, src))
    rows = _ints([2, 0], device)
    want = host(x).copy()
    copied = x.index_copy(0, rows, src[:2, :1].expand(2, 4))
    want[[2, 0]] = host(src)[:2, :1]
    np.testing.assert_allclose(host(copied), want)
    assert gradcheck(lambda a, s: tg.index_copy(a, 0, rows, s), (x, leaf(rng, 2, 4,
                                                                          device=device)))
    value = leaf(rng, device=device)
    filled = tg.index_fill(x, 1, _ints([3, 1], device), value)
    assert np.all(host(filled)[:, [1, 3]] == host(value)) and host(filled)[0, 0] == host(x)[0, 0]
    assert gradcheck(lambda a, v: a.index_fill(1, _ints([3, 1], device), v), (x, value))


def test_index_put_accumulate(device, rng, leaf):
    x, v = leaf(rng, 3, 4, device=device), leaf(rng, 3, device=device)
    rows, cols = _ints([0, 0, 2], device), _ints([1, 1, 3], device)
    want = host(x).copy()
    np.add.at(want, ([0, 0, 2], [1, 1, 3]), host(v))
    np.testing.assert_allclose(host(tg.index_put(x, (rows, cols), v, accumulate=True)), want)
    assert gradgradcheck(lambda a, b: a.index_put([rows, cols], b, accumulate=True), (x, v))
    y = x * 1
    y.index_put_((rows,), tg.tensor(5.0, dtype=tg.float64, device=device))
    assert np.all(host(y)[[0, 2]] == 5)


def test_take_put_select(device, rng, leaf):
    x = leaf(rng, 3, 4, device=device)
    index = _ints([[0, 11], [5, 5]], device)
    np.testing.assert_equal(host(x.take(index)), host(x).reshape(-1)[[[0, 11], [5, 5]]])
    assert gradcheck(lambda a: tg.take(a, index), (x,))
    src = leaf(rng, 2, device=device)
    flat = _ints([1, 1], device)
    want = host(x).copy().reshape(-1)
    np.add.at(want, [1, 1], host(src))
    np.testing.assert_allclose(host(tg.put(x, flat, src, accumulate=True)).reshape(-1), want)
    assert gradcheck(lambda a, s: a.put(_ints([7, 2], device), s), (x, src))
    y = x * 1
    y.put_(_ints([0], device), src[:1])
    assert host(y)[0, 0] == host(src)[0]
    np.testing.assert_equal(host(x.select(1, -1)), host(x)[:, -1])
    with pytest.raises(IndexError, match="out of range"):
        tg.select(x, 0, 3)


def test_scatter_views(device, rng, leaf):
    x = leaf(rng, 3, 4, 4, device=device)
    cases = [
        (lambda a, s: tg.select_scatter(a, s, 1, 2), (3, 4), (slice(None), 2)),
        (lambda a, s: a.slice_scatter(s, 2, 1, None, 2), (3, 4, 2),
         (slice(None), slice(None), slice(1, None, 2))),
    ]
    for fn, shape, where in cases:
        src = leaf(rng, *shape, device=device)
        want = host(x).copy()
        want[where] = host(src)
        np.testing.assert_equal(host(fn(x, src)), want)
        assert gradcheck(fn, (x, src))
    src = leaf(rng, 4, 3, device=device)
    out = tg.diagonal_scatter(x, src, 1, 0, 2)
    np.testing.assert_equal(host(out.diagonal(1, 0, 2)), host(src))
    np.testing.assert_equal(np.where(_diag_mask(), host(out), host(x)), host(x))
    assert gradcheck(lambda a, s: a.diagonal_scatter(s, 1, 0, 2), (x, src))
    with pytest.raises(RuntimeError, match=r"src size = \(4,\)"):
        tg.select_scatter(x, src[:, 0], 1, 2)


def _diag_mask():
    mask = np.ones((3, 4, 4), dtype=bool)
    for i in range(3):
        mask[i, :, i + 1] = False
    return mask


def _scatter_reduce_ref(x, index, src, reduce, include_self):
    out = x.copy()
    groups = {}
    for pos in np.ndindex(*index.shape):
        target = (index[pos],) + pos[1:]
        groups.setdefault(target, []).append(src[pos])
    fns = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}
    for target, values in groups.items():
        values = values + ([x[target]] if include_self else [])
        out[target] = fns[reduce](values)
    return out


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self, device, rng, leaf):
    x = leaf(rng, 3, 4, device=device, low=0.5, high=2.0)
    src = leaf(rng, 4, 4, device=device, low=0.5, high=2.0)
    index = _ints([[0, 1, 0, 0], [2, 1, 0, 0], [0, 0, 0, 1], [2, 2, 0, 0]], device)
    out = tg.scatter_reduce(x, 0, index, src, reduce, include_self=include_self)
    want = _scatter_reduce_ref(host(x), host(index), host(src), reduce, include_self)
    np.testing.assert_allclose(host(out), want, rtol=1e-12)
    fn = (lambda a, s: a.scatter_reduce(0, index, s, reduce, include_self=include_self))
    assert gradcheck(fn, (x, src))
    assert gradgradcheck(fn, (x, src))


def test_scatter_reduce_ties_and_ints(device, rng):
    x = tg.tensor([1.0, 3.0], dtype=tg.float64, device=device, requires_grad=True)
    src = tg.tensor([3.0, 3.0, 0.0], dtype=tg.float64, device=device, requires_grad=True)
    out = x.scatter_reduce(0, _ints([1, 1, 0], device), src, "amax")
    out.backward(tg.tensor([1.0, 6.0], dtype=tg.float64, device=device))
    np.testing.assert_equal(host(x.grad), [1, 2])            # three-way tie: 6 split in three
    np.testing.assert_equal(host(src.grad), [2, 2, 0])
    ints = tg.scatter_reduce(_ints([4, 5], device), 0, _ints([0, 0], device), _ints([1, 2],
                                                                                    device), "mean")
    assert host(ints).tolist() == [2, 5] and ints.dtype == tg.int64
    zero = tg.tensor([0.0, 1.0], dtype=tg.float64, device=device, requires_grad=True)
    zero.scatter_reduce(0, _ints([0], device), zero[1:] * 2, "prod").sum().backward()
    np.testing.assert_equal(host(zero.grad), [2, 1])   # zeros: the product of the others
    with pytest.raises(RuntimeError, match="reduce argument"):
        tg.scatter_reduce(x, 0, _ints([0], device), src[:1], "max")


def test_masked_scatter_and_argwhere(device, rng, leaf):
    x, src = leaf(rng, 2, 3, device=device), leaf(rng, 7, device=device)
    mask = tg.tensor([True, False, True], device=device)
    out = x.masked_scatter(mask, src)
    want = host(x).copy()
    want[np.broadcast_to([True, False, True], (2, 3))] = host(src)[:4]
    np.testing.assert_equal(host(out), want)
    assert gradcheck(lambda a, s: tg.masked_scatter(a, mask, s), (x, src))
    y = x * 1
    y.masked_scatter_(mask, src)
    np.testing.assert_equal(host(y), want)
    np.testing.assert_equal(host(tg.argwhere(mask)), [[0], [2]])
    with pytest.raises(RuntimeError, match="selects 4 elements but source has only 2"):
        x.masked_scatter(mask, src[:2])


def test_unfold(device, rng, leaf):
    x = leaf(rng, 2, 7, 3, device=device)
    windows = x.unfold(1, 3, 2)
    assert windows.shape == (2, 3, 3, 3)
    want = np.lib.stride_tricks.sliding_window_view(host(x), 3, axis=1)[:, ::2]
    np.testing.assert_equal(host(windows), want)
    assert shares_memory(windows.array, x.array)
    assert gradgradcheck(lambda a: a.unfold(1, 3, 2), (x,))
    assert gradcheck(lambda a: a.unfold(-1, 2, 1), (x,))     # overlapping windows
    with tg.no_grad(), pytest.raises(RuntimeError, match="single memory location"):
        x.detach().unfold(1, 3, 2).add_(1)                  # overlapping windows, as PyTorch
    with pytest.raises(RuntimeError, match="size 8 must be in"):
        x.unfold(1, 8, 1)


def test_unfold_is_a_view_that_shares_the_version_counter(device, rng, leaf):
    """Windows of a slice of an intermediate: changing the intermediate in place after the
    windows were used is caught at backward, as for any view."""
    h = leaf(rng, 10, device=device) * 1
    windows = h[2:].unfold(0, 3, 2)
    np.testing.assert_equal(host(windows)[:, 0], host(h)[2:7:2])
    loss = (windows * windows).sum()
    h.add_(1)
    assert windows._version == h._version == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_fill_diagonal(device):
    for shape, wrap in (((5, 3), False), ((7, 3), True), ((2, 4), False), ((3, 3, 3), False)):
        x = tg.zeros(*shape, device=device)
        want = np.zeros(shape, dtype=np.float32)
        np.fill_diagonal(want, 2.0, wrap=wrap)
        assert x.fill_diagonal_(2.0, wrap=wrap) is x
        np.testing.assert_equal(host(x), want)
    with pytest.raises(RuntimeError, match="equal length"):
        tg.zeros(2, 3, 3).fill_diagonal_(1)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(3)
    x, src = r.standard_normal((3, 4)), r.standard_normal((4, 4))
    index = r.integers(0, 3, (4, 4))
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            got = tg.tensor(x).scatter_reduce(0, tg.tensor(index), tg.tensor(src), reduce,
                                              include_self=include_self)
            want = torch.tensor(x).scatter_reduce(0, torch.tensor(index), torch.tensor(src),
                                                  reduce, include_self=include_self)
            np.testing.assert_allclose(host(got), want.numpy(), rtol=1e-6)
    t = torch.arange(24.0).reshape(2, 3, 4)
    got = tg.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_equal(host(got.unfold(2, 2, 1)), t.unfold(2, 2, 1).numpy())
    np.testing.assert_equal(host(tg.diagonal_scatter(got, tg.zeros(2, 2), -1, 1, 2)),
                            torch.diagonal_scatter(t, torch.zeros(2, 2), -1, 1, 2).numpy())


def test_in_place_forms(device, rng, leaf):
    base, src = leaf(rng, 3, 4, device=device), leaf(rng, 3, 2, device=device)
    y = base * 1
    y.index_add_(1, _ints([0, 0], device), src).index_copy_(0, _ints([2], device), src[:1, :1]
                                                            .expand(1, 4))
    y.index_fill_(0, _ints([1], device), -1.0)
    y.scatter_reduce_(1, _ints([[3], [3], [3]], device), src[:, :1], "amax", include_self=False)
    want = host(base).copy()
    want[:, 0] += host(src).sum(1)
    want[2] = host(src)[0, 0]
    want[1] = -1
    want[:, 3] = host(src)[:, 0]
    np.testing.assert_allclose(host(y), want)
    y.sum().backward()
    grad = np.zeros((3, 4))
    grad[0, :3] = 1
    np.testing.assert_equal(host(base.grad), grad)
    np.testing.assert_equal(host(src.grad), [[5, 1], [1, 0], [1, 0]])   # rows 1, 2 overwritten
    y = base * 1
    y.scatter_reduce_(1, _ints([[3], [3], [3]], device), src[:, :1], "amax", include_self=False)
    y.index_fill_(0, _ints([1], device), -1.0)       # changes what amax's backward saved
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()                            # as PyTorch


def test_index_ops_take_a_0d_input_as_a_one_element_vector():
    x = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    src, one = tg.tensor(5.0, dtype=tg.float64), tg.tensor([0])
    assert tg.index_add(x.detach(), 0, one, src, alpha=2).tolist() == 12.0
    assert tg.index_copy(x.detach(), -1, one, src).tolist() == 5.0
    assert tg.index_fill(x.detach(), 0, one, 3.0).tolist() == 3.0
    assert tg.index_select(x.detach(), 0, tg.tensor(0)).shape == ()
    assert gradcheck(lambda a: tg.index_add(a, 0, one, a * a), (x,))


def test_index_fill_value_gets_each_position_once():
    """A position named twice is filled once, so its gradient reaches value once."""
    x = tg.zeros(2, 3, dtype=tg.float64, requires_grad=True)
    value = tg.tensor(1.5, dtype=tg.float64, requires_grad=True)
    x.index_fill(-1, tg.tensor([2, 2, -1, 0]), value).sum().backward()
    assert value.grad.tolist() == 4.0
    assert x.grad.tolist() == [[0.0, 1.0, 0.0]] * 2
    assert gradcheck(lambda a, v: a.index_fill(1, tg.tensor([2, 2]), v), (x, value))


def test_bool_index_add_and_scatter_reduce_combine_with_or_and_and():
    x = tg.tensor([False, False, True])
    src = tg.tensor([True, False, False])
    assert tg.index_add(x, 0, tg.tensor([0, 0, 1]), src).tolist() == [True, False, True]
    index = tg.tensor([0, 0, 2])
    assert tg.scatter_reduce(x, 0, index, src, "amax", include_self=False).tolist() == \
        [True, False, False]
    assert tg.scatter_reduce(x, 0, index, src, "amin", include_self=False).tolist() == \
        [False, False, False]
