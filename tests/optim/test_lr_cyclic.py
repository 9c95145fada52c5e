"""The cyclic learning-rate schedules (lr_cyclic.py): CosineAnnealingWarmRestarts and
OneCycleLR (with its momentum), against closed forms and PyTorch step by step, resuming through
tg.save, and errors."""

import math
import warnings

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import lrs, make_optimizer, save_and_resume, torch_optimizer
from tinygen import optim
from tinygen.optim import lr_scheduler


# CosineAnnealingWarmRestarts

def sgdr(base_lr, eta_min, T_cur, T_i):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


def test_warm_restarts_closed_form():
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(), T_0=4, T_mult=2,
                                                         eta_min=0.001)
    periods = [(0, 4), (4, 8), (12, 16)]         # (first epoch, T_i) of each cycle
    expected = [[sgdr(base, 0.001, t - start, T_i) for base in (0.1, 0.02)]
                for start, T_i in periods for t in range(start, start + T_i)]
    np.testing.assert_allclose(lrs(scheduler, 27), expected, rtol=1e-14)
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(), T_0=5)
    expected = [[sgdr(base, 0.0, t % 5, 5) for base in (0.1, 0.02)] for t in range(16)]
    np.testing.assert_allclose(lrs(scheduler, 15), expected, rtol=1e-14)


def test_warm_restarts_fractional_epoch_without_warning():
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(), T_0=4, T_mult=2,
                                                         eta_min=0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch, T_cur, T_i in [(2.5, 2.5, 4), (5.5, 1.5, 8), (13.25, 1.25, 16), (0.75, 0.75, 4)]:
            scheduler.step(epoch)
            assert (scheduler.T_cur, scheduler.T_i, scheduler.last_epoch) == (
                T_cur, T_i, math.floor(epoch))
            np.testing.assert_allclose(scheduler.get_last_lr(),
                                       [sgdr(base, 0.001, T_cur, T_i) for base in (0.1, 0.02)])
        scheduler.step()                          # on from epoch 0.75: T_cur 1.75
        np.testing.assert_allclose(scheduler.get_last_lr()[0], sgdr(0.1, 0.001, 1.75, 4))
    with pytest.warns(UserWarning, match="epoch parameter"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2).step(3)   # the others still warn


def test_warm_restarts_state_dict_round_trip_through_save(tmp_path):
    save_and_resume(tmp_path, lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=3, T_mult=2, eta_min=0.001), lrs)


@pytest.mark.parametrize("kwargs", [dict(T_0=5), dict(T_0=3, T_mult=2, eta_min=0.001)])
def test_warm_restarts_against_torch(kwargs):
    torch = pytest.importorskip("torch")
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(torch_optimizer(torch),
                                                                  **kwargs)
    mine = lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(), **kwargs)
    np.testing.assert_array_equal(lrs(mine, 40), lrs(theirs, 40))
    for epoch in [i / 7 for i in range(1, 41)] + [50, 8.5, 3]:
        mine.step(epoch)
        theirs.step(epoch)
        assert mine.get_last_lr() == theirs.get_last_lr()


def test_warm_restarts_errors():
    opt = make_optimizer()
    make = lr_scheduler.CosineAnnealingWarmRestarts
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        make(opt, T_0=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 2.5"):
        make(opt, T_0=2.5)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        make(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="Expected float or int eta_min"):
        make(opt, T_0=2, eta_min="0")
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        make(opt, T_0=2).step(-1)


# OneCycleLR

def cos_anneal(start, end, pct):
    return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2


def lin_anneal(start, end, pct):
    return start + (end - start) * pct


def momenta(scheduler, steps, key="momentum"):
    """lrs(...) with each group's momentum (or betas[0]) beside its lr."""
    values = []
    for _ in range(steps + 1):
        if values:
            scheduler.optimizer.step()
            scheduler.step()
        groups = scheduler.optimizer.param_groups
        values.append(scheduler.get_last_lr() + [g["betas"][0] if key == "betas" else g[key]
                                                 for g in groups])
    return np.array(values)


def test_one_cycle_cosine_closed_form():
    opt = optim.SGD([{"params": [tg.zeros(1, requires_grad=True)]} for _ in range(2)], lr=1.0,
                    momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=[0.1, 0.02], total_steps=20, pct_start=0.25)
    expected = []
    for t in range(21):                          # the peak is at step 0.25 * 20 - 1 = 4
        up, pct = (True, t / 4) if t <= 4 else (False, (t - 4) / 15)
        row = [cos_anneal(m / 25, m, pct) if up else cos_anneal(m, m / 25 / 1e4, pct)
               for m in (0.1, 0.02)]
        momentum = cos_anneal(0.95, 0.85, pct) if up else cos_anneal(0.85, 0.95, pct)
        expected.append(row + [momentum, momentum])
    np.testing.assert_allclose(momenta(scheduler, 20), expected, rtol=1e-13)
    with pytest.raises(ValueError, match="Tried to step 21 times. The specified number of "
                                         "total steps is 20"):
        scheduler.step()


def test_one_cycle_linear_three_phase_with_adam_betas():
    opt = optim.Adam([tg.zeros(1, requires_grad=True)], betas=(0.9, 0.99))
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=4, steps_per_epoch=5,
                                        pct_start=0.25, anneal_strategy="linear",
                                        three_phase=True)
    expected = []
    for t in range(21):                          # phases end at steps 4, 8 and 19
        if t <= 4:
            expected.append([lin_anneal(0.004, 0.1, t / 4), lin_anneal(0.95, 0.85, t / 4)])
        elif t <= 8:
            pct = (t - 4) / 4
            expected.append([lin_anneal(0.1, 0.004, pct), lin_anneal(0.85, 0.95, pct)])
        else:
            expected.append([lin_anneal(0.004, 0.004 / 1e4, (t - 8) / 11), 0.95])
    np.testing.assert_allclose(momenta(scheduler, 20, "betas"), expected, rtol=1e-13)
    assert opt.param_groups[0]["betas"][1] == 0.99


def test_one_cycle_momentum_options():
    opt = optim.RMSprop([tg.zeros(1, requires_grad=True)])
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, max_momentum=0.9)
    assert opt.param_groups[0]["momentum"] == 0.9
    opt = optim.AdamW([tg.zeros(1, requires_grad=True)], betas=(0.8, 0.9))
    lrs(lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False), 5)
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)


def test_one_cycle_state_dict_round_trip_through_save(tmp_path):
    save_and_resume(tmp_path, lambda opt: lr_scheduler.OneCycleLR(
        opt, max_lr=[0.1, 0.05], total_steps=20, three_phase=True), lrs)


ONE_CYCLE_CONFIGS = [
    ("SGD", dict(momentum=0.9), dict(max_lr=0.1, total_steps=40)),
    ("Adam", dict(), dict(max_lr=[0.1, 0.05], total_steps=40, anneal_strategy="linear")),
    ("SGD", dict(), dict(max_lr=0.1, epochs=4, steps_per_epoch=10, three_phase=True,
                         pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    ("RMSprop", dict(), dict(max_lr=0.1, total_steps=45, base_momentum=[0.8, 0.7])),
    ("AdamW", dict(), dict(max_lr=0.1, total_steps=40, cycle_momentum=False)),
]


@pytest.mark.parametrize("name, opt_kwargs, kwargs", ONE_CYCLE_CONFIGS)
def test_one_cycle_against_torch(name, opt_kwargs, kwargs):
    torch = pytest.importorskip("torch")
    key = "betas" if name.startswith("Adam") else "momentum"
    theirs = torch.optim.lr_scheduler.OneCycleLR(torch_optimizer(torch, name, **opt_kwargs),
                                                 **kwargs)
    params = [{"params": [tg.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)]
    mine = lr_scheduler.OneCycleLR(getattr(optim, name)(params, **opt_kwargs), **kwargs)
    np.testing.assert_array_equal(momenta(mine, 40, key), momenta(theirs, 40, key))


class NoMomentum(optim.Optimizer):
    def __init__(self, params):
        super().__init__(params, dict(lr=0.1))


def test_one_cycle_errors():
    opt = make_optimizer()
    make = lr_scheduler.OneCycleLR
    with pytest.raises(ValueError, match=r"either total_steps OR \(epochs AND steps_per_epoch\)"):
        make(opt, max_lr=0.1, epochs=3)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        make(opt, max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="Expected positive integer epochs, but got 1.5"):
        make(opt, max_lr=0.1, epochs=1.5, steps_per_epoch=4)
    with pytest.raises(ValueError, match="Expected positive integer steps_per_epoch, but got 0"):
        make(opt, max_lr=0.1, epochs=2, steps_per_epoch=0)
    with pytest.raises(ValueError, match="Expected float between 0 and 1 pct_start, but got 1"):
        make(opt, max_lr=0.1, total_steps=10, pct_start=1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', "
                                         "instead got exp"):
        make(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length as "
                                         "optimizer.param_groups. max_lr has 3 values"):
        make(opt, max_lr=[0.1] * 3, total_steps=10)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        make(NoMomentum([tg.zeros(1, requires_grad=True)]), max_lr=0.1, total_steps=10)
    make(NoMomentum([tg.zeros(1, requires_grad=True)]), max_lr=0.1, total_steps=10,
         cycle_momentum=False)
