"""Custom ``Function`` subclasses: the docstring's Cube, ctx.needs_input_grad, save_for_backward,
several outputs (an unused one gets zeros), non-tensor and keyword arguments, PyTorch's other ctx
features (mark_non_differentiable, set_materialize_grads, once_differentiable), and backward
mistakes."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import leaf64
from tinygen.autograd import ArrayFunction, Function, gradcheck, gradgradcheck
from tinygen.autograd.function import once_differentiable


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
        y = x.exp()
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


class SplitPowersUnmaterialized(SplitPowers):
    """SplitPowers whose backward gets None, not zeros, for an output that got no gradient."""
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return SplitPowers.forward(ctx, x)

    @staticmethod
    def backward(ctx, grad_double, grad_square):
        (x,) = ctx.saved_tensors
        SplitPowers.got = (grad_double, grad_square)
        grad = 0
        if grad_double is not None:
            grad = grad + grad_double * 2
        if grad_square is not None:
            grad = grad + grad_square * 2 * x
        return grad


def test_set_materialize_grads_false_gives_none_for_an_unused_output(rng):
    x = leaf64(rng, 3)
    double, square = SplitPowersUnmaterialized.apply(x)
    square.sum().backward()
    assert SplitPowers.got[0] is None
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * x.detach().cpu().numpy())
    assert gradcheck(lambda t: SplitPowersUnmaterialized.apply(t), (x,))


class SortWithIndices(Function):
    """Sorted values and the sorting indices, which are marked non-differentiable."""
    got = None

    @staticmethod
    def forward(ctx, x):
        indices = np.argsort(x, axis=-1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return np.take_along_axis(x, indices, -1), indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        SortWithIndices.got = (indices, grad_indices)
        grad = np.zeros_like(grad_values.array)
        np.put_along_axis(grad, indices.array, grad_values.array, -1)
        return grad


def test_mark_non_differentiable_outputs_leave_the_graph(rng):
    x = leaf64(rng, 2, 4)
    values, indices = SortWithIndices.apply(x)
    assert values.requires_grad and values.grad_fn.name() == "SortWithIndicesBackward"
    assert not indices.requires_grad and indices.grad_fn is None
    values.backward(tg.ones(2, 4, dtype=tg.float64))
    saved, grad_indices = SortWithIndices.got
    assert not saved.requires_grad and saved.grad_fn is None    # saved as it is, no graph
    np.testing.assert_array_equal(saved.cpu().numpy(), indices.cpu().numpy())
    np.testing.assert_array_equal(grad_indices.cpu().numpy(), 0)   # zeros, as in PyTorch
    np.testing.assert_array_equal(x.grad.cpu().numpy(), 1.0)
    assert gradcheck(lambda t: SortWithIndices.apply(t)[0], (x,))


class Doubled(Function):
    """2x, marked non-differentiable (as if it were a rounding)."""
    @staticmethod
    def forward(ctx, x):
        y = x * 2
        ctx.mark_non_differentiable(y)
        return y


def test_a_single_non_differentiable_output_does_not_require_grad(rng):
    y = Doubled.apply(leaf64(rng, 3))
    assert not y.requires_grad and y.grad_fn is None


class RawSquare(Function):
    """x^2 whose backward is raw array math, marked once_differentiable."""
    grad_enabled = None

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        RawSquare.grad_enabled = tg.is_grad_enabled()
        return 2 * x.array * grad_y.array


def test_once_differentiable_runs_backward_without_recording(rng):
    x = leaf64(rng, 3)
    assert gradcheck(RawSquare.apply, (x,))
    (g,) = tg.autograd.grad(RawSquare.apply(x).sum(), x)
    assert RawSquare.grad_enabled is False and not g.requires_grad
    np.testing.assert_allclose(g.cpu().numpy(), 2 * x.detach().cpu().numpy())


def test_once_differentiable_second_derivative_is_a_clear_error(rng):
    x = leaf64(rng, 3)
    (g,) = tg.autograd.grad(RawSquare.apply(x).sum(), x, create_graph=True)
    assert RawSquare.grad_enabled is False and g.requires_grad
    np.testing.assert_allclose(g.detach().cpu().numpy(), 2 * x.detach().cpu().numpy())
    with pytest.raises(RuntimeError, match=r"differentiate twice a function that was marked "
                                           r"with @once_differentiable: RawSquareBackward"):
        g.sum().backward()


class Affine(Function):
    """y = x * scale + shift, for a Python number scale and an optional tensor shift."""
    @staticmethod
    def forward(ctx, x, shift=None, scale=1.0):
        ctx.scale = scale
        return x * scale + (0.0 if shift is None else shift)

    @staticmethod
    def backward(ctx, grad_y):
        grad_shift = grad_y if ctx.needs_input_grad[1] else None
        return grad_y * ctx.scale, grad_shift, None


def test_keyword_arguments_fill_forward_parameters_as_in_pytorch(rng):
    x, shift = leaf64(rng, 3), leaf64(rng, 3)
    y = Affine.apply(x, scale=3.0, shift=shift)        # bound in forward's order
    np.testing.assert_allclose(y.detach().cpu().numpy(),
                               3.0 * x.detach().cpu().numpy() + shift.detach().cpu().numpy())
    assert y.grad_fn.needs_input_grad == (True, True, False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 3.0)
    np.testing.assert_allclose(shift.grad.cpu().numpy(), 1.0)     # a keyword Tensor is an input


def test_keyword_argument_after_a_missing_parameter_is_an_error(rng):
    with pytest.raises(TypeError, match=r"Affine.apply: cannot pass scale by keyword without "
                                        r"every parameter of forward before it"):
        Affine.apply(leaf64(rng, 3), scale=3.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        Affine.apply(leaf64(rng, 3), bogus=1)


class ExtraNones(Function):
    """Backward returns more Nones than forward has inputs (PyTorch accepts that)."""
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y * 2, None, None


def test_backward_may_return_extra_trailing_nones(rng):
    x = leaf64(rng, 3)
    ExtraNones.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2.0)


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


class FailingOnArrays(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        return a @ b


def test_forward_error_names_the_function_and_input_shapes():
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(2, 3\)"):
        Failing.apply(tg.ones(2, 3), tg.ones(2, 3))
    with pytest.raises(ValueError, match=r"FailingOnArrays: .*\(input shapes: \(2, 3\), "
                                         r"\(2, 3\)\)"):
        FailingOnArrays.apply(tg.ones(2, 3), tg.ones(2, 3))


def test_missing_backward_is_a_clear_error(rng):
    y = Failing.apply(leaf64(rng, 2, 3), leaf64(rng, 3, 2))
    with pytest.raises(NotImplementedError, match="must define backward"):
        y.sum().backward()


class PositiveMask(Function):
    """x * 2 and, as a second output, where x > 0 (an integer array)."""
    @staticmethod
    def forward(ctx, x):
        return x * 2, (x > 0).long()

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        return grad_y * 2


def test_integer_outputs_are_out_of_the_graph(rng):
    """As PyTorch: an integer output has no gradient, so it does not require one."""
    x = leaf64(rng, 3)
    doubled, mask = PositiveMask.apply(x)
    assert doubled.requires_grad and not mask.requires_grad and mask.grad_fn is None
    doubled.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full(3, 2.0))
