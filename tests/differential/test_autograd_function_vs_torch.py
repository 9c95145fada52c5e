"""Custom autograd Functions against PyTorch: what ctx offers (save_for_backward,
mark_non_differentiable, needs_input_grad, set_materialize_grads), once_differentiable, None and
wrong numbers of gradients, and double backward through a backward written in tensor ops.

Each scenario defines its Function on ``lib.autograd.Function`` so the same class body runs on
both libraries; ``check`` compares (see test_autograd_vs_torch.py).
"""

import pytest

from tests.differential.test_autograd_vs_torch import M, check, leaf

torch = pytest.importorskip("torch")


def cube_class(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_y):
            (x,) = ctx.saved_tensors
            return grad_y * 3 * x ** 2
    return Cube


def save_input(lib):
    x = leaf(lib, M)
    y = cube_class(lib).apply(x)
    y.sum().backward()
    return y, x.grad


def save_output_and_intermediate(lib):
    class ExpScaled(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            scale = w * 2
            y = x.exp() * scale
            ctx.save_for_backward(y, scale, w)
            return y

        @staticmethod
        def backward(ctx, grad_y):
            y, scale, w = ctx.saved_tensors
            return grad_y * y, (grad_y * y / scale * 2).sum(0)

    x, w = leaf(lib, M), leaf(lib, [1.0, 2.0, 3.0])
    y = ExpScaled.apply(x, w)
    (y * y).sum().backward()
    return y, x.grad, w.grad


def saved_input_changed_in_place(lib):
    x = leaf(lib, M)
    h = x * 1
    y = cube_class(lib).apply(h)
    h.add_(1)
    y.sum().backward()


def non_differentiable_output(lib):
    class SortValues(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort(dim=1)
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return values, indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            (indices,) = ctx.saved_tensors
            return lib.zeros_like(grad_values).scatter(1, indices, grad_values)

    x = leaf(lib, M)
    values, indices = SortValues.apply(x)
    (values * lib.arange(3.0, dtype=lib.float64)).sum().backward()
    return values, indices, x.grad


def needs_input_grad(lib):
    seen = []

    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, factor):
            ctx.save_for_backward(a, b)
            return a * b * factor

        @staticmethod
        def backward(ctx, grad):
            seen.append(tuple(ctx.needs_input_grad))
            a, b = ctx.saved_tensors
            ga = grad * b if ctx.needs_input_grad[0] else None
            gb = grad * a if ctx.needs_input_grad[1] else None
            return ga, gb, None

    a, b = leaf(lib, M), leaf(lib, M, requires_grad=False)
    Mul.apply(a, b, 2.0).sum().backward()
    return a.grad, b.grad, seen[0]


def materialize_grads(lib, materialize):
    seen = []

    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return (g1 * 2 if g1 is not None else 0) + (g2 * 3 if g2 is not None else 0)

    x = leaf(lib, M)
    first, _ = Split.apply(x)
    first.sum().backward()
    return x.grad, seen[0]


def materialize_on(lib):
    return materialize_grads(lib, True)


def materialize_off(lib):
    return materialize_grads(lib, False)


def once_differentiable_class(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x
    return Square


def once_differentiable_first_order(lib):
    x = leaf(lib, M)
    y = once_differentiable_class(lib).apply(x)
    y.sum().backward()
    return y, x.grad


def once_differentiable_twice(lib):
    x = leaf(lib, M)
    y = once_differentiable_class(lib).apply(x)
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    g.sum().backward()


def none_gradient(lib):
    class FirstOnly(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    a, b = leaf(lib, M), leaf(lib, M)
    FirstOnly.apply(a, b).sum().backward()
    return a.grad, b.grad is None


def too_few_gradients(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a, b = leaf(lib, M), leaf(lib, M)
    Bad.apply(a, b).sum().backward()


def too_many_gradients(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad

    a = leaf(lib, M)
    Bad.apply(a).sum().backward()


def extra_none_gradients(lib):
    class Fine(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None

    a = leaf(lib, M)
    Fine.apply(a).sum().backward()
    return a.grad


def gradient_of_wrong_shape(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad[0]

    a = leaf(lib, M)
    Bad.apply(a).sum().backward()


def double_backward(lib):
    x = leaf(lib, [0.5, -1.0, 2.0])
    y = cube_class(lib).apply(x.sin())
    (g1,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (g2,) = lib.autograd.grad((g1 * g1).sum(), x, create_graph=True)
    (g3,) = lib.autograd.grad(g2.sum(), x)
    return y, g1, g2, g3


def output_flags(lib):
    x = leaf(lib, M)
    with lib.no_grad():
        inside = cube_class(lib).apply(x)
    plain = cube_class(lib).apply(leaf(lib, M, requires_grad=False))
    return cube_class(lib).apply(x), inside, plain


def input_returned_as_is(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    x = leaf(lib, M)
    h = x * 1
    y = Identity.apply(h)
    (y * 2).sum().backward()
    return y, x.grad


SCENARIOS = [
    save_input, save_output_and_intermediate, saved_input_changed_in_place,
    non_differentiable_output, needs_input_grad, materialize_on, materialize_off,
    once_differentiable_first_order, once_differentiable_twice, none_gradient,
    too_few_gradients, too_many_gradients, extra_none_gradients, gradient_of_wrong_shape,
    double_backward, output_flags, input_returned_as_is,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_custom_function_matches_torch(scenario):
    check(scenario)
