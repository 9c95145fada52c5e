"""A small least-squares problem that tinygen and PyTorch optimizers both solve, step by step."""

import numpy as np

import tinygen as tg


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
