"""Shared by the optim tests: a small least-squares problem that tinygen and PyTorch optimizers
both solve step by step, checks of an optimizer's resume and state_dict, and the helpers of the
learning-rate schedule tests."""

import numpy as np
import pytest

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


def check_against_torch(name, options, groups=None, steps=10, rtol=1e-10, atol=1e-12,
                        same_state=True):
    """Solve problem() for ``steps`` steps with ``optim.<name>`` and ``torch.optim.<name>``,
    both made with ``options`` (over ``groups(params)`` when given): the final parameters must
    agree to ``rtol``/``atol`` and, with ``same_state``, the two state_dicts must too."""
    torch = pytest.importorskip("torch")
    X, y, w, b = problem()
    params = tg_params()
    theirs = [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    mine_opt = getattr(optim, name)(params if groups is None else groups(params), **options)
    their_opt = getattr(torch.optim, name)(theirs if groups is None else groups(theirs),
                                           **options)
    train_tg(mine_opt, params, steps)
    for _ in range(steps):
        their_opt.zero_grad()
        ((torch.tensor(X) @ theirs[0] + theirs[1] - torch.tensor(y)) ** 2).mean().backward()
        their_opt.step()
    for mine, their in zip(params, theirs):
        np.testing.assert_allclose(mine.detach().cpu().numpy(), their.detach().numpy(),
                                   rtol=rtol, atol=atol)
    if same_state:
        assert_same_state_dict(mine_opt, their_opt)


def run_grads(optimizer, param, grads):
    """Step once per array in ``grads``, each set as ``param``'s gradient; ``param``'s values
    after every step, one row per step."""
    trajectory = []
    for g in grads:
        param.grad = tg.tensor(g, dtype=param.dtype)
        optimizer.step()
        trajectory.append(param.detach().cpu().numpy().copy())
    return np.array(trajectory)


def check_resume_is_exact(tmp_path, make, steps=4):
    """Train ``make(params)`` ``steps`` steps, save the parameters and its state_dict with
    tg.save, train on; an optimizer made afresh over the saved parameters and loaded from the
    file must take the same next steps bit for bit. Returns the loaded optimizer."""
    params = tg_params()
    opt = make(params)
    train_tg(opt, params, steps)
    path = tmp_path / "checkpoint.safetensors"
    tg.save({"params": [p.detach() for p in params], "optim": opt.state_dict()}, path)
    expected = train_tg(opt, params, steps)

    checkpoint = tg.load(path)
    resumed = [tg.tensor(p.cpu().numpy(), requires_grad=True) for p in checkpoint["params"]]
    loaded = make(resumed)
    loaded.load_state_dict(checkpoint["optim"])
    for a, b in zip(train_tg(loaded, resumed, steps), expected):
        np.testing.assert_array_equal(a, b)
    return loaded


def assert_same_state_dict(mine, theirs):
    """A tinygen and a PyTorch optimizer hold the same state_dict: the same groups (flags such
    as foreach and fused included) and the same state, key by key, dtype by dtype."""
    ours, torchs = mine.state_dict(), theirs.state_dict()
    assert ours["param_groups"] == torchs["param_groups"]
    assert sorted(ours["state"]) == sorted(torchs["state"])
    for index, values in ours["state"].items():
        assert sorted(values) == sorted(torchs["state"][index])
        for name, value in values.items():
            expected = torchs["state"][index][name].numpy()
            assert value.numpy().dtype == expected.dtype, name
            np.testing.assert_allclose(value.numpy(), expected, rtol=1e-10, atol=1e-14,
                                       err_msg=name)


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
