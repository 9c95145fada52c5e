"""In-place ops on views while recording (autograd/inplace.py): the base's graph is rewritten
(CopySlices), the view re-derived from it (AsStrided), and every other view of the base re-derived
when next used. Gradients against finite differences, closed forms and, when it is installed,
PyTorch."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def times_two_in_place(x, w):
    h = x * 1.0
    h[0] *= 2.0                 # Python: v = h[0]; v *= 2 (on the view); h[0] = v
    return h


def column_mul_(x, w):
    h = x * 1.0
    h[:, 1].mul_(3.0)
    return h


def flat_view_add_(x, w):
    h = x * 1.0
    h.view(-1).add_(1.0)
    return h * h


def transposed_zero_(x, w):
    h = x * 1.0
    h.t().zero_()
    return h + x


def row_mul_by_tensor(x, w):
    h = x * 1.0
    v = h[1]
    v.mul_(w)
    return v * h[1:].sum(0)


def overlapping_view_rederived(x, w):
    h = x * 1.0
    a, b = h[0:2], h[1:3]
    a.mul_(w)                   # changes b[0] too: b is re-derived from h when next used
    return b.exp()


def view_rederived_after_base_changed(x, w):
    h = x * 1.0
    v = h[0]
    h.mul_(w)
    return v * w


def view_of_a_view(x, w):
    h = x * 2.0
    u = h[0]
    u[1:3].add_(w[:2])
    return u * 2.0 + h.sin()


def setitem_on_a_view(x, w):
    h = x * 1.0
    h[1:3][0] = w * 2.0
    return h


def negative_steps(x, w):               # PyTorch has no negative steps
    h = x * 1.0
    h[::2, ::-1].mul_(w)
    return h.tanh()


def fill_with_a_tensor(x, w):
    h = x * 1.0
    h[0].fill_(w[0])
    return h * x


def element_0d(x, w):
    h = x * 1.0
    h[1, 2].mul_(w[0])
    return h


def view_of_a_0d_base(x, w):
    h = x.sum() * 1.0
    h.view(1).mul_(w[0])
    return h


def reshape_then_copy_(x, w):
    h = x * 1.0
    h.reshape(2, 6)[1, :4].copy_(w * 3.0)
    return h.sin()


def chain_on_one_view(x, w):
    h = x * 1.0
    v = h[0]
    v.mul_(2.0)
    v.mul_(w)
    return v.exp() + h[0]


def plain_tensor_joins_the_graph(x, w):
    buf = (x * 0.0).detach()
    buf[1].add_(w)
    return buf * x


CASES = [times_two_in_place, column_mul_, flat_view_add_, transposed_zero_, row_mul_by_tensor,
         overlapping_view_rederived, view_rederived_after_base_changed, view_of_a_view,
         setitem_on_a_view, negative_steps, fill_with_a_tensor, element_0d, view_of_a_0d_base,
         reshape_then_copy_, chain_on_one_view, plain_tensor_joins_the_graph]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_in_place_on_a_view_passes_gradcheck(rng, device, case):
    x, w = leaf64(rng, 3, 4, device=device), leaf64(rng, 4, device=device)
    assert gradcheck(case, (x, w))


@pytest.mark.parametrize("case", [row_mul_by_tensor, overlapping_view_rederived, view_of_a_view],
                         ids=lambda case: case.__name__)
def test_in_place_on_a_view_passes_gradgradcheck(rng, case):
    assert gradgradcheck(case, (leaf64(rng, 3, 4), leaf64(rng, 4)))


@pytest.mark.parametrize("case", [case for case in CASES if case is not negative_steps],
                         ids=lambda case: case.__name__)
def test_in_place_on_a_view_matches_torch(rng, case):
    torch = pytest.importorskip("torch")
    x_values, w_values = rng.standard_normal((3, 4)), rng.standard_normal(4)
    results = []
    for lib in (tg, torch):
        x = lib.tensor(x_values, dtype=lib.float64, requires_grad=True)
        w = lib.tensor(w_values, dtype=lib.float64, requires_grad=True)
        y = case(x, w)
        g = np.random.default_rng(1).standard_normal(tuple(y.shape))
        y.backward(lib.tensor(g, dtype=lib.float64))
        results.append([None if t is None else t.detach().numpy() for t in (y, x.grad, w.grad)])
    for mine, theirs in zip(*results):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_base_and_view_take_their_new_places_in_the_graph(rng):
    x = leaf64(rng, 3, 4)
    g = rng.standard_normal((3, 4))
    h = x * 1.0
    v = h[0]
    v.mul_(2.0)
    assert h.grad_fn.name() == "CopySlicesBackward" and v.grad_fn.name() == "AsStridedBackward"
    np.testing.assert_array_equal(host(v), 2 * host(x)[0])
    np.testing.assert_array_equal(host(h)[0], host(v))
    h.backward(tg.tensor(g, dtype=tg.float64))
    np.testing.assert_array_equal(host(x.grad), g * [[2.0], [1.0], [1.0]])


def test_the_view_itself_reaches_the_base_inputs(rng):
    x = leaf64(rng, 3, 4)
    h = x * 1.0
    v = h[:, 1]
    v.add_(1.0)
    v.sum().backward()
    expected = np.zeros((3, 4))
    expected[:, 1] = 1.0
    np.testing.assert_array_equal(host(x.grad), expected)


def test_another_view_of_the_base_is_rederived(rng):
    x = leaf64(rng, 3, 4)
    h = x * 1.0
    a, b = h[0:2], h[1:3]
    a.mul_(2.0)
    b.sum().backward()                   # b[0] is h[1], which a doubled
    np.testing.assert_array_equal(host(x.grad), np.array([[0.0], [2.0], [1.0]]) * np.ones(4))


def test_a_view_is_rederived_after_its_base_changed(rng):
    x = leaf64(rng, 3, 4)
    h = x * 1.0
    v = h[0]
    h.mul_(3.0)
    assert v.grad_fn.name() == "AsStridedBackward"
    v.sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.array([[3.0], [0.0], [0.0]]) * np.ones(4))


def test_a_view_changed_under_no_grad_keeps_its_gradient(rng):
    x = leaf64(rng, 3, 4)
    h = x * 2.0
    v, other = h[0], h[0:2]
    with tg.no_grad():
        v.add_(1.0)
    other.sum().backward()               # the add is not recorded: the gradient of x * 2
    np.testing.assert_array_equal(host(x.grad), np.array([[2.0], [2.0], [0.0]]) * np.ones(4))


def test_a_plain_tensor_joins_the_graph_through_its_view(rng):
    w = leaf64(rng, 2)
    buf = tg.zeros(3, dtype=tg.float64)
    other = buf[1:]
    buf[:2].add_(w)
    assert buf.requires_grad and buf.grad_fn.name() == "CopySlicesBackward"
    assert other.grad_fn is not None and other.requires_grad
    (buf.sum() + other.sum()).backward()
    np.testing.assert_array_equal(host(w.grad), [1.0, 2.0])


def test_pieces_of_split_can_be_changed_in_place(rng):
    """PyTorch refuses this for the outputs of split, unbind and chunk (a limitation of its
    implementation); here they are views like any other."""
    x = leaf64(rng, 4)
    h = x * 1.0
    first, second = h.split(2)
    first.mul_(3.0)
    (h.sum() + second.sum()).backward()
    np.testing.assert_array_equal(host(x.grad), [3.0, 3.0, 2.0, 2.0])


def test_retain_grad_follows_the_base(rng):
    x = leaf64(rng, 3)
    c = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)
    h = x * 1.0
    h.retain_grad()
    h[1:].mul_(2.0)
    (h * c).sum().backward()
    np.testing.assert_array_equal(host(h.grad), host(c))


def test_changing_a_saved_base_through_a_view_raises_at_backward(rng):
    x = leaf64(rng, 3)
    h = x * 1.0
    y = h * h                            # saves h
    h[0].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation.*MulBackward"):
        y.sum().backward()


@pytest.mark.parametrize("change", [lambda x: x[1:3].add_(1.0), lambda x: x.t().zero_(),
                                    lambda x: x.view(-1).mul_(2.0), lambda x: x[0].fill_(1.0),
                                    lambda x: x[0].__setitem__(1, 5.0)],
                         ids=["slice add_", "t zero_", "view mul_", "fill_", "setitem"])
def test_in_place_on_a_view_of_a_leaf_that_requires_grad_is_refused(rng, change):
    x = leaf64(rng, 3, 3)
    before = host(x).copy()
    with pytest.raises(RuntimeError, match=r"^a view of a leaf Variable that requires grad is "
                                           r"being used in an in-place operation\."):
        change(x)
    np.testing.assert_array_equal(host(x), before)
    with tg.no_grad():                   # as in PyTorch, fine when not recorded
        change(x)


def test_in_place_on_a_view_that_was_made_a_leaf_is_refused():
    v = tg.zeros(3, dtype=tg.float64)[0:2].requires_grad_()
    with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad"):
        v.add_(1.0)


@pytest.mark.parametrize("make_base", [lambda x: x * 1.0, lambda x: tg.zeros(3)],
                         ids=["base requires grad", "plain base"])
def test_recording_a_change_to_a_view_made_under_no_grad_is_refused(rng, make_base):
    x = tg.tensor(rng.standard_normal(3), requires_grad=True)
    h = make_base(x)
    with tg.no_grad():
        v = h[0:2]
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being "
                                           "modified inplace with grad mode enabled"):
        v.mul_(x[0:2])
    with tg.no_grad():
        v.mul_(x[0:2])


def test_a_view_whose_base_got_new_memory_is_a_view_no_more(rng):
    x = leaf64(rng, 3)
    h = x * 1.0
    v = h[0:2]
    h.data = tg.zeros(3, dtype=tg.float64)
    v.mul_(2.0)                          # changes v alone, as a tensor of its own
    assert v.grad_fn.name() == "MulBackward" and host(h).tolist() == [0.0] * 3


def test_a_reshape_that_copies_is_changed_in_place_as_a_tensor_of_its_own(rng):
    x = leaf64(rng, 2, 3)
    h = x * 1.0
    flat = h.t().reshape(-1)             # a copy: h is not changed with it
    flat.mul_(2.0)
    assert flat.grad_fn.name() == "MulBackward" and h.grad_fn.name() == "MulBackward"
    (flat.sum() + h.sum()).backward()
    np.testing.assert_array_equal(host(x.grad), np.full((2, 3), 3.0))


class Alias(tg.autograd.Function):
    """y = x, sharing x's memory, with a backward of its own."""
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x[...]

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y * 10.0


def test_in_place_on_a_view_made_by_a_custom_function_is_refused(rng):
    """As in PyTorch: replaying the change on the base would bypass the Function's backward."""
    x = leaf64(rng, 3)
    y = Alias.apply(x * 1.0)
    with pytest.raises(RuntimeError, match="Output 0 of AliasBackward is a view and is being "
                                           "modified inplace .*custom Function"):
        y.mul_(2.0)
    with tg.no_grad():
        y.mul_(2.0)
