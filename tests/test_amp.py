"""tinygen.amp: GradScaler's scaling, unscaling, skipped steps and scale schedule (against hand
counts and PyTorch's CPU GradScaler), and autocast accepted only when disabled."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import amp, optim


def _param_with_grad(grad):
    p = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    p.grad = tg.tensor(grad, dtype=tg.float64)
    return p


def test_disabled_scaler_passes_through():
    scaler = amp.GradScaler("cuda", enabled=False)
    loss = tg.tensor(3.0)
    assert scaler.scale(loss) is loss and not scaler.is_enabled() and scaler.get_scale() == 1.0
    p = _param_with_grad([0.5, 0.5])
    scaler.step(optim.SGD([p], lr=1.0))
    scaler.update()
    np.testing.assert_allclose(p.detach().numpy(), [0.5, 1.5])
    assert scaler.state_dict() == {}


def test_scale_then_step_unscales_the_gradients():
    scaler = amp.GradScaler("cpu", init_scale=8.0)
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    scaler.scale((x * x).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [16.0, 32.0])       # 8 * 2x
    scaler.step(optim.SGD([x], lr=0.1))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(x.detach().numpy(), [0.8, 1.6])
    scaler.update()
    assert scaler.get_scale() == 8.0


def test_a_step_with_inf_is_skipped_and_the_scale_backs_off_then_grows():
    scaler = amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
    p = _param_with_grad([np.inf, 1.0])
    opt = optim.SGD([p], lr=1.0)
    assert scaler.step(opt) is None
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0])   # untouched
    scaler.update()
    assert scaler.get_scale() == 2.0
    for _ in range(2):
        p.grad = tg.tensor([2.0, 2.0], dtype=tg.float64)
        scaler.step(opt)
        scaler.update()
    assert scaler.get_scale() == 4.0 and scaler.state_dict()["_growth_tracker"] == 0
    np.testing.assert_allclose(p.detach().numpy(), [-1.0, 0.0])


def test_unscale_twice_is_an_error_and_state_round_trips():
    scaler = amp.GradScaler("cpu", init_scale=2.0)
    opt = optim.SGD([_param_with_grad([1.0, 1.0])], lr=0.1)
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    other = amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict()
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})
    with pytest.raises(ValueError, match="growth factor"):
        amp.GradScaler(growth_factor=1.0)


def test_autocast_only_when_disabled():
    with amp.autocast("cuda", dtype=tg.float16, enabled=False):
        y = tg.ones(2) * 2
    assert y.dtype == tg.float32
    with pytest.raises(NotImplementedError, match="no autocast"):
        amp.autocast("cpu")


def test_scale_schedule_matches_torch():
    torch = pytest.importorskip("torch")
    grads = [[1.0, 2.0], [np.inf, 0.0], [1.0, 1.0], [1.0, np.nan], [3.0, 1.0], [1.0, 1.0]]
    mine, theirs = amp.GradScaler("cpu", init_scale=16.0, growth_interval=2), \
        torch.amp.GradScaler("cpu", init_scale=16.0, growth_interval=2)
    p, q = _param_with_grad([0.0, 0.0]), torch.tensor([1.0, 2.0], dtype=torch.float64,
                                                      requires_grad=True)
    opt_p, opt_q = optim.SGD([p], lr=0.1), torch.optim.SGD([q], lr=0.1)
    theirs.scale(torch.tensor(0.0))                  # PyTorch makes its scale tensor lazily
    for g in grads:
        p.grad = tg.tensor(g, dtype=tg.float64) * mine.get_scale()
        q.grad = torch.tensor(g, dtype=torch.float64) * theirs.get_scale()
        mine.step(opt_p)
        theirs.step(opt_q)
        mine.update()
        theirs.update()
        assert mine.get_scale() == theirs.get_scale()
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)
