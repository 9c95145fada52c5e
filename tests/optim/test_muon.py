"""Muon: torch's updates step by step (its Newton-Schulz run in float64, and as torch runs it, in
bfloat16, to that precision), the near-orthogonal update direction, the lr adjustments, the
argument checks, the state_dict layout, and a small MLP that learns."""

import math

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn, optim
from tinygen.optim.muon import adjust_lr, zeropower_via_newtonschulz


def grads_for(shape, steps, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def run_tg(start, grads, **options):
    p = tg.tensor(start, dtype=tg.float64, requires_grad=True)
    opt = optim.Muon([p], **options)
    trajectory = []
    for g in grads:
        p.grad = tg.tensor(g, dtype=tg.float64)
        opt.step()
        trajectory.append(p.detach().numpy().copy())
    return trajectory, opt


def run_torch(torch, start, grads, **options):
    p = torch.tensor(start, requires_grad=True)
    opt = torch.optim.Muon([p], **options)
    trajectory = []
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        trajectory.append(p.detach().numpy().copy())
    return trajectory, opt


OPTIONS = [
    {},
    {"lr": 0.02, "nesterov": False, "weight_decay": 0.0},
    {"lr": 0.05, "momentum": 0.9, "adjust_lr_fn": "match_rms_adamw"},
    {"lr": 0.01, "adjust_lr_fn": "original", "ns_steps": 3, "eps": 1e-5},
]


@pytest.mark.parametrize("shape", [(5, 3), (3, 6)])
@pytest.mark.parametrize("options", OPTIONS)
def test_matches_torch_in_float64(monkeypatch, shape, options):
    torch = pytest.importorskip("torch")
    # torch casts the update to bfloat16 for the iteration; keep it float64 to compare exactly.
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self: self.clone())
    start = np.random.default_rng(0).standard_normal(shape)
    grads = grads_for(shape, 4)
    mine, mine_opt = run_tg(start, grads, **options)
    theirs, their_opt = run_torch(torch, start, grads, **options)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mine_opt.state_dict()["state"][0]["momentum_buffer"].numpy(),
                               their_opt.state_dict()["state"][0]["momentum_buffer"].numpy(),
                               rtol=1e-13, atol=1e-15)


def test_matches_unpatched_torch_to_bfloat16_precision():
    torch = pytest.importorskip("torch")
    start = np.random.default_rng(0).standard_normal((4, 6))
    grads = grads_for((4, 6), 3)
    lr = 0.1
    mine, _ = run_tg(start, grads, lr=lr)
    theirs, _ = run_torch(torch, start, grads, lr=lr)
    step = np.abs(mine[-1] - start).max()
    np.testing.assert_allclose(mine[-1], theirs[-1], atol=0.03 * step)


def test_state_dict_layout_matches_torch():
    torch = pytest.importorskip("torch")
    _, mine = run_tg(np.ones((2, 3)), grads_for((2, 3), 1), lr=0.1)
    _, theirs = run_torch(torch, np.ones((2, 3)), grads_for((2, 3), 1), lr=0.1)
    mine_sd, their_sd = mine.state_dict(), theirs.state_dict()
    assert set(mine_sd["state"][0]) == set(their_sd["state"][0]) == {"momentum_buffer"}
    assert mine_sd["param_groups"] == their_sd["param_groups"]
    fresh = optim.Muon([tg.zeros(2, 3, dtype=tg.float64, requires_grad=True)])
    fresh.load_state_dict(mine_sd)
    np.testing.assert_array_equal(fresh.state_dict()["state"][0]["momentum_buffer"].numpy(),
                                  mine_sd["state"][0]["momentum_buffer"].numpy())


@pytest.mark.parametrize("shape", [(6, 4), (4, 6)])
def test_update_direction_is_nearly_orthogonal(shape):
    g = np.random.default_rng(3).standard_normal(shape)
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    polar = u @ vt
    out = zeropower_via_newtonschulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    assert out.shape == shape
    singular = np.linalg.svd(out, compute_uv=False)
    assert singular.min() > 0.6 and singular.max() < 1.25       # U S' V^T, S' near 1
    cosine = (out * polar).sum() / (np.linalg.norm(out) * np.linalg.norm(polar))
    assert cosine > 0.98
    # The classic cubic iteration (a, b, c) = (1.5, -0.5, 0) converges to U V^T itself.
    exact = zeropower_via_newtonschulz(g, (1.5, -0.5, 0.0), 60, 1e-7)
    np.testing.assert_allclose(exact, polar, atol=1e-8)


def test_one_step_moves_by_the_orthogonalized_gradient():
    g = np.random.default_rng(4).standard_normal((3, 5))
    (after,), _ = run_tg(np.zeros((3, 5)), [g], lr=0.1, momentum=0.0, weight_decay=0.0)
    np.testing.assert_allclose(after, -0.1 * zeropower_via_newtonschulz(
        g, (3.4445, -4.7750, 2.0315), 5, 1e-7), rtol=1e-12)


def test_adjust_lr():
    assert adjust_lr(0.1, None, (8, 2)) == pytest.approx(0.2)
    assert adjust_lr(0.1, "original", (2, 8)) == pytest.approx(0.1)
    assert adjust_lr(0.1, "match_rms_adamw", (4, 16)) == pytest.approx(0.1 * 0.2 * 4)


def test_weight_decay_is_decoupled():
    (after,), _ = run_tg(np.full((2, 2), 2.0), [np.zeros((2, 2))], lr=0.5, weight_decay=0.1)
    np.testing.assert_allclose(after, np.full((2, 2), 2.0 * 0.95), rtol=1e-12)   # zero grad


def test_bad_arguments():
    w = tg.zeros(2, 2, requires_grad=True)
    with pytest.raises(ValueError, match="only supports 2D parameters.*size"):
        optim.Muon([w, tg.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="Learning rate should be >= 0"):
        optim.Muon([w], lr=-1.0)
    with pytest.raises(ValueError, match="momentum should be >= 0"):
        optim.Muon([w], momentum=-0.1)
    with pytest.raises(ValueError, match="weight decay should be >= 0"):
        optim.Muon([w], weight_decay=-0.1)
    with pytest.raises(ValueError, match="Adjust learning rate function foo is not supported"):
        optim.Muon([w], adjust_lr_fn="foo")
    with pytest.raises(ValueError, match="less than 100"):
        zeropower_via_newtonschulz(np.eye(2), (1, 0, 0), 100, 1e-7)
    with pytest.raises(ValueError, match="exactly 3 values"):
        zeropower_via_newtonschulz(np.eye(2), (1, 0), 1, 1e-7)


def test_small_mlp_loss_goes_down():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    matrices = [p for p in model.parameters() if p.ndim == 2]
    others = [p for p in model.parameters() if p.ndim != 2]
    muon, adamw = optim.Muon(matrices, lr=0.02), optim.AdamW(others, lr=1e-2)
    x = tg.randn(32, 4)
    y = (x[:, :1] * x[:, 1:2]).tanh() + x[:, 2:3]
    losses = []
    for _ in range(60):
        muon.zero_grad()
        adamw.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        muon.step()
        adamw.step()
        losses.append(loss.item())
    assert math.isfinite(losses[-1]) and losses[-1] < 0.3 * losses[0]
