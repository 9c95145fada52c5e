"""Gradient flow against PyTorch: hooks, retain_grad, accumulation, retain_graph, inputs=,
autograd.grad's options, detach, grad modes and requires_grad propagation.

Scenarios are functions of the library module, compared by ``check`` (see
test_autograd_vs_torch.py).
"""

import pytest

from tests.differential.test_autograd_vs_torch import M, check, leaf

torch = pytest.importorskip("torch")
# PyTorch warns about the .grad reference cycle that backward(create_graph=True) makes.
pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")


def retain_grad_on_intermediate_and_view(lib):
    x = leaf(lib, M)
    h = x * x
    v = h[1]
    h.retain_grad()
    v.retain_grad()
    (v * 3).sum().backward(retain_graph=True)
    (h * 2).sum().backward()
    return h.grad, v.grad, x.grad


def retain_grad_follows_inplace(lib):
    x = leaf(lib, M)
    h = x * 2
    h.retain_grad()
    h.mul_(3)
    (h * h).sum().backward()
    return h.grad, x.grad


def hook_replaces_gradient(lib):
    x = leaf(lib, M)
    h = x.sin()
    seen = []
    h.register_hook(lambda g: seen.append(g.clone()))
    h.register_hook(lambda g: g * 10)
    h.retain_grad()
    h.sum().backward()
    return h.grad, x.grad, seen[0]


def hook_on_leaf(lib):
    x = leaf(lib, M)
    handle = x.register_hook(lambda g: g + 1)
    (x * 2).sum().backward()
    first = x.grad.clone()
    handle.remove()
    (x * 2).sum().backward()
    return first, x.grad


def hook_on_non_grad_tensor(lib):
    lib.ones(2).register_hook(lambda g: g)


def hook_changes_shape(lib):
    x = leaf(lib, M)
    h = x * 2
    h.register_hook(lambda g: g.sum())
    h.sum().backward()


def accumulate_over_two_backwards(lib):
    x = leaf(lib, M)
    (x ** 2).sum().backward()
    grad = x.grad
    (x ** 3).sum().backward()
    return x.grad, grad is x.grad


def second_backward_without_retain(lib):
    x = leaf(lib, M)
    y = (x.exp() * x).sum()
    y.backward()
    y.backward()


def second_backward_with_retain(lib):
    x = leaf(lib, M)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


def second_backward_through_ops_saving_nothing(lib):
    x = leaf(lib, M)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    return x.grad


def backward_inputs(lib):
    x, y = leaf(lib, M), leaf(lib, [1.0, 2.0, 3.0])
    h = x * y
    h.retain_grad()
    z = (h * h).sum()
    z.backward(inputs=[y, h], retain_graph=True)
    grads = (x.grad, y.grad, h.grad)
    z.backward(inputs=x)
    return grads + (x.grad,)


def grad_allow_unused(lib):
    x, y = leaf(lib, M), leaf(lib, [1.0])
    return lib.autograd.grad((x * x).sum(), [x, y], allow_unused=True)


def grad_unused_is_an_error(lib):
    x, y = leaf(lib, M), leaf(lib, [1.0])
    return lib.autograd.grad((x * x).sum(), [x, y])


def grad_materialize(lib):
    x, y = leaf(lib, M), leaf(lib, [1.0])
    return lib.autograd.grad((x * x).sum(), [x, y], materialize_grads=True)


def grad_materialize_with_allow_unused_false(lib):
    x, y = leaf(lib, M), leaf(lib, [1.0])
    return lib.autograd.grad((x * x).sum(), [x, y], allow_unused=False, materialize_grads=True)


def grad_leaves_dot_grad_alone(lib):
    x = leaf(lib, M)
    (g,) = lib.autograd.grad((x * x).sum(), x)
    return g, x.grad is None


def grad_of_intermediate(lib):
    x = leaf(lib, M)
    h = x.tanh()
    return lib.autograd.grad((h * x).sum(), [h, x])


def grad_with_grad_outputs(lib):
    x = leaf(lib, M)
    y = x * x
    return lib.autograd.grad(y, x, grad_outputs=lib.ones_like(y) * 2)


def second_and_third_derivatives(lib):
    x = leaf(lib, [0.5, -1.0, 2.0])
    y = (x.sin() * x.exp() + x ** 3).sum()
    (g1,) = lib.autograd.grad(y, x, create_graph=True)
    (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = lib.autograd.grad(g2.sum(), x)
    return g1, g2, g3


def backward_create_graph(lib):
    x = leaf(lib, [0.5, -1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    return g, x.grad


def non_scalar_backward_without_gradient(lib):
    x = leaf(lib, M)
    (x * 2).backward()


def backward_of_non_grad_tensor(lib):
    lib.ones(2).sum().backward()


def gradient_of_wrong_shape(lib):
    x = leaf(lib, M)
    (x * 2).backward(lib.ones(3, dtype=lib.float64))


def detach_shares_storage(lib):
    x = leaf(lib, M)
    h = x * 2
    d = h.detach()
    d[0, 0] = 100.0
    return h, d, h._version, d._version


def detach_in_place(lib):
    x = leaf(lib, M)
    h = x * 2
    h.detach_()
    return h, (h * x).sum()


def detach_in_place_on_view(lib):
    x = leaf(lib, M)
    (x * 2)[0].detach_()


def integer_ops_do_not_require_grad(lib):
    x = leaf(lib, M)
    return x > 0, x.long(), x.argmax(), (x * 2).round(), x.floor(), x.int().sign()


def sign_of_float_stays_in_graph(lib):
    x = leaf(lib, M)
    y = x.sign()
    (y * x).sum().backward()
    return y, x.grad


def requires_grad_on_integer_tensor(lib):
    lib.tensor([1, 2]).requires_grad_()


def requires_grad_false_on_non_leaf(lib):
    x = leaf(lib, M)
    (x * 2).requires_grad_(False)


def no_grad_and_enable_grad(lib):
    x = leaf(lib, M)
    with lib.no_grad():
        a = x * 2
        with lib.enable_grad():
            b = x * 2
        c = x * 2
    return a, b, c, lib.is_grad_enabled()


def set_grad_enabled_false(lib):
    x = leaf(lib, M)
    with lib.set_grad_enabled(False):
        a = x * 2
        state = lib.is_grad_enabled()
    lib.set_grad_enabled(False)
    b = x * 2
    lib.set_grad_enabled(True)
    return a, b, state, x * 2


def inference_mode(lib):
    x = leaf(lib, M)
    with lib.inference_mode():
        a = x * 2
        state = lib.is_grad_enabled()
    with lib.inference_mode(False):
        b = x * 2
    return a, b, state


def no_grad_decorator(lib):
    x = leaf(lib, M)

    @lib.no_grad()
    def double(t):
        return t * 2
    return double(x), x * 2


SCENARIOS = [
    retain_grad_on_intermediate_and_view, retain_grad_follows_inplace, hook_replaces_gradient,
    hook_on_leaf, hook_on_non_grad_tensor, hook_changes_shape, accumulate_over_two_backwards,
    second_backward_without_retain, second_backward_with_retain,
    second_backward_through_ops_saving_nothing, backward_inputs, grad_allow_unused,
    grad_unused_is_an_error, grad_materialize, grad_materialize_with_allow_unused_false,
    grad_leaves_dot_grad_alone, grad_of_intermediate, grad_with_grad_outputs,
    second_and_third_derivatives, backward_create_graph, non_scalar_backward_without_gradient,
    backward_of_non_grad_tensor, gradient_of_wrong_shape, detach_shares_storage,
    detach_in_place, detach_in_place_on_view, integer_ops_do_not_require_grad,
    requires_grad_on_integer_tensor, requires_grad_false_on_non_leaf, no_grad_and_enable_grad,
    set_grad_enabled_false, inference_mode, no_grad_decorator,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_gradient_flow_matches_torch(scenario):
    check(scenario)


def test_sign_of_float_stays_in_graph():
    check(sign_of_float_stays_in_graph)
