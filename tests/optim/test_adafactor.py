"""Adafactor: factored second moments for matrices against a NumPy reference, PyTorch's
trajectories and state step by step in float64, an exact resume, and bad options."""

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import check_against_torch, check_resume_is_exact, run_grads
from tinygen import optim

RNG = np.random.default_rng(0)
SHAPES = [(3, 4), (5,), (2, 3, 2)]
P0 = {shape: RNG.standard_normal(shape) for shape in SHAPES}
GRADS = {shape: [RNG.standard_normal(shape) for _ in range(6)] for shape in SHAPES}


def reference_matrix(p, grads, lr=1e-2, beta2_decay=-0.8, eps1=None, eps2=1e-3, d=1.0):
    """Adafactor on a matrix in NumPy, from the paper's factored form."""
    eps1 = np.finfo(p.dtype).eps if eps1 is None else eps1
    p, R, C, out = p.copy(), np.zeros((p.shape[0], 1)), np.zeros((1, p.shape[1])), []
    for t, g in enumerate(grads, start=1):
        w = t ** beta2_decay
        alpha = max(eps2, np.sqrt(np.mean(p * p))) * min(lr, 1 / np.sqrt(t))
        R = R + w * ((g * g).mean(axis=1, keepdims=True) - R)
        C = C + w * ((g * g).mean(axis=0, keepdims=True) - C)
        V = R @ C / max(R.mean(), eps1)
        U = g / np.sqrt(np.maximum(V, eps1 ** 2))
        p = p - alpha / max(1.0, np.sqrt(np.mean(U * U)) / d) * U
        out.append(p)
    return np.array(out), R, C


@pytest.mark.parametrize("options", [{}, dict(lr=0.1, d=2.0, eps=(1e-6, 1e-2))])
def test_matrix_matches_the_reference(options):
    shape = (3, 4)
    p = tg.tensor(P0[shape], dtype=tg.float64, requires_grad=True)
    opt = optim.Adafactor([p], **options)
    kwargs = {k: v for k, v in options.items() if k != "eps"}
    if "eps" in options:
        kwargs.update(eps1=options["eps"][0], eps2=options["eps"][1])
    trajectory, R, C = reference_matrix(P0[shape], GRADS[shape], **kwargs)
    np.testing.assert_allclose(run_grads(opt, p, GRADS[shape]), trajectory, rtol=1e-12)
    state = opt.state[p]
    assert sorted(state) == ["col_var", "row_var", "step"]
    assert state["row_var"].shape == (3, 1) and state["col_var"].shape == (1, 4)
    np.testing.assert_allclose(state["row_var"].numpy(), R, rtol=1e-12)
    np.testing.assert_allclose(state["col_var"].numpy(), C, rtol=1e-12)
    assert state["step"].dtype == tg.float32 and float(state["step"]) == 6


def test_vectors_keep_a_full_variance():
    p = tg.tensor(P0[(5,)], dtype=tg.float64, requires_grad=True)
    opt = optim.Adafactor([p], lr=0.05)
    run_grads(opt, p, GRADS[(5,)][:1])
    g = GRADS[(5,)][0]
    np.testing.assert_allclose(opt.state[p]["variance"].numpy(), g * g, rtol=1e-14)  # w = 1
    alpha = max(1e-3, np.sqrt(np.mean(P0[(5,)] ** 2))) * 0.05
    update = g / np.abs(g)
    np.testing.assert_allclose(p.detach().numpy(), P0[(5,)] - alpha * update, rtol=1e-14)


@pytest.mark.parametrize("options", [
    {}, dict(lr=0.05, weight_decay=0.1, maximize=True),
    dict(lr=0.02, beta2_decay=-0.5, eps=(1e-8, 1e-2), d=1.5, foreach=False)])
def test_against_torch_step_by_step(options):
    torch = pytest.importorskip("torch")
    mine = [tg.tensor(P0[s], dtype=tg.float64, requires_grad=True) for s in SHAPES]
    theirs = [torch.tensor(P0[s], requires_grad=True) for s in SHAPES]
    opt_mine, opt_theirs = optim.Adafactor(mine, **options), torch.optim.Adafactor(theirs,
                                                                                   **options)
    for step in range(6):
        for a, b, s in zip(mine, theirs, SHAPES):
            a.grad = tg.tensor(GRADS[s][step], dtype=tg.float64)
            b.grad = torch.tensor(GRADS[s][step])
        opt_mine.step()
        opt_theirs.step()
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12,
                                       atol=1e-15)


def test_against_torch_on_the_regression_problem():
    check_against_torch("Adafactor", dict(lr=0.05, weight_decay=0.01), steps=12)


def test_resume_through_save_is_exact(tmp_path):
    check_resume_is_exact(tmp_path, lambda params: optim.Adafactor(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], lr=0.05))


def test_matrix_state_survives_load_state_dict():
    a = tg.tensor(P0[(3, 4)], dtype=tg.float64, requires_grad=True)
    opt = optim.Adafactor([a])
    run_grads(opt, a, GRADS[(3, 4)][:2])
    saved = opt.state_dict()
    b = tg.tensor(a.detach().numpy(), requires_grad=True)
    loaded = optim.Adafactor([b])
    loaded.load_state_dict(saved)
    for name in ("row_var", "col_var"):
        np.testing.assert_array_equal(loaded.state[b][name].numpy(), opt.state[a][name].numpy())
        assert loaded.state[b][name] is not opt.state[a][name]
    np.testing.assert_array_equal(run_grads(loaded, b, GRADS[(3, 4)][2:]),
                                  run_grads(opt, a, GRADS[(3, 4)][2:]))


@pytest.mark.parametrize("options, message", [
    (dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
    (dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
    (dict(eps=(None, -1.0)), "epsilon2 should be >= 0 but is: -1.0"),
    (dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
    (dict(weight_decay=-0.1), "weight_decay should be >= 0 but is: -0.1"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        optim.Adafactor([tg.zeros(2, requires_grad=True)], **options)
