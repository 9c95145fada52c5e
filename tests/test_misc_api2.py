"""Small PyTorch API gaps: Module.compile, call_super_init and its class attributes,
tg.func.functionalize / replace_all_batch_norm_modules_, Optimizer.profile_hook_step,
tinygen.utils.hooks, Tensor.storage / untyped_storage / set_ (against torch where installed)."""

import collections.abc
import warnings

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn, optim
from tinygen.utils.hooks import RemovableHandle, unserializable_hook


# nn.Module


def test_module_compile_runs_eagerly_and_returns_none():
    model = nn.Linear(3, 2)
    x = tg.randn(4, 3)
    before = model(x).detach().numpy()
    assert model.compile(mode="reduce-overhead", dynamic=True) is None
    np.testing.assert_array_equal(model(x).detach().numpy(), before)
    assert type(model) is nn.Linear and "forward" not in model.__dict__
    with pytest.raises(RuntimeError, match="Either mode or options"):
        model.compile(mode="default", options={})
    with pytest.raises(RuntimeError, match="Either mode or options"):
        tg.compile(model, mode="default", options={})
    assert tg.compile(fullgraph=True)(model) is model and tg.compile(model, name="m") is model


class _Mixin:
    def __init__(self, *args, tag=None):
        super().__init__()
        self.tag, self.rest = tag, args


class _Cooperative(nn.Module, _Mixin):
    call_super_init = True


def test_call_super_init_and_class_attributes():
    assert nn.Module.call_super_init is False and nn.Module.dump_patches is False
    assert nn.Module.T_destination.__bound__ is dict
    m = _Cooperative(1, 2, tag="t")
    assert (m.tag, m.rest) == ("t", (1, 2)) and m.training
    m.lin = nn.Linear(1, 1)
    assert [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    with pytest.raises(TypeError, match=r"Module.__init__\(\) takes 1 positional argument but "
                                        r"2 were given"):
        nn.Module(3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'x'"):
        nn.Module(x=3)


def test_call_super_init_errors_match_torch():
    torch = pytest.importorskip("torch")
    for args, kwargs in (((3,), {}), ((), {"x": 3})):
        with pytest.raises(TypeError) as theirs:
            torch.nn.Module(*args, **kwargs)
        with pytest.raises(TypeError) as ours:
            nn.Module(*args, **kwargs)
        assert str(ours.value) == str(theirs.value)


# tg.func


def test_functionalize_returns_the_function():
    def f(a):
        b = a.view(-1)
        b.add_(1)
        return a * 2

    g = tg.func.functionalize(f, remove="mutations_and_views")
    x = tg.zeros(2, 2)
    np.testing.assert_array_equal(g(x).numpy(), np.full((2, 2), 2.0))
    np.testing.assert_array_equal(x.numpy(), np.ones((2, 2)))     # the input mutation stays
    with pytest.raises(RuntimeError, match="invalid argument for remove=all"):
        tg.func.functionalize(f, remove="all")


def _bn_model(lib):
    return lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3),
                             lib.nn.Sequential(lib.nn.BatchNorm1d(4, track_running_stats=False)),
                             lib.nn.InstanceNorm2d(3, track_running_stats=True))


def test_replace_all_batch_norm_modules_():
    model = _bn_model(tg)
    assert tg.func.replace_all_batch_norm_modules_(model) is model
    bn = model[1]
    assert bn.running_mean is None and bn.running_var is None
    assert bn.num_batches_tracked is None and not bn.track_running_stats
    assert model[3].running_mean is not None          # instance norm is no batch norm
    assert sorted(model.state_dict()) == [
        "0.bias", "0.weight", "1.bias", "1.weight", "2.0.bias", "2.0.weight",
        "3.num_batches_tracked", "3.running_mean", "3.running_var"]
    # Eval mode now normalises with the batch statistics: zero mean, unit variance per channel.
    bn.eval()
    x = tg.randn(4, 3, 2, 2, dtype=tg.float64)
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-3)
    bn.double()
    assert tg.autograd.gradcheck(lambda t: bn(t), (x.requires_grad_(),))


def test_replace_all_batch_norm_modules_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.func.replace_all_batch_norm_modules_(_bn_model(torch))
    ours = tg.func.replace_all_batch_norm_modules_(_bn_model(tg))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32)
    ours.eval(), theirs.eval()
    head_ours, head_theirs = ours[:2], theirs[:2]
    np.testing.assert_allclose(head_ours(tg.tensor(x)).detach().numpy(),
                               head_theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)


# optim


def test_profile_hook_step_runs_the_step_hooks():
    p = nn.Parameter(tg.ones(2))
    opt = optim.SGD([p], lr=0.5)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", len(args))))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", len(args))))

    def step(self, scale):
        seen.append(("step", scale))

    wrapped = optim.Optimizer.profile_hook_step(step)
    wrapped(opt, 3)
    assert seen == [("pre", 2), ("step", 3), ("post", 2)]
    assert optim.Optimizer.profile_hook_step(wrapped) is wrapped
    assert optim.Optimizer.profile_hook_step(optim.SGD.step) is optim.SGD.step
    assert optim.Optimizer.OptimizerPreHook.__origin__ is collections.abc.Callable
    assert optim.Optimizer.OptimizerPostHook.__args__[-1] is type(None)


def test_removable_handle_is_what_hooks_return():
    model = nn.Linear(2, 2)
    calls = []
    handle = model.register_forward_hook(lambda *a: calls.append(1))
    opt_handle = optim.SGD(model.parameters(), lr=0.1).register_step_pre_hook(lambda *a: None)
    assert isinstance(handle, RemovableHandle) and isinstance(opt_handle, RemovableHandle)
    model(tg.ones(1, 2))
    with handle:
        pass
    model(tg.ones(1, 2))
    assert calls == [1]

    @unserializable_hook
    def hook(grad):
        return grad
    assert hook.__torch_unserializable__ is True


# Tensor storage


def test_storage_shares_memory_with_the_tensor():
    x = tg.arange(6.0).reshape(2, 3)
    row = x[1]
    s = row.storage()
    assert (s.size(), len(s), s.element_size(), s.nbytes()) == (6, 6, 4, 24)
    assert s.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and s.dtype == tg.float32
    assert s.data_ptr() == x.data_ptr() == row.data_ptr() - 3 * 4
    u = row.untyped_storage()
    assert (u.size(), len(u), u.element_size(), u.nbytes()) == (24, 24, 1, 24)
    assert u.tolist()[4:8] == list(np.float32(1).tobytes()) and u.data_ptr() == x.data_ptr()
    s[0] = 7
    assert x[0, 0].item() == 7.0 and s[-1] == 5.0 and isinstance(s[1], float)
    with pytest.raises(IndexError, match="out of range for storage of size 6"):
        s[6]
    with pytest.raises(TypeError, match="slices are not supported"):
        s[1:3]


def test_storage_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    for view in (lambda t: t, lambda t: t[1:, 2:], lambda t: t.T):
        ours, theirs = view(tg.tensor(a)), view(torch.tensor(a))
        for name in ("storage", "untyped_storage"):
            with warnings.catch_warnings():          # torch: "TypedStorage is deprecated"
                warnings.simplefilter("ignore")
                o, t = getattr(ours, name)(), getattr(theirs, name)()
            assert (o.size(), len(o), o.nbytes(), o.element_size(), o.tolist()) == \
                (t.size(), len(t), t.nbytes(), t.element_size(), t.tolist())


def test_set_shares_the_source():
    x = tg.arange(6.0).reshape(2, 3)
    z = tg.zeros(2)
    assert z.set_(x) is z and z.shape == (2, 3) and z._version == 1
    z.add_(1)
    assert x[1, 2].item() == 6.0 and z.data_ptr() == x.data_ptr()
    y = tg.zeros(5)
    y.set_(x[1])
    assert y.shape == (3,) and y.storage_offset() == 3
    y.set_()
    assert y.shape == (0,) and y.dtype == tg.float32
    y.set_(x.untyped_storage())
    assert y.shape == (6,) and y.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_set_errors():
    x = tg.ones(3)
    with pytest.raises(RuntimeError, match="dtype int64 to memory of dtype float32"):
        tg.zeros(2, dtype=tg.int64).set_(x)
    leaf = tg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.set_(x)
    with tg.no_grad():
        leaf.set_(x)
    assert leaf.shape == (3,) and leaf.requires_grad
    with pytest.raises(TypeError, match="expected a Tensor or a storage"):
        tg.zeros(2).set_(3)
    with pytest.raises(TypeError, match="storage_offset, size, stride"):
        tg.zeros(2).set_(x, 0, (3,))
