"""detect_anomaly: the first NaN or inf, in forward or in backward, raises an error naming the op
and the user's line that created it; outside the context nothing is checked."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import Function, detect_anomaly, is_anomaly_enabled

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NumPy's log(-1) warning

HERE = r"test_anomaly\.py:\d+"


@pytest.mark.parametrize("values, bad", [([1.0, -1.0], "nan"), ([1.0, 0.0], "inf")])
def test_non_finite_forward_names_the_op_and_the_line(values, bad):
    x = tg.tensor(values, requires_grad=True)
    with detect_anomaly():
        with pytest.raises(RuntimeError, match=rf"Function Log \(forward\) returned {bad} "
                                               rf"values.*{HERE}: .*x\.log\(\)"):
            x.log()


def test_forward_is_checked_without_grad_too():
    with detect_anomaly(), pytest.raises(RuntimeError, match=rf"Sqrt.*nan.*{HERE}"):
        tg.tensor([-4.0]).sqrt()


def test_non_finite_only_in_backward_names_the_backward_op():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()                        # sqrt(0) = 0 is fine; its gradient 1/(2*0) is not
        assert np.isfinite(y.detach().cpu().numpy()).all()
        with pytest.raises(RuntimeError, match=rf"SqrtBackward.*inf.*{HERE}: .*x\.sqrt\(\)"):
            y.sum().backward()


class NanGradient(Function):
    """Identity whose backward returns a NaN array directly, with no op inside backward."""
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_y):
        return np.full(grad_y.shape, np.nan)


def test_the_engine_checks_each_gradient_it_passes_on():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with detect_anomaly():
        y = NanGradient.apply(x)
        with pytest.raises(RuntimeError, match=rf"NanGradientBackward \(gradient for input 0\) "
                                               rf"returned nan.*{HERE}"):
            y.sum().backward()


def test_outside_the_context_nothing_is_checked():
    x = tg.tensor([0.0, -1.0], requires_grad=True)
    y = x.log()
    assert np.isnan(y.detach().cpu().numpy()[1])
    z = x.sqrt()
    z.sum().backward()
    assert np.isinf(x.grad.cpu().numpy()[0])
    assert not is_anomaly_enabled()


def test_finite_values_pass_unchanged(rng):
    x = tg.tensor(rng.uniform(0.5, 2.0, 4), dtype=tg.float64, requires_grad=True)
    with detect_anomaly():
        (x.log() * x.sqrt()).sum().backward()
        checked = x.grad.cpu().numpy().copy()
    x.grad = None
    (x.log() * x.sqrt()).sum().backward()
    np.testing.assert_array_equal(checked, x.grad.cpu().numpy())


def test_context_restores_the_previous_state_after_an_error():
    assert not is_anomaly_enabled()
    with pytest.raises(RuntimeError):
        with detect_anomaly():
            assert is_anomaly_enabled()
            tg.tensor([-1.0]).log()
    assert not is_anomaly_enabled()


def test_detect_anomaly_as_a_decorator():
    @detect_anomaly()
    def f(t):
        assert is_anomaly_enabled()
        return t.log()

    with pytest.raises(RuntimeError, match="Log"):
        f(tg.tensor([-1.0]))
    assert not is_anomaly_enabled()


def test_check_nan_false_turns_checking_off():
    with detect_anomaly(check_nan=False):
        assert np.isnan(tg.tensor([-1.0]).log().cpu().numpy()[0])
