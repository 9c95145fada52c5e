"""The schedules of lr_more.py (ConstantLR, MultiplicativeLR, PolynomialLR, ChainedScheduler,
CyclicLR): closed forms, PyTorch's lr (and momentum) sequences step by step, state_dict keys and
round trips through tg.save, step(epoch), and bad arguments."""

import math
import warnings

import numpy as np
import pytest

from tests.optim.common import STEPS, lrs, make_optimizer, save_and_resume, torch_optimizer
from tinygen import optim
import tinygen as tg
from tinygen.optim import lr_scheduler


def decay(epoch):
    return 0.9 if epoch % 3 else 0.5


def triangle(t, up, down):
    """The triangular wave: 0 at the cycle start, 1 after ``up`` steps, 0 after ``down`` more."""
    x = t % (up + down)
    return x / up if x <= up else (up + down - x) / down


SCHEDULES = {   # name: (class name, kwargs, closed form f(base_lr, epoch), or None)
    "constant": ("ConstantLR", dict(factor=0.25, total_iters=6),
                 lambda lr, t: lr * (0.25 if t < 6 else 1.0)),
    "multiplicative": ("MultiplicativeLR", dict(lr_lambda=decay),
                       lambda lr, t: lr * math.prod(decay(e) for e in range(1, t + 1))),
    "polynomial": ("PolynomialLR", dict(total_iters=10, power=2.0),
                   lambda lr, t: lr * (1 - min(t, 10) / 10) ** 2),
    "poly_linear": ("PolynomialLR", dict(total_iters=8),      # power 1: linear decay to 0
                    lambda lr, t: lr * max(0.0, 1 - t / 8)),
    "cyclic": ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6),
               lambda lr, t: 0.01 + 0.09 * triangle(t, 4, 6)),
    "triangular2": ("CyclicLR", dict(base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=3,
                                     mode="triangular2"), None),
    "exp_range": ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                                   gamma=0.95), None),
    "scale_fn": ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2,
                                  scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"),
                 lambda lr, t: 0.01 + 0.09 * triangle(t, 2, 2) / (1 + t)),
}


@pytest.mark.parametrize("name", [n for n in SCHEDULES if SCHEDULES[n][2] is not None])
def test_closed_forms(name):
    class_name, kwargs, closed_form = SCHEDULES[name]
    scheduler = getattr(lr_scheduler, class_name)(make_optimizer(), **kwargs)
    expected = [[closed_form(base, t) for base in (0.1, 0.02)] for t in range(STEPS + 6)]
    np.testing.assert_allclose(lrs(scheduler, STEPS + 5), expected, rtol=1e-12, atol=1e-15)


def test_polynomial_power_one_is_linear_decay_to_zero():
    scheduler = lr_scheduler.PolynomialLR(make_optimizer((0.4,)), total_iters=4)
    np.testing.assert_allclose(lrs(scheduler, 6)[:, 0], [0.4, 0.3, 0.2, 0.1, 0, 0, 0],
                               atol=1e-16)


def test_triangular2_halves_the_amplitude_each_cycle():
    scheduler = lr_scheduler.CyclicLR(make_optimizer((0.5,)), base_lr=0.0, max_lr=1.0,
                                      step_size_up=2, mode="triangular2")
    peaks = lrs(scheduler, 14)[2::4, 0]
    np.testing.assert_allclose(peaks, [1, 0.5, 0.25, 0.125])


def test_cyclic_momentum_moves_against_the_lr():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.5)
    scheduler = lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=0.3, step_size_up=2,
                                      base_momentum=0.8, max_momentum=0.9)
    seen = []
    for _ in range(5):
        seen.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        scheduler.step()
    np.testing.assert_allclose(seen, [(0.1, 0.9), (0.2, 0.85), (0.3, 0.8), (0.2, 0.85),
                                      (0.1, 0.9)])


def torch_run(theirs, steps, key):
    """The groups' ``key`` values at batches 0..steps (``lr``, ``momentum`` or ``beta1``)."""
    def read(group):
        return group["betas"][0] if key == "beta1" else group[key]
    values = [[read(g) for g in theirs.optimizer.param_groups]]
    for _ in range(steps):
        theirs.optimizer.step()
        theirs.step()
        values.append([read(g) for g in theirs.optimizer.param_groups])
    return np.array(values)


@pytest.mark.parametrize("name", SCHEDULES)
def test_against_torch(name):
    torch = pytest.importorskip("torch")
    class_name, kwargs, _ = SCHEDULES[name]
    extra = dict(cycle_momentum=False) if class_name == "CyclicLR" else {}
    theirs = getattr(torch.optim.lr_scheduler, class_name)(torch_optimizer(torch), **kwargs,
                                                           **extra)
    mine = getattr(lr_scheduler, class_name)(make_optimizer(), **kwargs, **extra)
    np.testing.assert_array_equal(lrs(mine, 30), lrs(theirs, 30))
    skip = {"_scale_fn_ref"}                                  # PyTorch's internals
    assert set(mine.state_dict()) == set(theirs.state_dict()) - skip


@pytest.mark.parametrize("optimizer, key", [("SGD", "momentum"), ("Adam", "beta1")])
def test_cyclic_momentum_against_torch(optimizer, key):
    torch = pytest.importorskip("torch")
    kwargs = dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5,
                  mode="exp_range", gamma=0.97, base_momentum=[0.7, 0.75], max_momentum=0.95)
    options = dict(momentum=0.9) if optimizer == "SGD" else {}
    theirs = torch.optim.lr_scheduler.CyclicLR(torch_optimizer(torch, optimizer, **options),
                                               **kwargs)
    opt = getattr(optim, optimizer)([{"params": [tg.zeros(1, requires_grad=True)], "lr": lr}
                                     for lr in (0.1, 0.02)], **options)
    mine = lr_scheduler.CyclicLR(opt, **kwargs)
    np.testing.assert_array_equal(torch_run(mine, 30, key), torch_run(theirs, 30, key))
    np.testing.assert_array_equal(torch_run(mine, 30, "lr"), torch_run(theirs, 30, "lr"))
    assert opt.param_groups[0]["max_momentum"] == 0.95
    assert opt.param_groups[1]["base_momentum"] == 0.75


def constant_then_exponential(opt):
    return lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=5),
                                          lr_scheduler.ExponentialLR(opt, gamma=0.9)])


def test_chained_multiplies_the_factors():
    scheduler = constant_then_exponential(make_optimizer())
    expected = [[base * (0.1 if t < 5 else 1.0) * 0.9 ** t for base in (0.1, 0.02)]
                for t in range(STEPS + 1)]
    np.testing.assert_allclose(lrs(scheduler), expected, rtol=1e-12)


def test_chained_against_torch():
    torch = pytest.importorskip("torch")
    opt = torch_optimizer(torch)
    theirs = torch.optim.lr_scheduler.ChainedScheduler([
        torch.optim.lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=5),
        torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)], optimizer=opt)
    mine = constant_then_exponential(make_optimizer())
    np.testing.assert_array_equal(lrs(mine, 30), lrs(theirs, 30))
    assert set(mine.state_dict()) == set(theirs.state_dict())
    inner = mine.state_dict()["_schedulers"][0]
    assert inner["factor"] == 0.1 and inner["total_iters"] == 5


@pytest.mark.parametrize("name", ["constant", "polynomial", "triangular2", "exp_range"])
def test_state_dict_round_trip_through_save(tmp_path, name):
    class_name, kwargs, _ = SCHEDULES[name]
    save_and_resume(tmp_path, lambda opt: getattr(lr_scheduler, class_name)(opt, **kwargs), lrs)


def test_chained_state_dict_round_trip_through_save(tmp_path):
    save_and_resume(tmp_path, constant_then_exponential, lrs)


class Halve:
    """A callable object: MultiplicativeLR and CyclicLR save its __dict__."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, x):
        return self.factor


def test_callable_objects_are_saved_and_functions_are_not():
    fn = Halve()
    multiplicative = lr_scheduler.MultiplicativeLR(make_optimizer(), [fn, decay])
    assert multiplicative.state_dict()["lr_lambdas"] == [{"factor": 0.5}, None]
    fn2 = Halve()
    fn2.factor = 0.0
    loaded = lr_scheduler.MultiplicativeLR(make_optimizer(), [fn2, decay])
    loaded.load_state_dict(multiplicative.state_dict())
    assert fn2.factor == 0.5
    cyclic = lr_scheduler.CyclicLR(make_optimizer(), 0.01, 0.1, scale_fn=Halve(),
                                   cycle_momentum=False)
    assert cyclic.state_dict()["_scale_fn_custom"] == {"factor": 0.5}
    cyclic = lr_scheduler.CyclicLR(make_optimizer(), 0.01, 0.1, scale_fn=decay,
                                   cycle_momentum=False)
    assert cyclic.state_dict()["_scale_fn_custom"] is None


@pytest.mark.parametrize("name", ["constant", "polynomial"])
def test_step_with_epoch_uses_the_closed_form(name):
    class_name, kwargs, closed_form = SCHEDULES[name]
    scheduler = getattr(lr_scheduler, class_name)(make_optimizer(), **kwargs)
    for epoch in (3, 7, 2, 12):
        with pytest.warns(UserWarning, match="epoch parameter"):
            scheduler.step(epoch)
        np.testing.assert_allclose(scheduler.get_last_lr(),
                                   [closed_form(base, epoch) for base in (0.1, 0.02)])


def test_errors():
    opt = make_optimizer()
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between"):
        lr_scheduler.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.MultiplicativeLR(opt, [decay])
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        lr_scheduler.MultiplicativeLR(opt, 0.5)
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        lr_scheduler.ChainedScheduler([])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt),
                                       lr_scheduler.ConstantLR(make_optimizer())])
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="sine")
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        lr_scheduler.CyclicLR(opt, 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.CyclicLR(optim.Adagrad([tg.zeros(1, requires_grad=True)]), 0.01, 0.1)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.CyclicLR(object(), 0.01, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, cycle_momentum=False)   # valid: no warning
