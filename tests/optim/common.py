"""Shared by the optim tests: a small least-squares problem that tinygen and PyTorch optimizers
both solve step by step, and the helpers of the learning-rate schedule tests."""

import numpy as np

import tinygen as tg
from tinygen import optim


def problem(seed=0):
    """Data (X, y) and initial parameters (w, b) of a linear regression, as NumPy arrays."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((8, 3)), rng.standard_normal(8), rng.standard_normal(3), \
        rng.standard_normal(1)


def tg_params(seed=0, dtype=tg.float64):
    _, _, w, b = problem(seed)
    return [tg.tensor(w, dtype=dtype, requires_grad=True),
            tg.tensor(b, dtype=dtype, requires_grad=True)]


def tg_loss(params, seed=0):
    X, y, _, _ = problem(seed)
    w, b = params
    error = tg.tensor(X, dtype=w.dtype) @ w + b - tg.tensor(y, dtype=w.dtype)
    return (error * error).mean()


def train_tg(optimizer, params, steps, seed=0, scheduler=None):
    for _ in range(steps):
        optimizer.zero_grad()
        tg_loss(params, seed).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return [p.detach().cpu().numpy().copy() for p in params]


def compare_with_torch(make_tg, make_torch, steps=10, groups=None):
    """Run the same problem with both libraries; return both final parameters."""
    import torch
    X, y, w, b = problem()
    params = tg_params()
    theirs = [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    mine_opt = make_tg(params if groups is None else groups(params))
    their_opt = make_torch(theirs if groups is None else groups(theirs))
    train_tg(mine_opt, params, steps)
    for _ in range(steps):
        their_opt.zero_grad()
        ((torch.tensor(X) @ theirs[0] + theirs[1] - torch.tensor(y)) ** 2).mean().backward()
        their_opt.step()
    return [p.detach().cpu().numpy() for p in params], [p.detach().cpu().numpy() for p in theirs]


# Learning-rate schedules

STEPS = 25


def make_optimizer(lrs=(0.1, 0.02)):
    return optim.SGD([{"params": [tg.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs])


def lrs(scheduler, steps=STEPS):
    """The lr of every group at epochs 0, 1, ..., steps."""
    values = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        values.append(scheduler.get_last_lr())
    return np.array(values)


def torch_optimizer(torch, name="SGD", lrs=(0.1, 0.02), **kwargs):
    return getattr(torch.optim, name)([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                                       for lr in lrs], **kwargs)


def save_and_resume(tmp_path, make, run, steps_before=7, steps_after=10):
    """Run ``steps_before`` steps, save optimizer and schedule with tg.save, run on; then load
    both into a fresh pair and check that it runs on identically."""
    opt = make_optimizer()
    scheduler = make(opt)
    run(scheduler, steps_before)
    state = scheduler.state_dict()
    tg.save({"optim": opt.state_dict(), "sched": state}, tmp_path / "s.safetensors")
    expected = run(scheduler, steps_after)

    checkpoint = tg.load(tmp_path / "s.safetensors")
    assert checkpoint["sched"] == state
    opt2 = make_optimizer()
    scheduler2 = make(opt2)
    scheduler2.load_state_dict(checkpoint["sched"])
    opt2.load_state_dict(checkpoint["optim"])
    np.testing.assert_array_equal(run(scheduler2, steps_after), expected)
