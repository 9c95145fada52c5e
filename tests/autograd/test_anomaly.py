"""detect_anomaly: as in PyTorch, the first NaN a backward returns raises an error naming the op
and the user's line that created it; forward values and inf are not checked; outside the context
nothing is."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.autograd import Function, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from tinygen.autograd.anomaly import is_anomaly_check_nan_enabled

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NumPy's log(-1) warning

HERE = r"test_anomaly\.py:\d+"


def test_forward_nan_and_inf_pass_and_masking_them_works():
    x = tg.tensor([1.0, -1.0], dtype=tg.float64, requires_grad=True)
    with detect_anomaly():
        assert np.isinf(tg.tensor([0.0]).log().cpu().numpy()).all()
        y = x.log()                         # nan: not an error in forward
        (tg.where(tg.isnan(y), 0.0, y) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, 0.0])


def test_nan_in_backward_names_the_backward_op_and_the_line():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()                        # sqrt(0) = 0 is fine; its gradient is inf
        loss = (y * 0.0).sum()              # and 0 * inf is nan
        with pytest.raises(RuntimeError, match=rf"SqrtBackward.*nan.*{HERE}: .*x\.sqrt\(\)"):
            loss.backward()


def test_inf_in_backward_is_allowed():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        x.sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [np.inf, 0.25])


class NanGradient(Function):
    """Identity whose backward returns a NaN array directly, with no op inside backward."""
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad_y):
        return np.full(grad_y.shape, np.nan)


def test_the_engine_checks_each_gradient_it_passes_on():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with detect_anomaly():
        y = NanGradient.apply(x)
        with pytest.raises(RuntimeError, match=rf"NanGradientBackward.*returned nan.*{HERE}"):
            y.sum().backward()


def test_nan_message_is_pytorchs():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with detect_anomaly():
        y = NanGradient.apply(x)
        with pytest.raises(RuntimeError, match=rf"^Function 'NanGradientBackward' returned nan "
                                               rf"values in its 0th output\. Its forward op was "
                                               rf"created at .*{HERE}: y = NanGradient"):
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


def _nan_backward(x):
    (NanGradient.apply(x)).sum().backward()


def test_context_restores_the_previous_state_after_an_error():
    assert not is_anomaly_enabled()
    with pytest.raises(RuntimeError):
        with detect_anomaly():
            assert is_anomaly_enabled()
            _nan_backward(tg.ones(2, requires_grad=True))
    assert not is_anomaly_enabled()


def test_detect_anomaly_as_a_decorator():
    @detect_anomaly()
    def f(t):
        assert is_anomaly_enabled()
        _nan_backward(t)

    with pytest.raises(RuntimeError, match="NanGradientBackward"):
        f(tg.ones(2, requires_grad=True))
    assert not is_anomaly_enabled()


def test_check_nan_false_keeps_anomaly_mode_but_not_the_check():
    x = tg.ones(2, requires_grad=True)
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        y = NanGradient.apply(x)
        assert y.grad_fn.creation_site is not None     # places are still recorded
        y.sum().backward()
    assert np.isnan(x.grad.cpu().numpy()).all()
    assert is_anomaly_check_nan_enabled()


def test_set_detect_anomaly_as_a_function_and_a_context():
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
            _nan_backward(tg.ones(2, requires_grad=True))      # not checked
        assert is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="NanGradientBackward"):
            _nan_backward(tg.ones(2, requires_grad=True))
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()
    with set_detect_anomaly(True, check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
    assert not is_anomaly_enabled() and is_anomaly_check_nan_enabled()
