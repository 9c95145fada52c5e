"""gradcheck's fast mode, its forward-AD check and check_backward_ad=False: they pass on
correct ops, catch a wrong backward or a wrong JVP, and fast mode's tolerances are PyTorch's."""

import pytest

import tinygen as tg
from tinygen.autograd import Function, gradcheck, gradgradcheck
from tinygen.autograd.function import ArrayFunction
from tinygen.autograd.gradcheck import GradcheckError


def _leaf(rng, *shape):
    return tg.tensor(rng.standard_normal(shape), dtype=tg.float64, requires_grad=True)


def _softmax_of(a, b):
    return (a.tanh() * b).softmax(-1)


class _ScaledBackward(Function):
    """y = 2 x with a backward that returns (2 + error) g: wrong by a relative ``error``."""
    error = 0.0

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y * (2 + _ScaledBackward.error)


class _WrongJvp(ArrayFunction):
    """y = x ** 2 with a correct backward and a JVP rule (as tinygen's own ops carry them,
    forward_ad_rules.py) that forgets the factor 2."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * 2 * x

    @staticmethod
    def jvp(ctx, tangent):
        return ctx.inputs[0] * tangent


@pytest.mark.parametrize("kwargs", [
    dict(fast_mode=True),
    dict(check_forward_ad=True),
    dict(check_forward_ad=True, fast_mode=True),
    dict(check_forward_ad=True, check_backward_ad=False),
    dict(check_batched_grad=True, check_batched_forward_grad=True),
], ids=str)
def test_modes_pass_on_correct_ops(kwargs, rng):
    x, w = _leaf(rng, 3, 4), _leaf(rng, 4)
    assert gradcheck(_softmax_of, (x, w), **kwargs)
    assert gradcheck(lambda a: (a.exp().sum(0), a.sin()), (x,), **kwargs)   # two outputs


def test_fast_mode_catches_a_wrong_backward(rng):
    x = _leaf(rng, 3, 4)
    _ScaledBackward.error = 0.02
    try:
        assert not gradcheck(_ScaledBackward.apply, (x,), fast_mode=True, raise_exception=False)
        with pytest.raises(GradcheckError, match=r"fast mode, backward.*input 0.*output 0"):
            gradcheck(_ScaledBackward.apply, (x,), fast_mode=True)
        assert gradcheck(_ScaledBackward.apply, (x,), fast_mode=True, check_backward_ad=False)
    finally:
        _ScaledBackward.error = 0.0
    assert gradcheck(_ScaledBackward.apply, (x,), fast_mode=True)


def test_fast_mode_tolerance_is_pytorchs(rng):
    """|v^T J u (analytic) - numeric| <= atol sum(u) sum(v) + rtol |numeric|: an error of
    0.5 rtol passes, 2 rtol fails, in both modes."""
    x = tg.tensor(rng.uniform(0.5, 1.5, (5,)), dtype=tg.float64, requires_grad=True)
    try:
        for error, ok in ((1e-3, True), (4e-3, False)):
            _ScaledBackward.error = error                     # relative error error / 2
            for fast in (True, False):
                assert gradcheck(_ScaledBackward.apply, (x,), fast_mode=fast,
                                 raise_exception=False) is ok
    finally:
        _ScaledBackward.error = 0.0


def test_fast_mode_decides_as_torch(rng):
    """The same relative error in a backward passes or fails fast mode in both libraries."""
    torch = pytest.importorskip("torch")
    values = rng.uniform(0.5, 1.5, (5,))

    class TorchScaled(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_y):
            return grad_y * (2 + _ScaledBackward.error)

    try:
        for error in (1e-3, 4e-3):
            _ScaledBackward.error = error
            ours = gradcheck(_ScaledBackward.apply, (tg.tensor(values, requires_grad=True),),
                             fast_mode=True, raise_exception=False)
            theirs = torch.autograd.gradcheck(
                TorchScaled.apply, (torch.tensor(values, requires_grad=True),), fast_mode=True,
                raise_exception=False)
            assert ours is theirs is (error < 2e-3)
    finally:
        _ScaledBackward.error = 0.0


def test_forward_ad_check_catches_a_wrong_jvp(rng):
    x = _leaf(rng, 4)
    assert gradcheck(_WrongJvp.apply, (x,))                       # backward alone is right
    for fast in (False, True):
        with pytest.raises(GradcheckError, match="forward AD"):
            gradcheck(_WrongJvp.apply, (x,), check_forward_ad=True, fast_mode=fast)
        assert not gradcheck(_WrongJvp.apply, (x,), check_forward_ad=True, fast_mode=fast,
                             check_backward_ad=False, raise_exception=False)


def test_gradgradcheck_modes(rng):
    x, w = _leaf(rng, 2, 3), _leaf(rng, 3)
    assert gradgradcheck(_softmax_of, (x, w), fast_mode=True)
    assert gradgradcheck(_softmax_of, (x, w), check_fwd_over_rev=True, check_rev_over_rev=False)
    _ScaledBackward.error = 0.05            # a wrong backward shows in second derivatives too
    try:
        for fast in (True, False):
            assert gradgradcheck(lambda a: _ScaledBackward.apply(a) * a, (x,), fast_mode=fast,
                                 raise_exception=False) is False
    finally:
        _ScaledBackward.error = 0.0


def test_complex_falls_back_and_forward_ad_refuses_complex(rng):
    z = tg.tensor(rng.standard_normal(3) + 1j * rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda t: t * t, (z,), fast_mode=True)      # the full check instead
    with pytest.raises(NotImplementedError, match="complex"):
        gradcheck(lambda t: t * t, (z,), check_forward_ad=True)
