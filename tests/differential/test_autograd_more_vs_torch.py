"""More autograd semantics against PyTorch: ``.data``, ``.grad`` assignment, hook order, the
options of ``grad()``/``backward(inputs=)``, flags of clones and detached tensors, and in-place
changes through every kind of view (narrow, select, reshape, flatten, permute, transpose,
squeeze_/unsqueeze_/t_, expand, the outputs of split/chunk/unbind).

Scenarios are functions of the library module, compared by ``check`` (see
test_autograd_vs_torch.py). The mismatches still open are skipped below, each naming its bug.
"""

import pytest

from tests.differential.test_autograd_vs_torch import M, check, leaf

torch = pytest.importorskip("torch")


def data_version(lib):
    x = leaf(lib, M)
    h = x * x
    h.data.mul_(2)
    d = x.data
    d[0, 0] = 9.0
    return x._version, h._version, x, h


def data_assign_then_backward(lib):
    x = leaf(lib, M)
    h = x * x
    x.data = lib.ones(2, 3, dtype=lib.float64)
    h.sum().backward()
    return x.grad


def grad_assign_and_accum(lib):
    x = leaf(lib, M)
    x.grad = lib.ones(2, 3, dtype=lib.float64)
    (x * 2).sum().backward()
    return x.grad


def retain_grad_leaf(lib):
    x = leaf(lib, M)
    x.retain_grad()
    (x * 2).sum().backward()
    return x.grad


def retain_grad_no_grad(lib):
    x = lib.ones(2)
    x.retain_grad()


def hook_on_leaf_with_grad(lib):
    x = leaf(lib, M)
    x.register_hook(lambda g: g * 3)
    return lib.autograd.grad((x * x).sum(), x)


def hook_order(lib):
    x = leaf(lib, M)
    h = x * 2
    out = []
    h.register_hook(lambda g: out.append(1))
    h.register_hook(lambda g: g * 2)
    h.register_hook(lambda g: out.append(float(g.sum())))
    h.sum().backward()
    return tuple(out), x.grad


def grad_non_scalar_outputs(lib):
    x = leaf(lib, M)
    return lib.autograd.grad(x * 2, x)


def grad_with_retain_false(lib):
    x = leaf(lib, M)
    y = (x.exp()).sum()
    lib.autograd.grad(y, x)
    lib.autograd.grad(y, x)


def grad_unrequired_input(lib):
    x = leaf(lib, M)
    z = lib.ones(2, 3, dtype=lib.float64)
    return lib.autograd.grad((x * z).sum(), [x, z])


def create_graph_grad_flags(lib):
    x = leaf(lib, M)
    (g,) = lib.autograd.grad((x * x).sum(), x, create_graph=True)
    return g


def no_grad_grad_flags(lib):
    x = leaf(lib, M)
    (g,) = lib.autograd.grad((x * x).sum(), x)
    return g


def leaf_clone_flags(lib):
    x = leaf(lib, M)
    return x.clone(), x.detach(), x.detach().requires_grad_(), x[0], x.view(6)


def set_grad_enabled_decorator(lib):
    x = leaf(lib, M)
    @lib.set_grad_enabled(False)
    def double(t):
        return t * 2
    return double(x), lib.is_grad_enabled()


def backward_twice_grad_none(lib):
    x = leaf(lib, M)
    y = (x * 2).sum()
    y.backward()
    x.grad = None
    (x * 3).sum().backward()
    return x.grad


def detach_inplace_leaf_then_use(lib):
    x = leaf(lib, M)
    x.detach_()
    return x, x * 2


def inputs_non_requiring(lib):
    x = leaf(lib, M)
    z = lib.ones(1, dtype=lib.float64)
    (x * 2).sum().backward(inputs=[z])


def inputs_empty(lib):
    x = leaf(lib, M)
    (x * 2).sum().backward(inputs=[])


def grad_none_outputs_for_unreachable(lib):
    x = leaf(lib, M)
    y = leaf(lib, M)
    return lib.autograd.grad([(x * 2).sum(), (y * y).sum()], [x, y])


def grad_outputs_none_list(lib):
    x = leaf(lib, M)
    y = x * 2
    grads = [None, lib.ones(2, 3, dtype=lib.float64)]
    return lib.autograd.grad([y.sum(), y], [x], grad_outputs=grads)


def int_inplace_no_grad_ok(lib):
    x = lib.tensor([1, 2, 3])
    x.mul_(2)
    x += 1
    return x, x._version


def float_inplace_int_arg(lib):
    x = lib.ones(3, dtype=lib.float64)
    x.add_(lib.tensor([1, 2, 3]))
    return x


def expand_inplace(lib):
    x = leaf(lib, [1.0, 2.0])
    h = x * 1
    e = h.expand(3, 2)
    e.add_(1)


def unsqueeze_inplace(lib):
    x = leaf(lib, M)
    h = x * 1
    h.unsqueeze_(0)
    h.squeeze_()
    h.t_()
    (h * h).sum().backward()
    return h, x.grad


def transpose_view_inplace(lib):
    x = leaf(lib, M)
    h = x * 1
    v = h.transpose(0, 1)
    v[0] = 2.0
    v.mul_(lib.tensor([1.0, 3.0], dtype=lib.float64))
    (h * h).sum().backward()
    return h, v, x.grad


def view_of_no_grad_view(lib):
    x = leaf(lib, M)
    h = x * 1
    with lib.no_grad():
        v = h[0]
    v.mul_(2)


def chained_views_inplace(lib):
    x = leaf(lib, M)
    h = x.exp()
    h = h * 1
    a = h[:, 1:]
    b = a[1]
    b.mul_(b.detach() + 1)
    (h.sin()).sum().backward()
    return h, a, b, x.grad, a.grad_fn is None


def pieces_changed_in_place(lib, pieces):
    """PyTorch refuses in-place changes to the outputs of split/chunk/unbind; tinygen allows
    them on purpose (tests/autograd/test_inplace_views.py). The same change made through
    narrow() on PyTorch gives the gradient tinygen must give."""
    x = leaf(lib, M)
    h = x * 1
    if lib is torch:
        h.narrow(0, 0, 1).mul_(2)
    else:
        pieces(h)[0].mul_(2)
    (h * h).sum().backward()
    return h, x.grad


def unbind_rows(lib):
    return pieces_changed_in_place(lib, lambda h: [p.unsqueeze(0) for p in h.unbind(0)])


def split_rows(lib):
    return pieces_changed_in_place(lib, lambda h: h.split(1, 0))


def chunk_rows(lib):
    return pieces_changed_in_place(lib, lambda h: h.chunk(2, 0))


def narrow_inplace(lib):
    x = leaf(lib, M)
    h = x * 1
    h.narrow(1, 0, 2).mul_(3)
    h.select(0, 1).add_(1)
    (h * h).sum().backward()
    return h, x.grad


def diagonal_inplace(lib):
    x = leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
    h = x * 1
    h.diagonal().mul_(5)
    (h * h).sum().backward()
    return h, x.grad


def reshape_inplace(lib):
    x = leaf(lib, M)
    h = x * 1
    h.reshape(3, 2)[0].zero_()
    (h * h).sum().backward()
    return h, x.grad


def flatten_inplace(lib):
    x = leaf(lib, M)
    h = x * 1
    h.flatten()[2:4].fill_(1.0)
    (h * h).sum().backward()
    return h, x.grad


def as_strided_like_permute(lib):
    x = leaf(lib, [[[1.0, 2.0], [3.0, 4.0]]])
    h = x * 1
    h.permute(2, 0, 1)[1].mul_(2)
    (h * h).sum().backward()
    return h, x.grad


SCENARIOS = [
    unbind_rows, split_rows, chunk_rows,
    data_version, data_assign_then_backward, grad_assign_and_accum, retain_grad_leaf,
    retain_grad_no_grad, hook_on_leaf_with_grad, hook_order, grad_non_scalar_outputs,
    grad_with_retain_false, grad_unrequired_input, create_graph_grad_flags, no_grad_grad_flags,
    leaf_clone_flags, set_grad_enabled_decorator, backward_twice_grad_none,
    detach_inplace_leaf_then_use, inputs_non_requiring, inputs_empty,
    grad_none_outputs_for_unreachable, grad_outputs_none_list, int_inplace_no_grad_ok,
    float_inplace_int_arg, expand_inplace, unsqueeze_inplace, transpose_view_inplace,
    view_of_no_grad_view, chained_views_inplace,
    narrow_inplace, reshape_inplace, flatten_inplace, as_strided_like_permute,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_more_autograd_matches_torch(scenario):
    check(scenario)


def test_diagonal_inplace():
    check(diagonal_inplace)
