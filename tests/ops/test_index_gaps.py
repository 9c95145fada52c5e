"""What scatter, scatter_reduce, index_reduce and as_strided once refused: scatter's deprecated
``reduce=``, prod's backward with zeros, index_reduce's backward and as_strided of a
non-contiguous tensor. Values against NumPy (and PyTorch when installed), gradients against
finite differences."""

import warnings

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


def _ints(values, device="cpu"):
    return tg.tensor(values, dtype=tg.int64, device=device)


def _t(values, device="cpu", grad=True):
    return tg.tensor(np.asarray(values, dtype=np.float64), device=device, requires_grad=grad)


@pytest.mark.parametrize("reduce, ufunc", [("add", np.add), ("multiply", np.multiply)])
def test_scatter_with_reduce_argument(reduce, ufunc, device, rng):
    x, src = rng.uniform(1, 2, (3, 4)), rng.uniform(1, 2, (2, 4))
    index = np.array([[0, 2, 2, 1], [0, 0, 2, 1]])
    want = x.copy()
    ufunc.at(want, (index, np.arange(4)), src)
    got = tg.scatter(_t(x, device, False), 0, _ints(index, device), _t(src, device, False),
                     reduce=reduce)
    np.testing.assert_allclose(host(got), want, rtol=1e-14)
    value = x.copy()
    ufunc.at(value, (index, np.arange(4)), 3.0)
    inplace = _t(x, device, False)
    inplace.scatter_(0, _ints(index, device), 3.0, reduce=reduce)
    np.testing.assert_allclose(host(inplace), value, rtol=1e-14)
    y = tg.scatter(_t(x, device), 0, _ints(index, device), _t(src, device), reduce=reduce)
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        y.sum().backward()                          # as PyTorch: no derivative with reduce=
    with pytest.raises(RuntimeError, match="add or multiply"):
        tg.scatter(_t(x, device), 0, _ints(index, device), _t(src, device), reduce="mean")


def test_scatter_with_reduce_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, src = rng.uniform(1, 2, (3, 4)), rng.uniform(1, 2, (2, 4))
    index = np.array([[0, 2, 2, 1], [0, 0, 2, 1]])
    for reduce in ("add", "multiply"):
        got = tg.tensor(x).scatter(0, tg.tensor(index), tg.tensor(src), reduce=reduce)
        with warnings.catch_warnings():             # PyTorch's deprecation note, once
            warnings.simplefilter("ignore")
            want = torch.tensor(x).scatter(0, torch.tensor(index), torch.tensor(src),
                                           reduce=reduce)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14)


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_backward_with_zeros(include_self, device):
    x = _t([[0.0, 2.0], [1.5, 0.5], [0.7, 1.2]], device)        # a zero in input
    src = _t([[0.8, 0.0], [0.0, 1.3], [1.1, 0.9]], device)      # single zeros in src
    index = _ints([[0, 0], [1, 0], [0, 2]], device)
    fn = (lambda a, s: a.scatter_reduce(0, index, s, "prod", include_self=include_self))
    assert gradcheck(fn, (x, src))
    assert gradgradcheck(fn, (x, src))
    x.grad = None
    fn(x, src).backward(tg.ones(3, 2, dtype=tg.float64, device=device))
    # x[0, 0] = 0 times src 0.8 and 1.1 at (0, 0): its gradient is the product of the others
    np.testing.assert_allclose(host(x.grad)[0, 0], 0.8 * 1.1 if include_self else 0.0)
    # src[1, 0] = 0 is the only zero scattered to (1, 0): the product of the rest there
    np.testing.assert_allclose(host(src.grad)[1, 0], 1.5 if include_self else 1.0)


def test_scatter_reduce_prod_and_amax_grads_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = np.array([[0.0, 2.0, 5.0], [1.5, 0.5, 2.0]])
    src = np.array([[0.0, 0.0, 5.0], [0.0, 1.3, 1.0], [2.0, 0.0, 3.0]])
    index = np.array([[0, 1, 0], [0, 1, 1], [1, 0, 0]])
    g = rng.standard_normal((2, 3))
    for reduce in ("prod", "amax", "amin"):
        for include_self in (True, False):
            ours = [_t(x), _t(src)]
            theirs = [torch.tensor(v, requires_grad=True) for v in (x, src)]
            y = ours[0].scatter_reduce(0, tg.tensor(index), ours[1], reduce,
                                       include_self=include_self)
            ty = theirs[0].scatter_reduce(0, torch.tensor(index), theirs[1], reduce,
                                          include_self=include_self)
            y.backward(tg.tensor(g))
            ty.backward(torch.tensor(g))
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(host(a.grad), b.grad.numpy(), rtol=1e-12,
                                           err_msg=f"{reduce} include_self={include_self}")


def _index_reduce_ref(x, dim, index, source, reduce, include_self):
    out = np.moveaxis(x.copy(), dim, 0)
    src = np.moveaxis(source, dim, 0)
    fns = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}
    for target in set(index.tolist()):
        values = [src[k] for k in range(len(index)) if index[k] == target]
        values += [out[target]] if include_self else []
        out[target] = fns[reduce](np.stack(values), axis=0)
    return np.moveaxis(out, 0, dim)


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_values_and_grads(reduce, include_self, device, rng, leaf):
    x = leaf(rng, 2, 4, device=device, low=0.5, high=2.0)
    source = leaf(rng, 2, 3, device=device, low=0.5, high=2.0)
    index = np.array([3, 0, 3])
    out = x.index_reduce(1, _ints(index, device), source, reduce, include_self=include_self)
    want = _index_reduce_ref(host(x), 1, index, host(source), reduce, include_self)
    np.testing.assert_allclose(host(out), want, rtol=1e-12)
    fn = (lambda a, s: tg.index_reduce(a, 1, _ints(index, device), s, reduce,
                                       include_self=include_self))
    assert gradcheck(fn, (x, source))
    assert gradgradcheck(fn, (x, source))


def test_index_reduce_matches_torch_with_zeros_and_ties(rng):
    torch = pytest.importorskip("torch")
    x = np.array([[0.0, 2.0, 3.0, 1.0], [1.0, 1.0, 0.5, 2.0]])
    source = np.array([[0.0, 2.0, 0.0], [1.0, 1.0, 0.0]])
    index = np.array([1, 1, 0])
    g = rng.standard_normal(x.shape)
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            ours, theirs = [_t(x), _t(source)], [torch.tensor(v, requires_grad=True)
                                                 for v in (x, source)]
            y = ours[0].index_reduce(1, tg.tensor(index), ours[1], reduce,
                                     include_self=include_self)
            with warnings.catch_warnings():         # PyTorch: "index_reduce() is in beta"
                warnings.simplefilter("ignore")
                ty = theirs[0].index_reduce(1, torch.tensor(index), theirs[1], reduce,
                                            include_self=include_self)
            np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
            y.backward(tg.tensor(g))
            ty.backward(torch.tensor(g))
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(host(a.grad), b.grad.numpy(), rtol=1e-12,
                                           err_msg=f"{reduce} include_self={include_self}")
    ints = tg.tensor([[4, 5, 7]]).index_reduce(1, tg.tensor([0, 0]), tg.tensor([[1, 2]]), "mean")
    assert ints.tolist() == [[2, 5, 7]]                 # (4 + 1 + 2) / 3, rounded down


def test_index_reduce_errors():
    x, source = tg.zeros(2, 3), tg.ones(2, 2)
    with pytest.raises(RuntimeError, match="one of prod, mean, amax or amin"):
        x.index_reduce(1, _ints([0, 1]), source, "sum")
    with pytest.raises(RuntimeError, match=r"source of shape \(2, 2\)"):
        x.index_reduce(1, _ints([0, 1, 2]), source, "prod")
    with pytest.raises(IndexError):
        x.index_reduce(1, _ints([0, 3]), source, "prod")


_VIEWS = [  # (view of a (4, 5) tensor, size, stride, storage_offset)
    (lambda t: t.t(), (3, 2), (1, 3), None),
    (lambda t: t[1:, ::2], (2, 3), (5, 2), 3),         # 1, 2: memory outside the view
    (lambda t: t[:, 1], (3,), (1,), None),
    (lambda t: t.t(), (2, 2), (0, 1), 7),              # one element read twice
    (lambda t: t[1:3].expand(2, 2, 5), (4,), (2,), 6),  # input shows its memory twice
]


@pytest.mark.parametrize("case", range(len(_VIEWS)))
def test_as_strided_of_a_view(case, device, rng):
    view, size, stride, offset = _VIEWS[case]
    base = rng.standard_normal((4, 5))
    x = tg.tensor(base, device=device, requires_grad=True)
    start = 0 if offset is None else offset
    if offset is None:
        start = view(tg.tensor(base)).storage_offset()
    want = np.lib.stride_tricks.as_strided(base.reshape(-1)[start:], size,
                                           tuple(8 * s for s in stride))
    plain = view(x.detach()).as_strided(size, stride, offset)     # a view outside the graph
    np.testing.assert_array_equal(host(plain), want)
    fn = (lambda a: view(a * 1).as_strided(size, stride, offset))   # a * 1: memory of its own
    np.testing.assert_array_equal(host(fn(x)), want)
    if case not in (1, 2):      # 1 and 2 read memory outside the view: no gradient there
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_as_strided_grads_match_torch(rng):
    torch = pytest.importorskip("torch")
    base = rng.standard_normal((4, 5))
    for view, size, stride, offset in _VIEWS:
        x = tg.tensor(base, requires_grad=True)
        tx = torch.tensor(base, requires_grad=True)
        v, tv = view(x * 1), view(tx * 1)
        g = rng.standard_normal(size)
        got = tg.autograd.grad(v.as_strided(size, stride, offset), v, tg.tensor(g))[0]
        tv.retain_grad()
        tv.as_strided(size, stride, offset).backward(torch.tensor(g))
        np.testing.assert_allclose(got.numpy(), tv.grad.numpy(), rtol=1e-14)


def test_as_strided_bounds_are_the_storage():
    x = tg.arange(6.0)
    assert x[:3].as_strided((6,), (1,)).tolist() == [0, 1, 2, 3, 4, 5]     # as PyTorch
    with pytest.raises(RuntimeError, match="size of 28 are out of bounds for storage of size 24"):
        x[2:].as_strided((3,), (2,))
    with pytest.raises(RuntimeError, match="Negative strides"):
        x.as_strided((2,), (-1,), 3)
