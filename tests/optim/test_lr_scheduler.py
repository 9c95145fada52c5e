"""Learning-rate schedules: lr sequences against closed forms and against PyTorch step by step,
SequentialLR warmup, resuming (last_epoch, state_dict through tg.save), and errors; then
ReduceLROnPlateau the same way (the cyclic schedules: test_lr_cyclic.py)."""

import math

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import STEPS, lrs, make_optimizer, save_and_resume, torch_optimizer
from tinygen.optim import lr_scheduler

def warmup(epoch):
    return min(1.0, (epoch + 1) / 5)


SCHEDULES = {   # name: (class name, kwargs, closed form f(base_lr, epoch))
    "step": ("StepLR", dict(step_size=4, gamma=0.5), lambda lr, t: lr * 0.5 ** (t // 4)),
    "multistep": ("MultiStepLR", dict(milestones=[3, 7, 7, 12], gamma=0.1),
                  lambda lr, t: lr * 0.1 ** sum(t >= m for m in [3, 7, 7, 12])),
    "exponential": ("ExponentialLR", dict(gamma=0.9), lambda lr, t: lr * 0.9 ** t),
    "cosine": ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001),
               lambda lr, t: 0.001 + (lr - 0.001) * (1 + math.cos(math.pi * t / 10)) / 2),
    "lambda": ("LambdaLR", dict(lr_lambda=warmup), lambda lr, t: lr * warmup(t)),
    "linear": ("LinearLR", dict(start_factor=0.25, total_iters=6),
               lambda lr, t: lr * (0.25 + 0.75 * min(t, 6) / 6)),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_closed_forms(name):
    class_name, kwargs, closed_form = SCHEDULES[name]
    scheduler = getattr(lr_scheduler, class_name)(make_optimizer(), **kwargs)
    expected = [[closed_form(base, t) for base in (0.1, 0.02)] for t in range(STEPS + 1)]
    np.testing.assert_allclose(lrs(scheduler), expected, rtol=1e-9)


@pytest.mark.parametrize("name", SCHEDULES)
def test_against_torch(name):
    torch = pytest.importorskip("torch")
    class_name, kwargs, _ = SCHEDULES[name]
    theirs_opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                                  for lr in (0.1, 0.02)])
    theirs = getattr(torch.optim.lr_scheduler, class_name)(theirs_opt, **kwargs)
    mine = getattr(lr_scheduler, class_name)(make_optimizer(), **kwargs)
    np.testing.assert_allclose(lrs(mine), lrs(theirs), rtol=1e-14)


def warmup_then_cosine(opt):
    warm = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=4)
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=12)
    return lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[5])


def test_sequential_warmup_then_cosine():
    values = lrs(warmup_then_cosine(make_optimizer((0.1,))))[:, 0]
    expected = [0.1 * (0.1 + 0.9 * min(t, 4) / 4) for t in range(5)] + [
        0.05 * (1 + math.cos(math.pi * (t - 5) / 12)) for t in range(5, STEPS + 1)]
    np.testing.assert_allclose(values, expected, rtol=1e-9)


def test_sequential_against_torch():
    torch = pytest.importorskip("torch")
    S = torch.optim.lr_scheduler
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    theirs = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, total_iters=4),
                                  S.CosineAnnealingLR(opt, T_max=12)], milestones=[5])
    np.testing.assert_allclose(lrs(warmup_then_cosine(make_optimizer((0.1,)))), lrs(theirs),
                               rtol=1e-14)


@pytest.mark.parametrize("name", ["multistep", "cosine", "lambda", "linear"])
def test_state_dict_round_trip_through_save(tmp_path, name):
    class_name, kwargs, _ = SCHEDULES[name]
    opt = make_optimizer()
    scheduler = getattr(lr_scheduler, class_name)(opt, **kwargs)
    lrs(scheduler, 7)
    tg.save({"optim": opt.state_dict(), "sched": scheduler.state_dict()},
            tmp_path / "s.safetensors")
    expected = lrs(scheduler, 10)

    checkpoint = tg.load(tmp_path / "s.safetensors")
    opt2 = make_optimizer()
    opt2.load_state_dict(checkpoint["optim"])
    scheduler2 = getattr(lr_scheduler, class_name)(opt2, **kwargs)
    scheduler2.load_state_dict(checkpoint["sched"])
    opt2.load_state_dict(checkpoint["optim"])    # the constructor's initial step set epoch 0
    np.testing.assert_allclose(lrs(scheduler2, 10), expected, rtol=1e-14)


def test_sequential_state_dict_round_trip(tmp_path):
    opt = make_optimizer((0.1,))
    scheduler = warmup_then_cosine(opt)
    lrs(scheduler, 3)
    tg.save({"optim": opt.state_dict(), "sched": scheduler.state_dict()}, tmp_path / "q")
    expected = lrs(scheduler, 8)
    checkpoint = tg.load(tmp_path / "q")
    opt2 = make_optimizer((0.1,))
    scheduler2 = warmup_then_cosine(opt2)
    scheduler2.load_state_dict(checkpoint["sched"])
    opt2.load_state_dict(checkpoint["optim"])
    np.testing.assert_allclose(lrs(scheduler2, 8), expected, rtol=1e-14)


def test_resume_with_last_epoch_keeps_the_current_lr():
    """As PyTorch 2.x: the constructor's step advances last_epoch but leaves the lr alone."""
    opt = make_optimizer()
    before = lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=10), 3)[-1]
    resumed = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=3)
    assert resumed.get_last_lr() == list(before) and resumed.last_epoch == 4
    assert opt.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2, last_epoch=4)


def test_errors():
    opt = make_optimizer()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [warmup])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(make_optimizer(), 2)], [])


# ReduceLROnPlateau

def plateau_lrs(scheduler, metrics):
    """The lr of every group after each ``step(metric)``."""
    values = []
    for metric in metrics:
        scheduler.optimizer.step()
        scheduler.step(metric)
        values.append(scheduler.get_last_lr())
    return np.array(values)


def test_plateau_reduces_after_patience_plus_one_bad_epochs():
    scheduler = lr_scheduler.ReduceLROnPlateau(make_optimizer(), factor=0.5, patience=2)
    values = plateau_lrs(scheduler, [1.0] * 10)[:, 0]
    # epoch 1 sets best; epochs 2-4 are bad, the 3rd one (> patience) reduces; and again
    np.testing.assert_array_equal(values, [0.1] * 3 + [0.05] * 3 + [0.025] * 3 + [0.0125])
    scheduler = lr_scheduler.ReduceLROnPlateau(make_optimizer(), factor=0.5, patience=2)
    values = plateau_lrs(scheduler, [1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6])[:, 0]
    np.testing.assert_array_equal(values, [0.1] * 6 + [0.05])  # 0.5 was an improvement


def test_plateau_cooldown_ignores_bad_epochs():
    scheduler = lr_scheduler.ReduceLROnPlateau(make_optimizer(), factor=0.5, patience=0,
                                               cooldown=2)
    values = plateau_lrs(scheduler, [1.0] * 8)[:, 0]
    np.testing.assert_array_equal(values, [0.1] + [0.05] * 3 + [0.025] * 3 + [0.0125])


@pytest.mark.parametrize("mode, threshold_mode, better, worse", [
    ("min", "rel", 8.9, 9.5),      # better below 10 * (1 - 0.1) = 9
    ("min", "abs", 9.5, 9.95),     # better below 10 - 0.1 = 9.9
    ("max", "rel", 11.5, 10.5),    # better above 10 * (1 + 0.1) = 11
    ("max", "abs", 10.5, 10.05),   # better above 10 + 0.1 = 10.1
])
def test_plateau_threshold_modes(mode, threshold_mode, better, worse):
    def after(metric):
        scheduler = lr_scheduler.ReduceLROnPlateau(
            make_optimizer(), mode=mode, threshold=0.1, threshold_mode=threshold_mode,
            patience=0, factor=0.5)
        return plateau_lrs(scheduler, [10.0, metric])[-1, 0]
    assert after(better) == 0.1 and after(worse) == 0.05


def test_plateau_min_lr_per_group_and_eps():
    scheduler = lr_scheduler.ReduceLROnPlateau(make_optimizer(), patience=0, min_lr=[0.05, 0],
                                               eps=1e-3)
    values = plateau_lrs(scheduler, [tg.tensor(1.0)] * 5)    # a 0-d tensor works as a metric
    # group 0 stops at min_lr; group 1 stops when the cut (0.9 lr) is no more than eps
    np.testing.assert_allclose(values, [[0.1, 0.02], [0.05, 0.002], [0.05, 0.0002],
                                        [0.05, 0.0002], [0.05, 0.0002]], rtol=1e-15)


@pytest.mark.parametrize("steps_before", [0, 7])   # at 0, best is still inf when saved
def test_plateau_state_dict_round_trip_through_save(tmp_path, steps_before):
    metrics = [3.0, 2.0, 2.5, 2.4, 2.6, 1.9, 2.0] * 3

    def run(scheduler, steps):                   # the metric of each epoch is fixed
        return plateau_lrs(scheduler, metrics[scheduler.last_epoch:][:steps])

    save_and_resume(tmp_path, lambda opt: lr_scheduler.ReduceLROnPlateau(
        opt, factor=0.5, patience=1, cooldown=1), run, steps_before)


PLATEAU_CONFIGS = [dict(), dict(factor=0.5, patience=2), dict(patience=1, cooldown=3,
                   min_lr=[0.01, 0.001]), dict(mode="max", threshold_mode="abs", threshold=0.05,
                   patience=0), dict(patience=0, factor=0.5, eps=0.005)]


@pytest.mark.parametrize("kwargs", PLATEAU_CONFIGS)
def test_plateau_against_torch(kwargs):
    torch = pytest.importorskip("torch")
    metrics = list(5 + 0.1 * np.cumsum(np.random.default_rng(0).standard_normal(40)))
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_optimizer(torch), **kwargs)
    mine = lr_scheduler.ReduceLROnPlateau(make_optimizer(), **kwargs)
    np.testing.assert_array_equal(plateau_lrs(mine, metrics), plateau_lrs(theirs, metrics))
    assert mine.state_dict() == theirs.state_dict()


def test_plateau_errors():
    opt = make_optimizer()
    with pytest.raises(ValueError, match=r"Factor should be < 1.0."):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode pct is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 3"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0, 0, 0])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(object())
    scheduler = lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(1.0, epoch=3)
    assert scheduler.last_epoch == 3
