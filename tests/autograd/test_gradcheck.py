"""gradcheck and gradgradcheck: they pass right backwards and catch wrong ones, with a message
that says where, warn about inputs they can't check accurately, and take PyTorch's keywords."""

import re

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import leaf64
from tinygen.autograd import ArrayFunction, GradcheckError, gradcheck, gradgradcheck


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class SoftmaxNoSubtraction(ArrayFunction):
    """Softmax whose backward forgets the '- sum(dy * y)' term: right only for dy = 0."""
    @staticmethod
    def forward(ctx, x):
        y = _softmax(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return y * grad_y


class SoftmaxZeroBackward(SoftmaxNoSubtraction):
    """Softmax with a zero backward: passes any check seeded with all ones (rows sum to 1)."""
    @staticmethod
    def backward(ctx, grad_y):
        return grad_y * 0


class RawCube(ArrayFunction):
    """x^3 with a backward in raw arrays: first derivative right, second derivative lost."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * tg.tensor(3 * x.array ** 2)


class TwoFacedCube(ArrayFunction):
    """x^3 whose plain backward is wrong (2x^2) but whose create_graph backward is right: the
    finite differences of gradgradcheck only ever see the right one."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * (3 if tg.is_grad_enabled() else 2) * x * x


@pytest.mark.parametrize("fn, shapes", [
    (lambda x: x.tanh(), [(3, 4)]),
    (lambda x: x.softmax(-1), [(3, 4)]),
    (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    (lambda a, b: (a * b.exp(), a - b), [(2, 3), (3,)]),       # two outputs, broadcasting
    (lambda x: x.reshape(6)[1:4] * 2.0, [(2, 3)]),
    (lambda x: x.mean(0) / (x.std(0) + 1.0), [(4, 3)]),
], ids=["tanh", "softmax", "matmul", "two-outputs", "view", "normalise"])
def test_gradcheck_passes_right_backwards(rng, fn, shapes):
    assert gradcheck(fn, tuple(leaf64(rng, *s) for s in shapes))


@pytest.mark.parametrize("wrong", [SoftmaxNoSubtraction, SoftmaxZeroBackward],
                         ids=["no-subtraction", "zeros"])
def test_gradcheck_catches_a_wrong_softmax_backward(rng, wrong):
    x = leaf64(rng, 3, 4)
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong.apply, (x,))
    message = str(info.value)
    assert "input 0 (shape (3, 4))" in message
    match = re.search(
        r"at index \((\d+), (\d+)\) the analytic gradient is (\S+) but the numeric one is (\S+) "
        r"\(atol=", message)
    assert match, message
    i, j, analytic, numeric = int(match[1]), int(match[2]), float(match[3]), float(match[4])
    assert 0 <= i < 3 and 0 <= j < 4
    assert abs(analytic - numeric) > 1e-3
    assert gradcheck(wrong.apply, (x,), raise_exception=False) is False


def test_gradcheck_reports_the_worst_element(rng):
    class OffByOne(ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_y):
            bump = np.zeros(grad_y.shape)
            bump[1, 2] = 1.0                     # one wrong element
            return grad_y * 2 + tg.tensor(bump)
    with pytest.raises(GradcheckError, match=r"input 0 .*at index \(1, 2\)"):
        gradcheck(OffByOne.apply, (leaf64(rng, 2, 3),))


def test_gradcheck_names_the_wrong_input(rng):
    class WrongSecondInput(ArrayFunction):
        """a * b whose gradient for b is grad_y instead of grad_y * a."""
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad_y):
            a, b = ctx.saved_tensors
            return grad_y * b, grad_y
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\)"):
        gradcheck(WrongSecondInput.apply, (leaf64(rng, 2, 3), leaf64(rng, 3)))


FLOAT32_WARNING = r"Input #0 requires gradient and is not a double precision.*float32"


def test_gradcheck_of_float32_warns_and_fails_as_in_pytorch(rng):
    x = tg.tensor(rng.standard_normal(6), dtype=tg.float32, requires_grad=True)
    with pytest.warns(UserWarning, match=FLOAT32_WARNING):
        assert gradcheck(lambda t: t.exp(), (x,), raise_exception=False) is False
    with pytest.warns(UserWarning, match=FLOAT32_WARNING), pytest.raises(GradcheckError):
        gradcheck(lambda t: t.exp(), (x,))
    assert x.dtype == tg.float32


def test_gradcheck_accepts_pytorchs_keywords(rng):
    x = leaf64(rng, 3)
    assert gradcheck(lambda t: t.exp(), (x,), nondet_tol=1e-12, check_undefined_grad=False,
                     fast_mode=False)
    assert gradgradcheck(lambda t: t.exp(), (x,), nondet_tol=0.0, check_undefined_grad=True,
                         fast_mode=False)
    assert gradcheck(lambda t: t.exp(), (x,), fast_mode=True)  # see test_gradcheck_modes.py


def test_gradgradcheck_takes_grad_outputs(rng):
    x = leaf64(rng, 3, 2)
    v = tg.tensor(rng.standard_normal((3, 2)), dtype=tg.float64)
    assert gradgradcheck(lambda t: t.tanh() * t, (x,), (v,))
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 0"):
        gradgradcheck(RawCube.apply, (x,), v)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda t: t.exp(), (tg.ones(3, dtype=tg.float64),))


def test_gradcheck_skips_inputs_that_do_not_require_grad(rng):
    constant = tg.tensor(rng.standard_normal(3), dtype=tg.float64)
    assert gradcheck(lambda x, c: x * c, (leaf64(rng, 3), constant))


def test_gradcheck_accepts_an_unused_input(rng):
    assert gradcheck(lambda x, unused: x.sin(), (leaf64(rng, 3), leaf64(rng, 2)))


def test_gradcheck_leaves_inputs_and_their_grads_untouched(rng):
    x = leaf64(rng, 2, 3)
    before = x.detach().cpu().numpy().copy()
    array = x.array
    assert gradcheck(lambda t: (t * t).tanh(), (x,))
    assert x.array is array
    np.testing.assert_array_equal(x.detach().cpu().numpy(), before)
    assert x.grad is None


def test_gradgradcheck_passes_a_right_second_derivative(rng):
    assert gradgradcheck(lambda x: x.tanh() * x, (leaf64(rng, 3, 2),))


def test_gradgradcheck_catches_a_backward_in_raw_arrays(rng):
    x = leaf64(rng, 3, 2)
    assert gradcheck(RawCube.apply, (x,))               # the first derivative is right
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 0"):
        gradgradcheck(RawCube.apply, (x,))


def test_gradgradcheck_catches_two_backward_forms_that_disagree(rng):
    with pytest.raises(GradcheckError, match=r"input 0 computed with create_graph=True differs"):
        gradgradcheck(TwoFacedCube.apply, (leaf64(rng, 3, 2),))
