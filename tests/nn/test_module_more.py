"""nn.Module's remaining surface: dotted-path lookups, extra state in the state dict (saved with
tg.save), state-dict hooks (order, arguments, removal, a load post-hook clearing keys), the
deprecated backward hook, module-global forward hooks, and to_empty/type/bfloat16/share_memory."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn


class Counter(nn.Module):
    """A Linear child and a Python counter kept as extra state."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)
        self.count = 0

    def get_extra_state(self):
        return {"count": self.count, "tag": "c"}

    def set_extra_state(self, state):
        self.count = state["count"]


def make_net():
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))


def test_get_parameter_buffer_and_errors():
    net = make_net()
    assert net.get_parameter("0.weight") is net[0].weight
    assert net.get_buffer("1.running_mean") is net[1].running_mean
    with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
        net.get_parameter("1.running_mean")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("0.weight")
    with pytest.raises(AttributeError, match="Linear has no attribute `nope`"):
        net.get_parameter("0.nope")


def test_set_submodule():
    net = make_net()
    new = nn.Linear(2, 3)
    net.set_submodule("0", new)
    assert net[0] is new and net.get_parameter("0.weight") is new.weight
    outer = nn.Sequential(net)
    outer.set_submodule("0.extra", nn.ReLU())          # not strict: added under the parent
    assert isinstance(outer[0].extra, nn.ReLU)
    with pytest.raises(AttributeError, match="has no attribute `other`"):
        outer.set_submodule("0.other", nn.ReLU(), strict=True)
    with pytest.raises(ValueError, match="without a target name"):
        net.set_submodule("", nn.ReLU())
    with pytest.raises(ValueError, match="is not an nn.Module"):
        net.set_submodule("0", 3)
    net.plain = 5
    with pytest.raises(AttributeError, match="`plain` is not an nn.Module"):
        net.set_submodule("plain", nn.ReLU())


def test_extra_state_round_trip_and_save(tmp_path):
    model = nn.Sequential(Counter())
    model[0].count = 7
    sd = model.state_dict()
    assert list(sd) == ["0._extra_state", "0.fc.weight", "0.fc.bias"]
    path = tmp_path / "m.safetensors"
    tg.save(sd, str(path))
    other = nn.Sequential(Counter())
    result = other.load_state_dict(tg.load(str(path)))
    assert other[0].count == 7 and not result.missing_keys
    np.testing.assert_array_equal(other[0].fc.weight.detach().numpy(),
                                  model[0].fc.weight.detach().numpy())
    del sd["0._extra_state"]
    with pytest.raises(RuntimeError, match='Missing key.*"0._extra_state"'):
        other.load_state_dict(sd)
    assert other.load_state_dict(sd, strict=False).missing_keys == ["0._extra_state"]
    # a module without set_extra_state reports the key as unexpected
    plain = nn.Sequential(nn.Linear(2, 3))
    sd = {**plain.state_dict(), "0._extra_state": 1}
    with pytest.raises(RuntimeError, match='Unexpected key.*"0._extra_state"'):
        plain.load_state_dict(sd)


def test_extra_state_matches_torch_keys():
    torch = pytest.importorskip("torch")

    class TorchCounter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 3)

        def get_extra_state(self):
            return 1

        def set_extra_state(self, state):
            pass
    assert list(torch.nn.Sequential(TorchCounter()).state_dict()) == list(
        nn.Sequential(Counter()).state_dict())


def test_state_dict_hooks_order_arguments_and_removal():
    net = make_net()
    log = []
    pre = net.register_state_dict_pre_hook(lambda m, prefix, keep: log.append(
        ("pre", m, prefix, keep)))
    net[0].register_state_dict_pre_hook(lambda m, prefix, keep: log.append(("child", prefix)))

    def post(module, sd, prefix, meta):
        log.append(("post", len(sd), prefix, meta["version"]))
        sd["extra"] = tg.zeros(1)
    post_handle = net.register_state_dict_post_hook(post)
    sd = net.state_dict(keep_vars=True)
    assert log == [("pre", net, "", True), ("child", "0."), ("post", 7, "", 1)]
    assert "extra" in sd
    pre.remove()
    post_handle.remove()
    log.clear()
    assert "extra" not in net.state_dict()
    assert log == [("child", "0.")]
    net.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd)
    with pytest.raises(RuntimeError, match="post-hook must return None"):
        net.state_dict()


def test_load_state_dict_hooks():
    net = make_net()
    sd = {**make_net().state_dict(), "junk": tg.zeros(1)}
    del sd["0.bias"]
    log = []

    def pre(module, state_dict, prefix, meta, strict, missing, unexpected, errors):
        log.append(("pre", prefix, strict))
        state_dict.pop("junk", None)           # a pre-hook may rewrite the checkpoint
    net.register_load_state_dict_pre_hook(pre)

    def clear(module, incompatible):
        log.append(("post", list(incompatible.missing_keys)))
        incompatible.missing_keys.clear()
    handle = net.register_load_state_dict_post_hook(clear)
    child = net[0].register_load_state_dict_post_hook(
        lambda m, keys: log.append(("child", list(keys.missing_keys))))
    result = net.load_state_dict(sd)           # strict, yet the hook cleared the missing key
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert log == [("pre", "", True), ("child", ["0.bias"]), ("post", ["0.bias"])]
    handle.remove()
    child.remove()
    with pytest.raises(RuntimeError, match='Missing key.*"0.bias"'):
        net.load_state_dict(sd)
    net.register_load_state_dict_post_hook(lambda m, keys: 1)
    with pytest.raises(AssertionError, match="not expected to return new values"):
        net.load_state_dict(sd, strict=False)


def test_register_backward_hook_sees_gradients():
    lin = nn.Linear(2, 1, bias=False).double()
    seen = []
    handle = lin.register_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
    x = tg.tensor([[1.0, 2.0]], dtype=tg.float64, requires_grad=True)
    lin(x).sum().backward()
    (grad_in,), (grad_out,) = seen[0]
    np.testing.assert_allclose(grad_out.numpy(), [[1.0]])
    np.testing.assert_allclose(grad_in.numpy(), lin.weight.detach().numpy())
    handle.remove()
    lin(x).sum().backward()
    assert len(seen) == 1


def test_global_forward_hooks():
    lin = nn.Linear(2, 2)
    with tg.no_grad():
        lin.weight.fill_(1.0)
        lin.bias.fill_(0.5)
    log = []
    own = lin.register_forward_pre_hook(lambda m, args: log.append("own"))
    pre = nn.modules.module.register_module_forward_pre_hook(
        lambda m, args: log.append(("global_pre", type(m).__name__)))
    post = nn.modules.module.register_module_forward_hook(lambda m, args, out: out * 0)
    try:
        out = lin(tg.ones(2))
        assert log == [("global_pre", "Linear"), "own"]
        np.testing.assert_array_equal(out.detach().numpy(), [0.0, 0.0])
    finally:
        pre.remove()
        post.remove()
    own.remove()
    log.clear()
    np.testing.assert_array_equal(lin(tg.ones(2)).detach().numpy(), [2.5, 2.5])
    assert log == []


def test_conversions():
    net = make_net()
    assert net.share_memory() is net
    weight = net[0].weight
    assert net.to_empty(device="cpu") is net
    assert net[0].weight is weight and weight.shape == (3, 2)
    net.type(tg.float64)
    assert net[0].weight.dtype == tg.float64 and net[1].num_batches_tracked.dtype == tg.float64
    with pytest.raises(TypeError, match="bfloat16 is not supported"):
        net.bfloat16()
