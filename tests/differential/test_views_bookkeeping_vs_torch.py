"""Autograd bookkeeping around views and in-place ops against PyTorch: ``requires_grad_`` on a
view, ``detach``/``detach_`` then a change, ``.data`` reads and assignment, ``retain_grad`` on a
changed view, gradients accumulated over two backwards, the optimizer's no_grad update of a leaf
(then a new backward, or one through the old graph) and the version counters views share.
Each scenario runs on both libraries through ``check`` (test_autograd_vs_torch.py)."""

import pytest

from tests.differential.test_autograd_vs_torch import check, leaf

torch = pytest.importorskip("torch")


M = [[1.0, -2.0, 3.0], [0.5, 1.5, -1.0]]


def requires_grad_on_a_view(lib):
    x = leaf(lib, M, requires_grad=False)
    v = x[0].requires_grad_()
    (v * v).sum().backward()
    return v.grad, v.is_leaf, x.requires_grad


def requires_grad_after_inplace(lib):
    x = leaf(lib, M, requires_grad=False)
    x[1].add_(1.0)
    x.requires_grad_()
    (x * x.t().t()).sum().backward()
    return x.grad, x._version


def detached_change_breaks_backward(lib):
    x = leaf(lib, M)
    h = x * 2
    s = h * h                           # saves h
    h.detach()[0].add_(1.0)             # shares h's version counter
    s.sum().backward()


def detach_in_place_then_change(lib):
    x = leaf(lib, M)
    h = x * 2
    h.detach_()
    h[0].mul_(3.0)
    return h, h.requires_grad, h._version


def data_change_is_not_seen(lib):
    x = leaf(lib, M)
    y = x.exp()                         # saves y; a change through .data is not versioned
    y.data[1].mul_(2.0)
    y.sum().backward()
    return x.grad, y._version


def data_assignment_then_view_change(lib):
    x = leaf(lib, M)
    h = x * 1
    h.data = lib.zeros(2, 3, dtype=lib.float64)
    h[0].add_(x[1])
    (h * h).sum().backward()
    return h, x.grad


def retain_grad_on_a_changed_view(lib):
    x = leaf(lib, M)
    h = x * 1
    v = h[:, 1:]
    v.retain_grad()
    v.mul_(3.0)
    (h * h).sum().backward()
    return v.grad, x.grad


def two_backwards_through_a_changed_view(lib):
    x = leaf(lib, M)
    h = x.sin()
    h.t()[1].mul_(x[0, 1])
    loss = (h * h).sum()
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    loss.backward()
    return first, x.grad


def optimizer_update_then_backward(lib):
    x = leaf(lib, M)
    (x * x).sum().backward()
    with lib.no_grad():
        x.sub_(0.1 * x.grad)
        x[0].mul_(2.0)                  # a view's change, unrecorded
    x.grad.zero_()
    (x * x * x).sum().backward()
    return x, x.grad, x.is_leaf, x._version


def optimizer_update_then_old_graph(lib):
    x = leaf(lib, M)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    with lib.no_grad():
        x.t()[1].sub_(1.0)
    loss.backward()                     # x was saved, then changed


def version_counters_of_views(lib):
    b = lib.zeros(2, 3, dtype=lib.float64)
    v, w, d = b[0], b.t(), b.detach()
    v.add_(1.0)
    w.mul_(2.0)
    d[1, 1] = 5.0
    b.unsqueeze(0).zero_()
    return b._version, v._version, w._version, d._version, b.clone()._version


SCENARIOS = [
    requires_grad_on_a_view, requires_grad_after_inplace, detached_change_breaks_backward,
    detach_in_place_then_change, data_change_is_not_seen, data_assignment_then_view_change,
    retain_grad_on_a_changed_view, two_backwards_through_a_changed_view,
    optimizer_update_then_backward, optimizer_update_then_old_graph, version_counters_of_views,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_grad_bookkeeping_matches_torch(scenario):
    check(scenario)

