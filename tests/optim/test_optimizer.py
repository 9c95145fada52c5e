"""The Optimizer base: parameter groups, zero_grad, closures, version counters, errors, and
state_dict round trips (directly and through tg.save/tg.load) that reproduce the next step."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tests.optim.common import tg_loss, tg_params, train_tg
from tinygen import nn, optim

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.05)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (optim.Adadelta, dict(lr=0.5, rho=0.8)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.01)),
    (optim.RAdam, dict(lr=0.01, decoupled_weight_decay=True)),
    (optim.Adamax, dict(lr=0.05, weight_decay=0.01)),
    (optim.Rprop, dict(lr=0.01, etas=(0.4, 1.5))),
    (optim.ASGD, dict(lr=0.05, t0=1, lambd=0.01)),
]
LR_READ_AT_EACH_STEP = [(cls, options) for cls, options in OPTIMIZERS
                        if cls not in (optim.Rprop, optim.ASGD)]   # these read lr at the start


def test_param_groups_take_defaults_and_own_options():
    a, b = tg_params()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    c = tg.zeros(2, requires_grad=True)
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0


def test_named_parameters_are_accepted():
    model = nn.Linear(2, 1)
    opt = optim.Adam(model.named_parameters())
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"] == [model.weight, model.bias]


def test_bad_params_are_clear_errors():
    a, b = tg_params()
    with pytest.raises(TypeError, match="got a Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="sets will change between runs"):
        optim.SGD([{"params": {a}}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("a", a), b], lr=0.1)
    with pytest.raises(ValueError, match="Tensor learning rate must be 1-element"):
        optim.SGD([a], lr=tg.tensor([0.1, 0.1]))
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)


def test_duplicate_parameter_warns_and_steps_twice_as_in_torch():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = optim.SGD([a, a], lr=0.5)
    a.grad = tg.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(host(a), [0.0, 1.0])


def test_zero_grad():
    a, b = tg_params()
    opt = optim.SGD([a, b], lr=0.1)
    tg_loss([a, b]).backward()
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and not a.grad.cpu().numpy().any()
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_step_skips_params_without_grad_and_returns_closure_loss():
    a, b = tg_params()
    before = b.detach().cpu().numpy().copy()
    opt = optim.SGD([a, b], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = tg_loss([a, b])
        loss.backward()
        b.grad = None
        return loss
    with tg.no_grad():
        loss = opt.step(closure)          # the closure still records: it runs with grad enabled
    assert loss.item() > 0
    np.testing.assert_array_equal(b.detach().cpu().numpy(), before)
    assert b not in opt.state


def test_step_bumps_the_version_counter():
    a, b = tg_params()
    y = (a * a).sum()                     # saves a for backward
    a.grad = tg.ones(3, dtype=tg.float64)
    optim.SGD([a], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


@pytest.mark.parametrize("optimizer_class, option, name", [
    (optim.SGD, "lr", "learning rate"), (optim.SGD, "momentum", "momentum value"),
    (optim.Adam, "lr", "learning rate"), (optim.Adam, "eps", "epsilon value"),
    (optim.AdamW, "weight_decay", "weight_decay value"), (optim.RMSprop, "alpha", "alpha value"),
])
@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_negative_or_nan_options_are_errors(optimizer_class, option, name, value):
    """NaN fails too (it compares false with everything): it would turn every parameter NaN."""
    with pytest.raises(ValueError, match=f"Invalid {name}: {value}"):
        optimizer_class([tg.zeros(1, requires_grad=True)], **{option: value})


@pytest.mark.parametrize("optimizer_class, options", OPTIMIZERS)
def test_pytorch_implementation_choices_are_accepted(optimizer_class, options):
    """foreach (and fused, where PyTorch has it) pick a PyTorch implementation; tinygen has one,
    so the same steps follow."""
    no_fused = (optim.RMSprop, optim.Adadelta, optim.NAdam, optim.RAdam, optim.Adamax,
                optim.Rprop, optim.ASGD)                                 # as in PyTorch
    has_fused = optimizer_class not in no_fused
    flags = dict(foreach=True, fused=False) if has_fused else dict(foreach=True)
    plain, flagged = tg_params(), tg_params()
    train_tg(optimizer_class(plain, **options), plain, 3)
    train_tg(optimizer_class(flagged, **options, **flags), flagged, 3)
    for a, b in zip(plain, flagged):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


@pytest.mark.parametrize("optimizer_class, options", OPTIMIZERS)
def test_state_dict_layout(optimizer_class, options):
    params = tg_params()
    opt = optimizer_class([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}],
                          **options)
    train_tg(opt, params, 2)
    state = opt.state_dict()
    assert sorted(state) == ["param_groups", "state"]
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.01
    assert sorted(state["state"]) == [0, 1]


@pytest.mark.parametrize("optimizer_class, options", OPTIMIZERS)
def test_round_trip_through_save_reproduces_the_next_steps(tmp_path, optimizer_class, options):
    params = tg_params()
    opt = optimizer_class(params, **options)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    train_tg(opt, params, 3, scheduler=sched)
    path = tmp_path / "checkpoint.safetensors"
    tg.save({"params": [p.detach() for p in params], "optim": opt.state_dict(),
             "sched": sched.state_dict()}, path)
    expected = train_tg(opt, params, 3, scheduler=sched)

    checkpoint = tg.load(path)
    resumed = [tg.tensor(p.cpu().numpy(), requires_grad=True) for p in checkpoint["params"]]
    opt2 = optimizer_class(resumed, **options)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    opt2.load_state_dict(checkpoint["optim"])
    sched2.load_state_dict(checkpoint["sched"])
    # NAdam: PyTorch's load casts the float32 mu_product to float64, so it rounds differently
    rtol = 1e-6 if optimizer_class is optim.NAdam else 0
    for a, b in zip(train_tg(opt2, resumed, 3, scheduler=sched2), expected):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_load_state_dict_copies_and_casts():
    a, b = tg_params()
    opt = optim.Adam([a, b])
    train_tg(opt, [a, b], 2)
    a32, b32 = tg_params(dtype=tg.float32)
    opt32 = optim.Adam([a32, b32])
    opt32.load_state_dict(opt.state_dict())
    moment = opt32.state[a32]["exp_avg"]
    assert moment.dtype == tg.float32 and opt32.state[a32]["step"].dtype == np.float32
    train_tg(opt32, [a32, b32], 1)
    assert float(opt.state[a]["step"]) == 2    # the source's state was copied, not shared


def test_load_state_dict_errors():
    a, b = tg_params()
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    train_tg(opt, [a, b], 1)
    state = opt.state_dict()
    with pytest.raises(ValueError, match="1 parameter groups, but the optimizer has 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(state)
    other = [tg.zeros(5, dtype=tg.float64, requires_grad=True), b]
    with pytest.raises(ValueError, match=r"shape \(3,\) but its parameter has shape \(5,\)"):
        optim.SGD(other, lr=0.1).load_state_dict(state)


def test_repr_lists_groups():
    text = repr(optim.SGD(tg_params(), lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text


@pytest.mark.parametrize("optimizer_class, options", OPTIMIZERS)
def test_state_lives_on_the_parameter_device(device, optimizer_class, options):
    p = tg.tensor([1.0, -2.0], device=device, requires_grad=True)
    p.grad = tg.tensor([0.5, 0.5], device=device)
    opt = optimizer_class([p], **options)
    opt.step()
    opt.step()
    for name, value in opt.state[p].items():
        assert value.device == (tg.device("cpu") if name == "step" else p.device), name
    assert p.device == tg.device(device) and p.grad is not None


@pytest.mark.parametrize("optimizer_class, options", LR_READ_AT_EACH_STEP)
def test_a_tensor_lr_is_read_at_each_step(optimizer_class, options):
    """PyTorch takes a one-element tensor as lr; a change to it in place applies next step."""
    options = dict(options)
    lr = options.pop("lr")
    plain, tensor_lr = tg_params(), tg_params()
    train_tg(optimizer_class(plain, lr=lr, **options), plain, 2)
    rate = tg.tensor(lr, dtype=tg.float64)
    opt = optimizer_class(tensor_lr, lr=rate, **options)
    train_tg(opt, tensor_lr, 2)
    for a, b in zip(plain, tensor_lr):
        np.testing.assert_allclose(host(a), host(b), rtol=1e-12)
    rate.fill_(0.0)                  # a zero rate: the next step leaves the weights as they are
    before = [host(p).copy() for p in tensor_lr]
    train_tg(opt, tensor_lr, 1)
    for b, p in zip(before, tensor_lr):
        np.testing.assert_array_equal(b, host(p))
