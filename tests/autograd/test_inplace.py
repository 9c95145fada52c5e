"""In-place ops and version counters (autograd/inplace.py): what is recorded, what is refused,
and the clear error when a tensor saved for backward was changed in place. In-place ops on views
while recording: test_inplace_views.py."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck

@pytest.mark.parametrize("change, op", [
    (lambda a, b: a.add_(1.0), "MulBackward"),        # an input Mul saved
    (lambda a, b: b.mul_(2.0), "ExpBackward"),        # the output Exp saved
    (lambda a, b: a.detach().add_(1.0), "MulBackward"),
], ids=["input", "output", "detached"])
def test_changing_a_saved_tensor_in_place_raises_at_backward(rng, change, op):
    x = leaf64(rng, 3)
    a = x * 1.0
    b = a.exp()
    loss = (a * a).sum() + b.sum()
    with tg.no_grad():
        change(a, b)
    with pytest.raises(RuntimeError, match=rf"modified by an in-place operation.*{op}"):
        loss.backward()


def test_changing_a_saved_tensor_through_a_view_made_under_no_grad(rng):
    x = leaf64(rng, 3)
    a = x * 1.0
    loss = (a * a).sum()
    with tg.no_grad():
        a[0:2].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation.*MulBackward"):
        loss.backward()


def test_changing_a_saved_tensor_through_a_view_made_while_recording(rng):
    x = leaf64(rng, 3)
    a = x * 1.0
    v = a[0:2]
    loss = (a * a).sum()
    with tg.no_grad():
        v.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation.*MulBackward"):
        loss.backward()


def test_a_reshape_that_copies_is_not_a_view(rng):
    """Reshaping a transposed matrix copies it: changing the original afterwards leaves the
    copy, and what backward saved from it, intact (PyTorch runs this too)."""
    x = leaf64(rng, 2, 3)
    a = x * 1.0
    b = a.t().reshape(-1)
    loss = b.sin().sum()
    with tg.no_grad():
        a.fill_(0.0)
    loss.backward()
    np.testing.assert_allclose(host(x.grad), np.cos(host(x)), rtol=1e-12)
    with tg.no_grad():                   # a reshape that is a view still shares the counter
        c = x * 1.0
        assert c.reshape(-1)._version == c._version
        c.reshape(-1).mul_(2.0)
        assert c._version == 1


def test_changing_a_saved_tensor_while_recording_raises_at_backward(rng):
    x = leaf64(rng, 3)
    a = x * 1.0
    b = a * x
    a.add_(1.0)
    with pytest.raises(RuntimeError, match="MulBackward.*has version 1, expected version 0"):
        b.sum().backward()


@pytest.mark.parametrize("change", [
    lambda p: p.add_(1.0), lambda p: p.mul_(2.0), lambda p: p.zero_(),
    lambda p: p.copy_(tg.ones(3, dtype=tg.float64)), lambda p: p.__setitem__(0, 5.0),
    lambda p: p.clamp_(min=0.0)], ids=["add_", "mul_", "zero_", "copy_", "setitem", "clamp_"])
def test_in_place_on_a_leaf_that_requires_grad_is_refused(rng, change):
    p = leaf64(rng, 3)
    before = p.detach().cpu().numpy().copy()
    with pytest.raises(RuntimeError, match=r"^a leaf Variable that requires grad is being used "
                                           r"in an in-place operation\..*no_grad"):
        change(p)
    np.testing.assert_array_equal(p.detach().cpu().numpy(), before)


def test_in_place_update_under_no_grad_works(rng):
    p = leaf64(rng, 3)
    (p * p).sum().backward()
    start = p.detach().cpu().numpy().copy()
    lr = 0.1
    with tg.no_grad():
        p -= lr * p.grad
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    np.testing.assert_allclose(p.detach().cpu().numpy(), start - lr * 2 * start)


def test_data_add_does_not_trip_the_version_check(rng):
    p = leaf64(rng, 3)
    y = (p * p).sum()
    p.data.add_(1.0)
    y.backward()                                   # as in PyTorch: saved p is the changed p
    np.testing.assert_allclose(p.grad.cpu().numpy(), 2 * p.detach().cpu().numpy())


def test_in_place_on_non_leaf_records_the_op(rng, device):
    x = leaf64(rng, 3, device=device)
    y = x * 2.0
    y.mul_(3.0)
    assert y.grad_fn.name() == "MulBackward"
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), np.full(3, 6.0))


def test_in_place_mul_by_tensor_that_requires_grad(rng):
    x, w = leaf64(rng, 3), leaf64(rng, 3)
    g = tg.tensor(rng.standard_normal(3), dtype=tg.float64)
    y = x * 1.0
    y.mul_(w)
    y.backward(g)
    np.testing.assert_allclose(x.grad.cpu().numpy(), w.detach().cpu().numpy() * g.cpu().numpy())
    np.testing.assert_allclose(w.grad.cpu().numpy(), x.detach().cpu().numpy() * g.cpu().numpy())


def test_in_place_on_a_plain_tensor_with_a_grad_argument_joins_the_graph(rng):
    w = leaf64(rng, 3)
    buf = tg.ones(3, dtype=tg.float64)
    buf.add_(w * w)
    assert buf.requires_grad and buf.grad_fn is not None
    buf.sum().backward()
    np.testing.assert_allclose(w.grad.cpu().numpy(), 2 * w.detach().cpu().numpy())


def test_chain_of_in_place_ops_passes_gradcheck(rng):
    def f(x, w):
        y = x * 1.0
        y.add_(x.exp())
        y.mul_(w)
        y.sub_(x, alpha=0.5)
        y[1] = w[0] * x[2]
        return y
    assert gradcheck(f, (leaf64(rng, 3), leaf64(rng, 3)))


@pytest.mark.parametrize("index", [1, slice(0, 2), [2, 0], np.array([True, False, True])],
                         ids=["int", "slice", "int-array", "mask"])
def test_setitem_on_non_leaf_sends_gradients_to_both(rng, device, index):
    x = leaf64(rng, 3, device=device)
    expected_shape = np.zeros(3)[index].shape
    v = tg.tensor(rng.standard_normal(expected_shape), dtype=tg.float64, device=device,
                  requires_grad=True)
    g = rng.standard_normal(3)
    y = x * 2.0
    y[index] = v * 3.0
    y.backward(tg.tensor(g, dtype=tg.float64, device=device))
    written = np.zeros(3, dtype=bool)
    written[index] = True
    np.testing.assert_allclose(host(x.grad), np.where(written, 0.0, 2 * g))
    np.testing.assert_allclose(host(v.grad), 3 * g[index])
    expected = 2 * host(x)
    expected[index] = 3 * host(v)
    np.testing.assert_allclose(host(y), expected)


@pytest.mark.parametrize("fill, value", [(lambda h, s: h.zero_(), 0.0),
                                         (lambda h, s: h.fill_(2.5), 2.5),
                                         (lambda h, s: h.fill_(s), 1.5)],
                         ids=["zero_", "fill_ number", "fill_ 0-d tensor"])
def test_filling_a_non_leaf_keeps_it_in_the_graph(rng, fill, value):
    """As in PyTorch: what the tensor was computed from gets gradient zero, a 0-d tensor filled
    in gets the sum of the gradient."""
    x, s = leaf64(rng, 3), tg.tensor(1.5, dtype=tg.float64, requires_grad=True)
    g = rng.standard_normal(3)
    h = x * 2.0
    fill(h, s)
    assert h.requires_grad and h.grad_fn is not None
    np.testing.assert_array_equal(host(h), np.full(3, value))
    h.backward(tg.tensor(g, dtype=tg.float64))
    np.testing.assert_array_equal(host(x.grad), np.zeros(3))
    if s.grad is not None:
        assert host(s.grad) == pytest.approx(g.sum())


def test_filling_with_random_values_keeps_a_non_leaf_in_the_graph(rng):
    x = leaf64(rng, 3)
    h = x * 2.0
    h.normal_()
    assert h.grad_fn is not None
    (h * x).sum().backward()
    np.testing.assert_allclose(host(x.grad), host(h))     # only through the product


def test_fill_with_a_tensor_takes_a_0d_tensor_only(rng):
    x = leaf64(rng, 3)
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor but "
                                           "got tensor with 1 dimensions"):
        (x * 1.0).fill_(tg.ones(3, dtype=tg.float64))
    assert gradcheck(lambda x, s: (x * 1.0).fill_(s) * x, (x, leaf64(rng)))


def test_filling_a_non_leaf_matches_torch(rng):
    torch = pytest.importorskip("torch")
    values, g = rng.standard_normal(3), rng.standard_normal(3)
    results = []
    for lib in (tg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        s = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        a, b = x * 3.0, x * 1.0
        a.zero_()
        b.fill_(s)
        ((a + b * x) * lib.tensor(g, dtype=lib.float64)).sum().backward()
        results.append([t.detach().numpy() for t in (a, b, x.grad, s.grad)])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_in_place_on_a_view_under_no_grad_changes_the_base(rng):
    x = leaf64(rng, 4)
    y = x * 2.0
    with tg.no_grad():
        y[1:3].mul_(0.0)
    np.testing.assert_array_equal(host(y)[1:3], 0.0)
