"""Optimizer state as PyTorch makes and loads it: Adagrad's sums start at the constructor's
initial_accumulator_value (not a group's own), and load_state_dict casts NAdam's mu_product and
ASGD's eta and mu to the parameter's dtype, as PyTorch does; resumed runs follow PyTorch's."""

import numpy as np
import pytest

import tinygen as tg
from tests.optim.common import (
    assert_same_state_dict, check_against_torch, problem, tg_params, train_tg)
from tinygen import optim


def two_groups(params):
    return [{"params": params[:1]}, {"params": params[1:], "initial_accumulator_value": 2.0}]


def test_adagrad_sums_start_at_the_constructor_value():
    params = tg_params()
    opt = optim.Adagrad(two_groups(params), initial_accumulator_value=0.3)
    extra = tg.zeros(2, dtype=tg.float64, requires_grad=True)
    opt.add_param_group({"params": [extra], "initial_accumulator_value": 5.0})
    assert opt.param_groups[1]["initial_accumulator_value"] == 2.0     # kept, as PyTorch
    np.testing.assert_array_equal(opt.state[params[1]]["sum"].numpy(), [0.3])
    extra.grad = tg.ones(2, dtype=tg.float64)
    opt.step()
    np.testing.assert_allclose(opt.state[extra]["sum"].numpy(), [1.3, 1.3], rtol=1e-15)


def test_adagrad_group_values_against_torch():
    check_against_torch("Adagrad", dict(lr=0.1, initial_accumulator_value=0.3),
                        groups=two_groups)


def torch_train(torch, opt, theirs, steps):
    X, y, _, _ = problem()
    for _ in range(steps):
        opt.zero_grad()
        ((torch.tensor(X) @ theirs[0] + theirs[1] - torch.tensor(y)) ** 2).mean().backward()
        opt.step()


MAKERS = {"NAdam": dict(lr=0.05, weight_decay=0.1, momentum_decay=0.1),
          "ASGD": dict(lr=0.05, t0=2, lambd=0.01)}
CAST = {"NAdam": ["mu_product"], "ASGD": ["eta", "mu"]}


def resumed(tmp_path, name, steps=4):
    """Train ``steps`` steps, save with tg.save, load into a fresh optimizer over the saved
    parameters and train ``steps`` more: (loaded optimizer, its parameters, uninterrupted
    parameters)."""
    params = tg_params()
    opt = getattr(optim, name)(params, **MAKERS[name])
    train_tg(opt, params, steps)
    tg.save({"params": [p.detach() for p in params], "optim": opt.state_dict()},
            tmp_path / "c.safetensors")
    expected = train_tg(opt, params, steps)
    checkpoint = tg.load(tmp_path / "c.safetensors")
    again = [tg.tensor(p.numpy(), requires_grad=True) for p in checkpoint["params"]]
    loaded = getattr(optim, name)(again, **MAKERS[name])
    loaded.load_state_dict(checkpoint["optim"])
    for values in loaded.state.values():
        for key in CAST[name]:
            assert values[key].dtype == tg.float64, key    # the parameter's dtype, as PyTorch
        assert values["step"].dtype == tg.float32
    return loaded, again, expected, steps


@pytest.mark.parametrize("name", MAKERS)
def test_load_casts_to_the_parameter_dtype(tmp_path, name):
    loaded, again, expected, steps = resumed(tmp_path, name)
    got = train_tg(loaded, again, steps)
    for a, b in zip(got, expected):          # float64 instead of float32 scalars: rounding only
        np.testing.assert_allclose(a, b, rtol=1e-6)
    for values in loaded.state.values():
        for key in CAST[name]:
            assert values[key].dtype == tg.float64, key    # and they stay so after steps


@pytest.mark.parametrize("name", MAKERS)
def test_resumed_run_against_torch(tmp_path, name):
    torch = pytest.importorskip("torch")
    _, _, w, b = problem()
    theirs = [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    their_opt = getattr(torch.optim, name)(theirs, **MAKERS[name])
    torch_train(torch, their_opt, theirs, 4)
    their_state = their_opt.state_dict()
    resumed_theirs = [t.detach().clone().requires_grad_() for t in theirs]
    their_loaded = getattr(torch.optim, name)(resumed_theirs, **MAKERS[name])
    their_loaded.load_state_dict(their_state)
    torch_train(torch, their_loaded, resumed_theirs, 4)

    loaded, again, _, steps = resumed(tmp_path, name)
    train_tg(loaded, again, steps)
    for mine, their in zip(again, resumed_theirs):
        np.testing.assert_allclose(mine.detach().numpy(), their.detach().numpy(), rtol=1e-12)
    assert_same_state_dict(loaded, their_loaded)
