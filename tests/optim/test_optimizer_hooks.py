"""Optimizer hooks: per-optimizer and global step hooks (order, arguments, replacement of the
arguments, removal), once per step even for an optimizer with its own step (LBFGS), and the
state-dict hooks; the order is compared with PyTorch's where it is importable."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import optim
from tinygen.optim import optimizer as optimizer_file


def make_sgd(lr=0.5):
    p = tg.nn.Parameter(tg.tensor([1.0, 2.0]))
    p.grad = tg.tensor([1.0, 1.0])
    return p, optim.SGD([p], lr=lr)


def record_step_hooks(module, opt, log):
    """Register two global and two own hooks, each appending its name; the handles."""
    return [module.register_optimizer_step_pre_hook(lambda o, a, k: log.append("global_pre")),
            module.register_optimizer_step_post_hook(lambda o, a, k: log.append("global_post")),
            opt.register_step_pre_hook(lambda o, a, k: log.append("pre")),
            opt.register_step_post_hook(lambda o, a, k: log.append("post"))]


def test_step_hook_order_arguments_and_removal():
    p, opt = make_sgd()
    log, seen = [], []
    handles = record_step_hooks(optimizer_file, opt, log)
    handles.append(opt.register_step_pre_hook(lambda o, a, k: seen.append((o, a, k))))
    opt.step()
    assert log == ["global_pre", "pre", "post", "global_post"]
    assert seen == [(opt, (opt,), {})]
    np.testing.assert_allclose(p.detach().numpy(), [0.5, 1.5])
    for handle in handles:
        handle.remove()
    log.clear()
    opt.step()
    assert log == []
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 1.0])


def test_step_hook_order_matches_torch():
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    opt = torch.optim.SGD([p], lr=0.1)
    log = []
    import torch.optim.optimizer as torch_optimizer_file
    handles = record_step_hooks(torch_optimizer_file, opt, log)
    opt.step()
    for handle in handles:
        handle.remove()
    _, ours = make_sgd()
    our_log = []
    handles = record_step_hooks(optimizer_file, ours, our_log)
    ours.step()
    for handle in handles:
        handle.remove()
    assert our_log == log == ["global_pre", "pre", "post", "global_post"]


def test_pre_hook_replaces_arguments():
    p, opt = make_sgd()
    calls = []

    def closure():
        calls.append(1)
        return tg.tensor(3.0)
    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": closure}))
    assert opt.step().item() == 3.0 and calls == [1]
    opt.register_step_pre_hook(lambda o, args, kwargs: 5)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_hooks_run_once_for_an_own_step():
    p = tg.nn.Parameter(tg.tensor([1.0, -2.0], dtype=tg.float64))
    opt = optim.LBFGS([p], max_iter=3)
    log = []
    handle = optimizer_file.register_optimizer_step_post_hook(lambda o, a, k: log.append(a))
    try:
        def closure():
            opt.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss
        opt.step(closure)
    finally:
        handle.remove()
    assert log == [(opt, closure)]


def test_state_dict_hooks():
    p, opt = make_sgd()
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: log.append("first"), prepend=True)

    def post(o, sd):
        log.append("post")
        return {**sd, "note": 1}
    opt.register_state_dict_post_hook(post)
    sd = opt.state_dict()
    assert log == ["first", "pre", "post"] and sd["note"] == 1

    def load_pre(o, sd):
        log.append("load_pre")
        sd = dict(sd)
        sd.pop("note")
        sd["param_groups"] = [{**sd["param_groups"][0], "lr": 0.25}]
        return sd
    handle = opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: log.append("load_post"))
    log.clear()
    opt.load_state_dict(sd)
    assert log == ["load_pre", "load_post"] and opt.param_groups[0]["lr"] == 0.25
    handle.remove()
    log.clear()
    opt.load_state_dict({"state": {}, "param_groups": sd["param_groups"]})
    assert log == ["load_post"] and opt.param_groups[0]["lr"] == 0.5
