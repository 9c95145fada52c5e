"""Bookkeeping parity of tinygen.optim with torch.optim: ``defaults`` and ``param_groups`` with
PyTorch's keys and values (flags included), state_dicts of the same structure and dtypes that
load across the two libraries and continue the run identically (float64), PyTorch's answers to
the ``maximize``, ``capturable``, ``differentiable``, ``fused`` and ``foreach`` flags, and the
errors and hooks of ``Optimizer``. Schedulers: test_lr_parity_vs_torch.py."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import optim

torch = pytest.importorskip("torch")

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam",
         "Rprop", "ASGD", "LBFGS", "Adafactor", "Muon"]
OPTIONS = {                              # options that make every state entry appear
    "SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "Adam": dict(lr=0.1, amsgrad=True, weight_decay=0.01),
    "AdamW": dict(lr=0.1, amsgrad=True),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True),
    "Adadelta": dict(weight_decay=0.1),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "Adamax": dict(lr=0.1),
    "NAdam": dict(lr=0.1, decoupled_weight_decay=True, weight_decay=0.1),
    "RAdam": dict(lr=0.1, weight_decay=0.1),
    "Rprop": dict(lr=0.1),
    "ASGD": dict(lr=0.1, t0=1),
    "LBFGS": dict(lr=0.5, max_iter=3, history_size=2),
    "Adafactor": dict(lr=0.1),
    "Muon": dict(lr=0.02),
}
SHAPES = {"Muon": [(3, 4), (2, 3)]}      # Muon takes matrices only
WITH_MAXIMIZE = [n for n in NAMES if n not in ("LBFGS", "Muon")]


@pytest.fixture(autouse=True)
def muon_in_float64(monkeypatch):
    """torch's Muon casts its update to bfloat16 for the Newton-Schulz iteration; tinygen runs it
    in the parameter's dtype (muon.py). Keep torch's in float64 so the two agree exactly."""
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self: self.clone())


def signature_has(name, flag):
    import inspect
    return flag in inspect.signature(getattr(torch.optim, name).__init__).parameters


def make_pair(name, options=None, seed=0):
    """The same float64 parameters in both libraries and an optimizer over each."""
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in SHAPES.get(name, [(3, 4), (4,)])]
    mine = [tg.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    options = OPTIONS[name] if options is None else options
    return (mine, getattr(optim, name)(mine, **options),
            theirs, getattr(torch.optim, name)(theirs, **options))


def step(name, params, opt, lib, i):
    """One step with the i-th gradients (the same in both libraries); LBFGS gets a closure of
    the quadratic 0.5 |c * (p - 1)|^2 per parameter."""
    grads = [np.cos(np.arange(p.numel()).reshape(tuple(p.shape)) + 3.0 * i) for p in params]
    if name != "LBFGS":
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        opt.step()
        return

    def closure():
        opt.zero_grad()
        loss = sum(0.5 * ((lib.tensor(1.0 + np.abs(g)) * (p - 1)) ** 2).sum()
                   for p, g in zip(params, grads))
        loss.backward()
        return loss
    opt.step(closure)


def run(name, pair, steps, first=0):
    mine, my_opt, theirs, their_opt = pair
    for i in range(first, first + steps):
        step(name, mine, my_opt, tg, i)
        step(name, theirs, their_opt, torch, i)


def convert(value, to):
    """A state_dict (nested dicts, lists, tuples, tensors, numbers) with its tensors converted
    to the other library's: ``to`` is tg or torch."""
    if isinstance(value, dict):
        return {k: convert(v, to) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(convert(v, to) for v in value)
    if to is tg and torch.is_tensor(value):
        return tg.tensor(value.detach().numpy().copy())
    if to is torch and isinstance(value, tg.Tensor):
        return torch.from_numpy(value.numpy().copy())
    return value


def assert_same_value(mine, theirs, where):
    if torch.is_tensor(theirs):
        assert isinstance(mine, tg.Tensor), where
        assert mine.numpy().dtype == theirs.numpy().dtype, where
        assert tuple(mine.shape) == tuple(theirs.shape), where
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-11, atol=1e-13,
                                   err_msg=where)
    elif isinstance(theirs, (list, tuple)):
        assert type(mine) is type(theirs) and len(mine) == len(theirs), where
        for i, (a, b) in enumerate(zip(mine, theirs)):
            assert_same_value(a, b, f"{where}[{i}]")
    else:
        assert type(mine) is type(theirs), (where, mine, theirs)
        assert mine == pytest.approx(theirs, rel=1e-11), where


def assert_same_state_dict(mine, theirs):
    """Groups equal key by key (the same keys in the same order); state entries with the same
    keys, each tensor of the same dtype, shape and value, each number of the same type."""
    mine, theirs = mine.state_dict(), theirs.state_dict()
    assert [list(g) for g in mine["param_groups"]] == [list(g) for g in theirs["param_groups"]]
    assert mine["param_groups"] == theirs["param_groups"]
    assert sorted(mine["state"]) == sorted(theirs["state"])
    for index, values in theirs["state"].items():
        assert sorted(mine["state"][index]) == sorted(values)
        for key, value in values.items():
            assert_same_value(mine["state"][index][key], value, f"state[{index}][{key!r}]")


def assert_same_params(mine, theirs):
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-11,
                                   atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_and_param_groups_match_torch(name):
    """Every key of torch's defaults (foreach, fused, capturable, differentiable, ...), in its
    order and with its value, also in a group added later and in one that sets its own lr."""
    mine, my_opt, theirs, their_opt = make_pair(name, options={})
    assert list(my_opt.defaults.items()) == list(their_opt.defaults.items())
    if name == "LBFGS":
        return                               # one group only, in both
    my_opt.add_param_group({"params": [tg.zeros(2, 2, requires_grad=True)], "lr": 0.5})
    their_opt.add_param_group({"params": [torch.zeros(2, 2, requires_grad=True)], "lr": 0.5})
    for a, b in zip(my_opt.param_groups, their_opt.param_groups):
        assert [(k, v) for k, v in a.items() if k != "params"] == \
            [(k, v) for k, v in b.items() if k != "params"]


@pytest.mark.parametrize("name", NAMES)
def test_state_has_torch_structure_and_dtypes(name):
    pair = make_pair(name)
    run(name, pair, 2)
    assert_same_params(pair[0], pair[2])
    assert_same_state_dict(pair[1], pair[3])


def resume_both(name, pair, source):
    """Fresh optimizers of both libraries over the values that ``pair`` reached, each loading
    the state_dict of ``pair``'s optimizer in ``source`` (tg or torch), converted as needed:
    PyTorch's own load (its casts included) is the reference."""
    mine, my_opt, theirs, their_opt = pair
    saved = (my_opt if source is tg else their_opt).state_dict()
    mine = [tg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in mine]
    theirs = [torch.tensor(q.detach().numpy().copy(), requires_grad=True) for q in theirs]
    options = {**OPTIONS[name], "lr": 123.0}          # the loaded groups' lr must win
    my_opt = getattr(optim, name)(mine, **options)
    their_opt = getattr(torch.optim, name)(theirs, **options)
    my_opt.load_state_dict(convert(saved, tg))
    their_opt.load_state_dict(convert(saved, torch))
    return mine, my_opt, theirs, their_opt


@pytest.mark.parametrize("source", ["torch", "tinygen"])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_loads_across_libraries_and_continues_identically(name, source):
    """One library runs 2 steps; fresh optimizers of both load its state_dict and hold the same
    state, and the next 3 steps agree (parameters and state)."""
    pair = make_pair(name)
    run(name, pair, 2)
    resumed = resume_both(name, pair, tg if source == "tinygen" else torch)
    assert_same_state_dict(resumed[1], resumed[3])
    run(name, resumed, 3, first=2)
    assert_same_params(resumed[0], resumed[2])
    assert_same_state_dict(resumed[1], resumed[3])


@pytest.mark.parametrize("name", WITH_MAXIMIZE)
def test_maximize_matches_torch(name):
    pair = make_pair(name, {**OPTIONS[name], "maximize": True})
    before = pair[0][0].detach().numpy().copy()
    run(name, pair, 3)
    assert_same_params(pair[0], pair[2])
    plain = make_pair(name)
    run(name, plain, 3)
    after = pair[0][0].detach().numpy()
    assert not np.allclose(after, plain[0][0].detach().numpy())     # the flag is used
    assert not np.allclose(after, before)


@pytest.mark.parametrize("name", [n for n in NAMES if signature_has(n, "differentiable")])
def test_differentiable_raises_not_implemented(name):
    p = tg.zeros(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match=rf"{name}\(differentiable=True\)"):
        getattr(optim, name)([p], differentiable=True)
    opt = getattr(optim, name)([p])
    with pytest.raises(NotImplementedError, match="differentiable"):
        opt.add_param_group({"params": [tg.zeros(1, requires_grad=True)],
                             "differentiable": True})


@pytest.mark.parametrize("name", [n for n in NAMES if signature_has(n, "capturable")])
def test_capturable_on_cpu_fails_at_step_as_torch(name):
    """Made without complaint; the step with CPU parameters is an AssertionError in both."""
    mine, my_opt, theirs, their_opt = make_pair(name, {"capturable": True})
    assert my_opt.param_groups[0]["capturable"] is True
    before = mine[0].detach().numpy().copy()
    for lib, params, opt in ((tg, mine, my_opt), (torch, theirs, their_opt)):
        with pytest.raises(AssertionError, match="If capturable=True, params"):
            step(name, params, opt, lib, 0)
    np.testing.assert_array_equal(mine[0].detach().numpy(), before)         # untouched
    np.testing.assert_array_equal(theirs[0].detach().numpy(), before)


@pytest.mark.parametrize("name", [n for n in NAMES if signature_has(n, "fused")])
def test_fused_and_foreach_flags_as_torch(name):
    pair = make_pair(name, {**OPTIONS[name], "fused": True})
    run(name, pair, 2)
    assert_same_params(pair[0], pair[2])
    assert_same_state_dict(pair[1], pair[3])
    for lib, module in ((torch, torch.optim), (tg, optim)):
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True`"):
            getattr(module, name)([lib.zeros(2, requires_grad=True)], fused=True, foreach=True)


def test_loaded_step_of_a_fused_or_capturable_group_is_float32_on_the_param_device():
    pair = make_pair("Adam", {"lr": 0.1, "fused": True})
    run("Adam", pair, 1)
    mine = [tg.tensor(p.detach().numpy(), dtype=tg.float32, requires_grad=True) for p in pair[0]]
    resumed = optim.Adam(mine, fused=True)
    resumed.load_state_dict(convert(pair[3].state_dict(), tg))
    state = resumed.state[mine[0]]
    assert state["step"].dtype == tg.float32 and float(state["step"].item()) == 1.0
    assert state["exp_avg"].dtype == tg.float32          # cast to the parameter's dtype


def test_state_dict_without_the_flags_loads_with_their_defaults():
    """A state_dict saved before the flags existed (PyTorch's __setstate__ fills them in)."""
    pair = make_pair("Adam")
    run("Adam", pair, 1)
    saved = pair[1].state_dict()
    for group in saved["param_groups"]:
        for flag in ("foreach", "capturable", "differentiable", "fused"):
            del group[flag]
    opt = optim.Adam(pair[0])
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["capturable"] is False and opt.param_groups[0]["fused"] is None
    run("Adam", (pair[0], opt, pair[2], pair[3]), 1, first=1)
    assert_same_params(pair[0], pair[2])


def test_add_param_group_errors_match_torch():
    for lib, module in ((tg, optim), (torch, torch.optim)):
        p, q = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        opt = module.SGD([p], lr=0.1)
        with pytest.raises(ValueError, match="^some parameters appear in more than one "
                                             "parameter group$"):
            opt.add_param_group({"params": [q, p]})
        with pytest.raises(ValueError, match="all optimizer param groups should be "
                                             "with/without names. cannot add param group "
                                             "with names to the optimizer"):
            opt.add_param_group({"params": [("q", q)]})
        named = module.SGD([("p", p)], lr=0.1)
        with pytest.raises(ValueError, match="cannot add param group without names"):
            named.add_param_group({"params": [q]})
        assert named.state_dict()["param_groups"][0]["param_names"] == ["p"]


def test_zero_grad_to_zeros_in_place_as_torch():
    for lib, module in ((tg, optim), (torch, torch.optim)):
        p = lib.ones(3, requires_grad=True)
        (p * p).sum().backward()
        grad = p.grad
        module.SGD([p], lr=0.1).zero_grad(set_to_none=False)
        assert p.grad is grad
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
        module.SGD([p], lr=0.1).zero_grad()
        assert p.grad is None


def test_state_dict_hooks_run_as_torch():
    """A load pre-hook may return a changed state_dict; a post-hook sees the loaded optimizer;
    a state_dict post-hook may change what state_dict() returns."""
    seen = {}
    for lib, module in ((tg, optim), (torch, torch.optim)):
        opt = module.SGD([lib.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)

        def pre(optimizer, state_dict):
            state_dict = dict(state_dict, param_groups=[dict(g, lr=0.25)
                                                        for g in state_dict["param_groups"]])
            return state_dict

        def post(optimizer):
            seen[lib.__name__] = optimizer.param_groups[0]["lr"]

        opt.register_load_state_dict_pre_hook(pre)
        opt.register_load_state_dict_post_hook(post)
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        saved = opt.state_dict()
        assert saved["extra"] == 1
        opt.load_state_dict(saved)
        assert opt.param_groups[0]["lr"] == 0.25
    assert seen == {"tinygen": 0.25, "torch": 0.25}
