"""LBFGS: minimises Rosenbrock's function with the strong-Wolfe line search, matches PyTorch's
iterates step by step (a quadratic and Rosenbrock, with and without the line search), keeps its
state under the first parameter through a state_dict round trip, and refuses bad options."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import optim

START = (-1.5, 2.0)


def rosenbrock(lib, x):
    """(1 - x0)^2 + 100 (x1 - x0^2)^2, minimal (0) at (1, 1); x a 2-vector of ``lib``."""
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])
B = np.array([1.0, -2.0, 0.5])


def quadratic(lib, x):
    """x^T A x / 2 - b . x, minimal at A^-1 b."""
    a, b = lib.tensor(A, dtype=x.dtype), lib.tensor(B, dtype=x.dtype)
    return (x * (a @ x)).sum() / 2 - (b * x).sum()


def make_closure(lib, opt, x, function):
    def closure():
        opt.zero_grad()
        loss = function(lib, x)
        loss.backward()
        return loss
    return closure


def run(lib, function, start, steps, **options):
    """The parameter after each ``step(closure)`` of ``lib.optim.LBFGS``, one row per step, and
    the optimizer."""
    x = lib.tensor(np.array(start), dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([x], **options)
    closure = make_closure(lib, opt, x, function)
    rows = []
    for _ in range(steps):
        opt.step(closure)
        rows.append(x.detach().numpy().copy())
    return np.array(rows), opt


def test_minimises_rosenbrock_with_strong_wolfe():
    trajectory, opt = run(tg, rosenbrock, START, 1, line_search_fn="strong_wolfe", max_iter=100,
                          tolerance_grad=1e-10, tolerance_change=1e-12)
    np.testing.assert_allclose(trajectory[-1], [1.0, 1.0], atol=1e-6)
    assert rosenbrock(np, trajectory[-1]) < 1e-12
    state = opt.state[opt.param_groups[0]["params"][0]]
    assert 20 < state["n_iter"] < 100 and state["func_evals"] >= state["n_iter"]


def test_the_quadratic_is_solved():
    trajectory, _ = run(tg, quadratic, np.zeros(3), 2, line_search_fn="strong_wolfe",
                        tolerance_grad=1e-12, tolerance_change=1e-14)
    np.testing.assert_allclose(trajectory[-1], np.linalg.solve(A, B), atol=1e-8)


@pytest.mark.parametrize("function, start, steps, options", [
    (quadratic, np.zeros(3), 3, dict(max_iter=4)),
    (quadratic, np.zeros(3), 3, dict(max_iter=4, lr=0.5, history_size=2)),
    (quadratic, np.zeros(3), 2, dict(line_search_fn="strong_wolfe", max_iter=3)),
    (rosenbrock, START, 6, dict(line_search_fn="strong_wolfe", max_iter=5)),
    (rosenbrock, START, 3, dict(line_search_fn="strong_wolfe", history_size=3, max_iter=6)),
    (rosenbrock, START, 5, dict(lr=1e-3, max_iter=7, max_eval=5)),
])
def test_matches_torch_step_by_step(function, start, steps, options):
    """Over many iterations on Rosenbrock the two drift apart by rounding (dot products summed
    in another order), so the runs are kept short enough to agree to 1e-9 (1e-10 near 0)."""
    torch = pytest.importorskip("torch")
    mine, opt = run(tg, function, start, steps, **options)
    theirs, their_opt = run(torch, function, start, steps, **options)
    np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-10)
    ours, torchs = opt.state_dict()["state"][0], their_opt.state_dict()["state"][0]
    assert sorted(ours) == sorted(torchs)
    assert ours["n_iter"] == torchs["n_iter"] and ours["func_evals"] == torchs["func_evals"]
    assert len(ours["old_dirs"]) == len(torchs["old_dirs"])
    for name in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(ours[name].numpy(), torchs[name].numpy(), rtol=1e-8,
                                   atol=1e-12, err_msg=name)


def test_state_dict_round_trip_through_save_reproduces_the_next_steps(tmp_path):
    options = dict(line_search_fn="strong_wolfe", max_iter=3, history_size=4)
    x = tg.tensor(np.array(START), dtype=tg.float64, requires_grad=True)
    opt = optim.LBFGS([x], **options)
    closure = make_closure(tg, opt, x, rosenbrock)
    for _ in range(3):
        opt.step(closure)
    path = tmp_path / "lbfgs.safetensors"
    tg.save({"x": x.detach(), "optim": opt.state_dict()}, path)
    n_iter, history = opt.state[x]["n_iter"], len(opt.state[x]["old_dirs"])
    expected = []
    for _ in range(3):
        opt.step(closure)
        expected.append(x.detach().numpy().copy())

    checkpoint = tg.load(path)
    y = tg.tensor(checkpoint["x"].numpy(), requires_grad=True)
    resumed = optim.LBFGS([y], **options)
    resumed.load_state_dict(checkpoint["optim"])
    assert resumed.state[y]["n_iter"] == n_iter and len(resumed.state[y]["old_dirs"]) == history
    assert history == 4
    closure = make_closure(tg, resumed, y, rosenbrock)
    for row in expected:
        resumed.step(closure)
        np.testing.assert_array_equal(y.detach().numpy(), row)


def test_state_spans_all_parameters_flattened():
    a = tg.tensor([[0.5, -1.0]], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([2.0], dtype=tg.float64, requires_grad=True)
    opt = optim.LBFGS([a, b], max_iter=3)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum() + ((b - 1) ** 2).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert loss.item() == pytest.approx(0.25 + 1 + 1)
    assert list(opt.state) == [a] and opt.state[a]["d"].shape == (3,)
    assert (a * a).sum().item() + (b.item() - 1) ** 2 < 0.1


def test_defaults_and_max_eval():
    x = tg.zeros(2, requires_grad=True)
    group = optim.LBFGS([x]).param_groups[0]
    assert group["max_eval"] == 25 and group["history_size"] == 100
    assert group["line_search_fn"] is None and group["lr"] == 1
    assert optim.LBFGS([x], max_iter=7).param_groups[0]["max_eval"] == 8


def test_bad_options():
    x = tg.zeros(2, requires_grad=True)
    for value in (-1.0, float("nan")):
        with pytest.raises(ValueError, match=f"Invalid learning rate: {value}"):
            optim.LBFGS([x], lr=value)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [x]}, {"params": [tg.zeros(1, requires_grad=True)]}])
    opt = optim.LBFGS([x], line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(make_closure(tg, opt, x, lambda lib, x: ((x - 1) ** 2).sum()))
    with pytest.raises(TypeError):
        opt.step()                               # the closure is required


def test_tensor_lr_keeps_step_length_as_tensor():
    """With a tensor lr, PyTorch's state["t"] (the last step length) is a tensor: lr scaled by
    min(1, 1 / |g|_1) in float64 on the first iteration, lr itself after."""
    for max_iter, value, dtype in ((1, 0.125, tg.float64), (3, 0.5, tg.float32)):
        x = tg.zeros(2, dtype=tg.float64, requires_grad=True)
        opt = optim.LBFGS([x], lr=tg.tensor(0.5, dtype=tg.float32), max_iter=max_iter)
        opt.step(make_closure(tg, opt, x, lambda lib, x: ((x - 1) ** 2).sum()))
        t = opt.state[x]["t"]
        assert isinstance(t, tg.Tensor) and t.dtype == dtype and t.item() == value
