"""Custom ``Function`` subclasses: the docstring's Cube, ctx.needs_input_grad, save_for_backward,
several outputs (an unused one gets zeros), non-tensor arguments, and backward mistakes."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import leaf64
from tinygen.autograd import Function, gradcheck, gradgradcheck


class Cube(Function):
    """The example of function.py's docstring."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * 3 * x ** 2


def test_cube_values_gradients_and_node(rng):
    x = leaf64(rng, 4)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward" and "CubeBackward" in repr(y)
    np.testing.assert_allclose(y.detach().cpu().numpy(), x.detach().cpu().numpy() ** 3)
    g = rng.standard_normal(4)
    y.backward(tg.tensor(g, dtype=tg.float64))
    np.testing.assert_allclose(x.grad.cpu().numpy(), 3 * x.detach().cpu().numpy() ** 2 * g)


def test_cube_passes_gradcheck_and_gradgradcheck(rng):
    x = leaf64(rng, 2, 3)
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))      # backward is written in tensor ops


def test_cube_third_derivative(rng):
    x = leaf64(rng, 3)
    (d1,) = tg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (d2,) = tg.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = tg.autograd.grad(d2.sum(), x)
    np.testing.assert_allclose(d2.detach().cpu().numpy(), 6 * x.detach().cpu().numpy())
    np.testing.assert_allclose(d3.cpu().numpy(), np.full(3, 6.0))


class ScaledProduct(Function):
    """y = a * b * k for tensors a, b and a Python number k; records needs_input_grad."""
    seen = []

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        ScaledProduct.seen.append(("forward", ctx.needs_input_grad))
        return a * b * k

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        ScaledProduct.seen.append(("backward", ctx.needs_input_grad))
        grad_a = grad_y * b * ctx.k if ctx.needs_input_grad[0] else None
        grad_b = grad_y * a * ctx.k if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


@pytest.mark.parametrize("a_grad, b_grad", [(True, False), (False, True), (True, True)])
def test_needs_input_grad_says_which_inputs_want_a_gradient(rng, a_grad, b_grad):
    a = tg.tensor(rng.standard_normal(3), dtype=tg.float64, requires_grad=a_grad)
    b = tg.tensor(rng.standard_normal(3), dtype=tg.float64, requires_grad=b_grad)
    ScaledProduct.seen = []
    ScaledProduct.apply(a, b, 2.0).sum().backward()
    expected = (a_grad, b_grad, False)
    assert ScaledProduct.seen == [("forward", expected), ("backward", expected)]
    for t, other in ((a, b), (b, a)):
        if t.requires_grad:
            np.testing.assert_allclose(t.grad.cpu().numpy(), 2.0 * other.detach().cpu().numpy())
        else:
            assert t.grad is None


def test_no_node_without_an_input_that_requires_grad(rng):
    a = tg.tensor(rng.standard_normal(3), dtype=tg.float64)
    ScaledProduct.seen = []
    y = ScaledProduct.apply(a, a, 1.0)
    assert not y.requires_grad and y.grad_fn is None
    assert ScaledProduct.seen == [("forward", (False, False, False))]


def test_no_node_under_no_grad(rng):
    a = leaf64(rng, 3)
    with tg.no_grad():
        y = ScaledProduct.apply(a, a, 1.0)
    assert not y.requires_grad and y.grad_fn is None


def test_python_number_argument_gets_no_gradient(rng):
    a, b = leaf64(rng, 3), leaf64(rng, 3)
    grads = tg.autograd.grad(ScaledProduct.apply(a, b, 3.0).sum(), (a, b))
    np.testing.assert_allclose(grads[0].cpu().numpy(), 3.0 * b.detach().cpu().numpy())


class Keep(Function):
    """Saves its input, its output and a derived array, and hands back what it got."""
    got = None

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(x, y, x > 0)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        Keep.got = ctx.saved_tensors
        x, y, positive = Keep.got
        return grad_y * y


def test_save_for_backward_links_inputs_and_outputs(rng):
    x = leaf64(rng, 4)
    y = Keep.apply(x)
    y.backward(tg.tensor(rng.standard_normal(4), dtype=tg.float64))
    saved_x, saved_y, positive = Keep.got
    assert saved_x is x                              # the input itself
    assert saved_y.grad_fn is y.grad_fn              # the output, linked to this node
    np.testing.assert_array_equal(saved_y.detach().cpu().numpy(), y.detach().cpu().numpy())
    assert positive.grad_fn is None and not positive.requires_grad   # a constant
    np.testing.assert_array_equal(positive.cpu().numpy(), x.detach().cpu().numpy() > 0)


def test_saved_output_changed_in_place_is_detected(rng):
    x = leaf64(rng, 3)
    y = Keep.apply(x)
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="KeepBackward"):
        y.sum().backward()


class SplitPowers(Function):
    """(2x, x^2): two outputs, each with its own gradient."""
    got = None

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2, x ** 2

    @staticmethod
    def backward(ctx, grad_double, grad_square):
        (x,) = ctx.saved_tensors
        SplitPowers.got = (grad_double, grad_square)
        return grad_double * 2 + grad_square * 2 * x


def test_multi_output_function_outputs_share_one_node(rng):
    x = leaf64(rng, 3)
    double, square = SplitPowers.apply(x)
    assert double.grad_fn is square.grad_fn
    np.testing.assert_allclose(square.detach().cpu().numpy(), x.detach().cpu().numpy() ** 2)


@pytest.mark.parametrize("used", [0, 1], ids=["double-only", "square-only"])
def test_unused_output_gets_a_zero_gradient(rng, used):
    x = tg.tensor(rng.standard_normal((2, 3)), dtype=tg.float32, requires_grad=True)
    outputs = SplitPowers.apply(x)
    g = rng.standard_normal((2, 3)).astype(np.float32)
    outputs[used].backward(tg.tensor(g))
    grads = SplitPowers.got
    unused = grads[1 - used]
    assert unused.shape == (2, 3) and unused.dtype == tg.float32
    np.testing.assert_array_equal(unused.cpu().numpy(), 0)
    np.testing.assert_array_equal(grads[used].cpu().numpy(), g)
    expected = 2 * g if used == 0 else 2 * x.detach().cpu().numpy() * g
    np.testing.assert_allclose(x.grad.cpu().numpy(), expected, rtol=1e-6)


def test_multi_output_function_with_both_outputs_used(rng):
    x = leaf64(rng, 3)
    assert gradcheck(lambda t: SplitPowers.apply(t), (x,))
    assert gradcheck(lambda t: (lambda d, s: d * s)(*SplitPowers.apply(t)), (x,))


class BroadcastAdd(Function):
    """a + b with broadcasting; backward returns the broadcast-shaped gradient for both."""
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, grad_y


def test_engine_sums_broadcast_gradients_back(rng):
    a, b = leaf64(rng, 2, 3), leaf64(rng, 3)
    g = rng.standard_normal((2, 3))
    BroadcastAdd.apply(a, b).backward(tg.tensor(g, dtype=tg.float64))
    np.testing.assert_allclose(a.grad.cpu().numpy(), g)
    np.testing.assert_allclose(b.grad.cpu().numpy(), g.sum(0))
    assert gradcheck(BroadcastAdd.apply, (leaf64(rng, 2, 1, 3), leaf64(rng, 4, 1)))


class ArrayBackward(Function):
    """A backward returning a raw array (allowed: the engine wraps it)."""
    @staticmethod
    def forward(ctx, x):
        return x * 5

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y.array * 5


def test_backward_may_return_a_raw_array(rng):
    x = leaf64(rng, 3)
    ArrayBackward.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), np.full(3, 5.0))


class TooManyGradients(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, grad_y


class WrongShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad_y):
        return tg.ones(5, dtype=tg.float64)


@pytest.mark.parametrize("fn, message", [
    (TooManyGradients, r"TooManyGradients.backward returned 2 gradients but forward took 1"),
    (WrongShape, r"WrongShape.backward returned a gradient of shape \(5,\) for input 0 of "
                 r"shape \(2, 3\)"),
], ids=["count", "shape"])
def test_backward_mistakes_are_reported(rng, fn, message):
    with pytest.raises(RuntimeError, match=message):
        fn.apply(leaf64(rng, 2, 3)).sum().backward()


class Failing(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a @ b


def test_forward_error_names_the_function_and_input_shapes():
    with pytest.raises(ValueError, match=r"Failing: .*\(input shapes: \(2, 3\), \(2, 3\)\)"):
        Failing.apply(tg.ones(2, 3), tg.ones(2, 3))


def test_missing_backward_is_a_clear_error(rng):
    y = Failing.apply(leaf64(rng, 2, 3), leaf64(rng, 3, 2))
    with pytest.raises(NotImplementedError, match="must define backward"):
        y.sum().backward()
