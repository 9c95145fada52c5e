"""Bookkeeping parity of tinygen's learning-rate schedulers with torch's: the same state_dict
keys (nested schedulers' too), and a state_dict saved by either library loads into the other's
scheduler, which then continues the schedule identically. Optimizers:
test_optim_parity_vs_torch.py."""

import copy
import warnings

import numpy as np
import pytest

import tinygen as tg
from tinygen import optim

torch = pytest.importorskip("torch")


def decay(epoch):
    return 0.9 ** epoch


SPECS = {                # name: a function (scheduler module, optimizer) -> the scheduler
    "LambdaLR": lambda m, o: m.LambdaLR(o, decay),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, decay),
    "StepLR": lambda m, o: m.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 6]),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=5),
    "LinearLR": lambda m, o: m.LinearLR(o, total_iters=6),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.8),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=7, power=2.0),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, T_mult=2),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=12),
    "CyclicLR": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range",
                                        gamma=0.9),
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.ExponentialLR(o, 0.9), m.StepLR(o, 2)], milestones=[3]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ExponentialLR(o, 0.9), m.StepLR(o, 2)]),
    "SWALR": lambda m, o: (optim.swa_utils if m is optim.lr_scheduler
                           else torch.optim.swa_utils).SWALR(o, swa_lr=0.05, anneal_epochs=8),
}
METRICS = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]


def make(lib, name):
    """An SGD with momentum over two groups, and the named scheduler over it."""
    module = optim if lib is tg else torch.optim
    groups = [{"params": [lib.zeros(2, requires_grad=True)]},
              {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.05}]
    opt = module.SGD(groups, lr=0.1, momentum=0.9)
    return opt, SPECS[name](module.lr_scheduler, opt)


def advance(scheduler, opt, epochs, first=0):
    """``epochs`` steps; the lrs (and momenta) of every group after each."""
    seen = []
    for epoch in range(first, first + epochs):
        opt.step()
        if isinstance(scheduler, (torch.optim.lr_scheduler.ReduceLROnPlateau,
                                  optim.lr_scheduler.ReduceLROnPlateau)):
            scheduler.step(METRICS[epoch])
        else:
            scheduler.step()
        seen.append([(g["lr"], g["momentum"]) for g in opt.param_groups])
    return seen


def keys(state):
    """The state_dict's keys, nested schedulers' included."""
    nested = [sorted(s) for s in state.get("_schedulers", [])]
    return sorted(state), nested


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # torch's "step() before optimizer.step()" and kin
        yield


@pytest.mark.parametrize("name", list(SPECS))
def test_scheduler_state_dict_keys_match_torch(name):
    (my_opt, mine), (their_opt, theirs) = make(tg, name), make(torch, name)
    assert keys(mine.state_dict()) == keys(theirs.state_dict())
    advance(mine, my_opt, 3)
    advance(theirs, their_opt, 3)
    assert keys(mine.state_dict()) == keys(theirs.state_dict())
    assert mine.state_dict().get("last_epoch") == theirs.state_dict().get("last_epoch")


@pytest.mark.parametrize("source", ["torch", "tinygen"])
@pytest.mark.parametrize("name", list(SPECS))
def test_scheduler_state_dict_loads_across_and_continues_identically(name, source):
    """``source`` runs 4 epochs; fresh optimizers and schedulers of both libraries load its two
    state_dicts (as a resumed training run does) and run 7 more epochs in step."""
    lib = tg if source == "tinygen" else torch
    opt, scheduler = make(lib, name)
    advance(scheduler, opt, 4)
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    resumed = []
    for target in (tg, torch):
        new_opt, new_scheduler = make(target, name)
        new_opt.load_state_dict(copy.deepcopy(saved_opt))
        new_scheduler.load_state_dict(copy.deepcopy(saved))
        resumed.append((new_opt, new_scheduler))
    (my_opt, mine), (their_opt, theirs) = resumed
    assert mine.get_last_lr() == theirs.get_last_lr()
    ours, torchs = advance(mine, my_opt, 7, first=4), advance(theirs, their_opt, 7, first=4)
    np.testing.assert_allclose(ours, torchs, rtol=1e-14)
    assert mine.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-14)
    assert keys(mine.state_dict()) == keys(theirs.state_dict())
    assert ours[0] != ours[-1] or name == "ConstantLR"      # the schedule did move
