"""ParameterList and ParameterDict: registration, PyTorch's state-dict names, tensors wrapped as
Parameters, list/dict behaviour, reprs, and state dicts moving to and from PyTorch."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen import nn


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterList([tg.ones(2), nn.Parameter(tg.zeros(3, 4))])
        self.extra = nn.ParameterDict({"gain": tg.ones(5)})


def test_registration_and_names():
    model = Holder()
    assert list(model.state_dict()) == ["scales.0", "scales.1", "extra.gain"]
    assert len(list(model.parameters())) == 3
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


def test_list_behaviour():
    params = nn.ParameterList()
    params.append(tg.zeros(1)).extend([tg.zeros(2), tg.zeros(3)])
    params += [tg.zeros(4)]
    assert len(params) == 4 and [p.shape[0] for p in params] == [1, 2, 3, 4]
    assert params[-1].shape == (4,) and isinstance(params[1:3], nn.ParameterList)
    params[0] = tg.ones(6)
    assert params[0].shape == (6,) and isinstance(params[0], nn.Parameter)
    with pytest.raises(IndexError, match="out of range"):
        params[4]
    assert "0" not in dir(params)


def test_dict_behaviour():
    params = nn.ParameterDict({"a": tg.zeros(1)})
    params.update([("b", tg.zeros(2))])
    params["c"] = nn.Parameter(tg.zeros(3))
    assert list(params) == ["a", "b", "c"] and "b" in params and len(params) == 3
    assert params.pop("a").shape == (1,) and list(params.keys()) == ["b", "c"]
    assert params.get("zzz") is None
    del params["b"]
    assert list(dict(params.named_parameters())) == ["c"]


def test_reprs():
    assert repr(nn.ParameterList([tg.zeros(2, 3), tg.zeros(4)])) == (
        "ParameterList(\n  (0): Parameter containing: [float32 of size 2x3]\n"
        "  (1): Parameter containing: [float32 of size 4]\n)")
    assert repr(nn.ParameterDict({"a": tg.zeros(2)})) == (
        "ParameterDict((a): Parameter containing: [float32 of size 2])")


def test_state_dict_moves_between_tinygen_and_torch(rng):
    torch = pytest.importorskip("torch")

    class TorchHolder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = torch.nn.ParameterList([torch.ones(2), torch.zeros(3, 4)])
            self.extra = torch.nn.ParameterDict({"gain": torch.ones(5)})

    theirs = TorchHolder()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    ours = Holder()
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(host(ours.state_dict()[key]), value.numpy())
