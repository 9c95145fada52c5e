"""nn.Module and nn.Parameter: registration, traversal order and names, modes, state dicts,
moving between dtypes and devices, repr. Names and orders are compared with PyTorch's."""

import copy
import re

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tests.helpers import host


def Block(lib):
    """A module with its own parameter, a persistent and a non-persistent buffer, and
    children, one of which shares a parameter with another (weight tying); built with
    ``lib`` = tinygen or torch."""

    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.ones(3))
            self.register_buffer("count", lib.zeros(1, dtype=lib.int64))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
            self.inner = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Linear(4, 3, bias=False))
            self.head = lib.nn.Linear(4, 3, bias=False)
            self.head.weight = self.inner[1].weight
            self.tied = self.inner                 # the same module under a second name

        def forward(self, x):
            return self.inner(x) * self.scale
    return Block()


def _both():
    torch = pytest.importorskip("torch")
    return Block(tg), Block(torch)


def test_names_and_orders_equal_pytorch():
    ours, theirs = _both()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters(prefix="m", remove_duplicate=False)] == \
        [n for n, _ in theirs.named_parameters(prefix="m", remove_duplicate=False)]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameter_yielded_once_and_named_by_first_path():
    block = Block(tg)
    names = [n for n, _ in block.named_parameters()]
    assert names == ["scale", "inner.0.weight", "inner.0.bias", "inner.1.weight"]
    assert len(list(block.parameters())) == 4
    assert "head.weight" in block.state_dict()     # state_dict keeps every path, as PyTorch


def test_registration_on_assignment():
    m = nn.Module()
    m.w = nn.Parameter(tg.zeros(2))
    m.child = nn.Linear(2, 2)
    m.register_buffer("stat", tg.ones(2))
    m.plain = tg.ones(1)                       # a plain tensor attribute is not registered
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"]
    assert list(m._buffers) == ["stat"] and "plain" not in m.state_dict()
    m.stat = tg.zeros(2)                       # assigning to a buffer name replaces the buffer
    assert m.state_dict()["stat"].sum().item() == 0
    m.w = None
    assert m.w is None and "w" in m._parameters and "w" not in dict(m.named_parameters())
    m.child = nn.Identity()
    assert isinstance(m.child, nn.Identity)
    m.child = nn.Parameter(tg.zeros(1))        # a name moves to the registry of its new kind
    assert "child" in m._parameters and "child" not in m._modules
    del m.child
    assert "child" not in m._parameters and not hasattr(m, "child")
    assert {"w", "stat"} <= set(dir(m))
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(tg.zeros(2, 2))     # reassigning keeps the position, as PyTorch
    assert list(lin.state_dict()) == ["weight", "bias"]


def test_registration_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        m.weight = tg.zeros(2, 2)
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(KeyError, match="name can.*contain"):
        m.register_buffer("a.b", tg.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("in_features", tg.zeros(1))
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        m.register_parameter("p", tg.zeros(1))
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("p", _non_leaf_param())
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("x", 3)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        m.nope

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.zeros(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def _non_leaf_param():
    p = nn.Parameter(tg.zeros(1))
    p.grad_fn = (p * 2).grad_fn                # a Parameter that pretends to be computed
    return p


def test_parameter_is_a_leaf_tensor_sharing_memory():
    t = tg.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, tg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.array is t.array
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is tg.Tensor            # results of ops are plain tensors
    assert repr(p).startswith("Parameter containing:\ntensor([[")
    assert repr(p).endswith("requires_grad=True)")
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(tg.arange(3))


def test_children_modules_apply_and_get_submodule():
    block = Block(tg)
    assert [type(c).__name__ for c in block.children()] == ["Sequential", "Linear"]
    assert len(list(block.modules())) == 5     # block, inner, inner.0, inner.1, head
    seen = []
    block.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Sequential", "Linear", "Block"]   # children first
    assert block.get_submodule("inner.1") is block.inner[1]
    assert block.get_submodule("") is block
    with pytest.raises(AttributeError, match="no submodule 'x'"):
        block.get_submodule("inner.x")


def test_train_eval_recursive():
    block = Block(tg)
    assert block.training and block.inner[0].training
    assert block.eval() is block
    assert not any(m.training for m in block.modules())
    block.train()
    assert all(m.training for m in block.modules())
    with pytest.raises(ValueError, match="boolean"):
        block.train("no")


def test_requires_grad_and_zero_grad():
    m = nn.Linear(3, 2)
    m(tg.randn(4, 3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is not None and not host(m.weight.grad).any()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_state_dict_contents():
    block = Block(tg)
    state = block.state_dict()
    assert list(state) == ["scale", "count", "inner.0.weight", "inner.0.bias",
                           "inner.1.weight", "head.weight", "tied.0.weight", "tied.0.bias",
                           "tied.1.weight"]
    assert not isinstance(state["scale"], nn.Parameter) and not state["scale"].requires_grad
    assert state["scale"].array is block.scale.array            # detached, not copied
    assert isinstance(block.state_dict(keep_vars=True)["scale"], nn.Parameter)
    assert list(block.inner.state_dict(prefix="inner.")) == [
        "inner.0.weight", "inner.0.bias", "inner.1.weight"]


def test_load_state_dict_round_trip_keeps_parameter_objects():
    source, target = Block(tg), Block(tg)
    source.scale.data = tg.randn(3)
    weight = target.inner[0].weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert target.inner[0].weight is weight
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(host(a), host(b), err_msg=name)
    x = tg.randn(2, 3)
    np.testing.assert_array_equal(host(source(x)), host(target(x)))


def test_load_state_dict_assign_takes_the_checkpoint_tensors():
    m = nn.Linear(2, 3)
    state = {"weight": tg.randn(3, 2, dtype=tg.float64), "bias": tg.zeros(3, dtype=tg.float64)}
    m.load_state_dict(state, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert m.weight.array is state["weight"].array and m.bias.dtype == tg.float64
    assert list(m.state_dict()) == ["weight", "bias"]


def test_load_state_dict_errors_list_every_problem():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = m.state_dict()
    del state["1.bias"]
    state["0.bias"] = tg.zeros(4)
    state["2.weight"] = tg.zeros(1)
    state["extra"] = tg.zeros(1)
    with pytest.raises(RuntimeError) as error:
        m.load_state_dict(state)
    assert str(error.value) == (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tMissing key(s) in state_dict: "1.bias". \n'
        '\tUnexpected key(s) in state_dict: "2.weight", "extra". \n'
        "\tsize mismatch for 0.bias: copying a param with shape (4,) from checkpoint, the shape "
        "in current model is (3,).")
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        m.load_state_dict(state, strict=False)      # a shape mismatch is never skipped
    state["0.bias"] = tg.zeros(3)
    result = m.load_state_dict(state, strict=False)
    assert result == (["1.bias"], ["2.weight", "extra"])
    with pytest.raises(RuntimeError, match='expected a Tensor.*received str'):
        m.load_state_dict({**m.state_dict(), "0.bias": "zeros"})
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([1, 2])


def test_load_state_dict_accepts_arrays_and_casts():
    m = nn.Linear(2, 2)
    m.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)})
    assert m.weight.dtype == tg.float32
    np.testing.assert_array_equal(host(m.weight), np.eye(2))


def test_load_state_dict_reports_keys_whatever_strict():
    m = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU())
    state = {**m.state_dict(), "extra": tg.zeros(1), "0.weight.foo": tg.zeros(1),
             "0.bias": tg.zeros(2), "0": tg.zeros(1), "1.x": tg.zeros(1)}
    result = m.load_state_dict(state, strict=False)     # a None bias or a module is no entry
    assert isinstance(result, tuple) and result._fields == ("missing_keys", "unexpected_keys")
    assert result == ([], ["extra", "0", "0.weight.foo", "0.bias", "1.x"])
    assert repr(result) == str(result) == (
        "_IncompatibleKeys(missing_keys=[], unexpected_keys="
        "['extra', '0', '0.weight.foo', '0.bias', '1.x'])")
    with pytest.raises(RuntimeError, match='Unexpected key.*"extra", "0", "0.weight.foo"'):
        m.load_state_dict(state)
    assert m.load_state_dict({}, strict=False) == (["0.weight"], [])


def test_load_state_dict_refuses_torch_tensors_with_the_conversion():
    TorchTensor = type("Tensor", (), {"__module__": "torch"})     # torch is not needed
    m = nn.Linear(2, 2)
    state = {"weight": TorchTensor(), "bias": TorchTensor()}
    message = ("the value for key 'weight' is a torch.Tensor, which tinygen does not read "
               "directly; convert the state dict first with "
               "{k: v.detach().cpu().numpy() for k, v in sd.items()}, or save it with safetensors")
    with pytest.raises(TypeError, match=re.escape(message)):
        m.load_state_dict(state)


def test_load_state_dict_reports_the_keys_pytorch_reports():
    torch = pytest.importorskip("torch")
    ours, theirs = _both()
    state = {k: v.numpy() for k, v in theirs.state_dict().items() if k != "head.weight"}
    state.update({k: np.zeros(1) for k in ["cache", "inner.1.bias", "inner", "scale.x",
                                          "tied.0.weight.foo", "nothing.x", "tied.1"]})
    expected = theirs.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()},
                                      strict=False)
    assert ours.load_state_dict(state, strict=False) == expected
    assert repr(ours.load_state_dict(state, strict=False)) == repr(expected)
    with pytest.raises(TypeError, match="is a torch.Tensor"):
        ours.load_state_dict(theirs.state_dict())
    ours.load_state_dict({k: v.detach().cpu().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3), dtype=np.float32)
    np.testing.assert_allclose(host(ours(tg.tensor(x))),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_to_dtype_keeps_parameter_identity_and_int_buffers():
    block = Block(tg)
    params = list(block.parameters())
    block(tg.randn(2, 3)).sum().backward()
    assert block.double() is block
    assert [p is q for p, q in zip(params, block.parameters())] == [True] * 4
    assert all(p.dtype == tg.float64 and p.grad.dtype == tg.float64 for p in params)
    assert block.count.dtype == tg.int64 and block.cache.dtype == tg.float64
    y = block(tg.randn(2, 3, dtype=tg.float64))
    assert y.dtype == tg.float64
    block.to(dtype=tg.float32).to("cpu")
    assert block.scale.dtype == tg.float32 and block.scale.device == "cpu"
    with pytest.raises(TypeError, match="floating point"):
        block.to(tg.int64)


def test_to_device_moves_everything(device):
    block = Block(tg).to(device)
    assert all(t.device == device for t in list(block.parameters()) + list(block.buffers()))
    assert block(tg.randn(2, 3, device=device)).device == device
    block.cpu()
    assert block.inner[0].weight.device == "cpu"


def test_deepcopy_gives_independent_parameters():
    block = Block(tg)
    clone = copy.deepcopy(block)
    assert clone.inner[0].weight is not block.inner[0].weight
    assert clone.head.weight is clone.inner[1].weight                  # tying survives
    np.testing.assert_array_equal(host(clone.inner[0].weight), host(block.inner[0].weight))
    with tg.no_grad():
        clone.inner[0].weight.add_(1.0)
    assert not np.allclose(host(clone.inner[0].weight), host(block.inner[0].weight))


def test_repr_equals_pytorch():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Linear(4, 8), lib.nn.Flatten(), lib.nn.Unflatten(1, (2, 4)),
            lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)] + [lib.nn.Identity()]),
            lib.nn.ModuleDict({"a": lib.nn.Linear(1, 1, bias=False),
                               "b": lib.nn.Sequential()}),
            lib.nn.ModuleList())
    assert repr(build(tg)) == repr(build(torch))
    ours, theirs = _both()
    assert repr(ours) == repr(theirs)
