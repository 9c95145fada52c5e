"""Sequential, ModuleList, ModuleDict: indexing, slicing, editing, and that what they hold is
registered (parameters and state-dict names) as in PyTorch."""

from collections import OrderedDict

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tests.helpers import host


def _layers(n):
    return [nn.Linear(i + 1, i + 2) for i in range(n)]


def test_sequential_calls_in_order():
    a, b = nn.Linear(3, 4), nn.Linear(4, 2)
    seq = nn.Sequential(a, nn.Identity(), b)
    x = tg.randn(5, 3)
    np.testing.assert_allclose(host(seq(x)), host(b(a(x))), rtol=1e-6)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_sequential_indexing_and_slicing():
    layers = _layers(4)
    seq = nn.Sequential(*layers)
    assert len(seq) == 4 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[3] and seq[-4] is layers[0]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:3]
    assert list(sub._modules) == ["1", "2"]                # slicing keeps names, as PyTorch
    assert list(seq[::-2]) == [layers[3], layers[1]]
    with pytest.raises(IndexError, match="out of range"):
        seq[4]
    with pytest.raises(IndexError, match="out of range"):
        seq[-5]


def test_sequential_editing():
    layers = _layers(3)
    seq = nn.Sequential(*layers[:2])
    assert seq.append(layers[2]) is seq and seq[2] is layers[2]
    extra = nn.Identity()
    seq[1] = extra
    assert seq[1] is extra and seq._modules["1"] is extra
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and seq[0] is extra       # renumbered
    seq.insert(0, layers[0])
    assert list(seq) == [layers[0], extra, layers[2]]
    assert seq.pop(1) is extra and len(seq) == 2
    seq.extend([nn.Identity()])
    assert len(seq) == 3


def test_sequential_from_ordered_dict_keeps_names():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Identity())]))
    assert seq.fc is seq[0]
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert "fc" in dir(seq) and "0" not in dir(seq)
    assert isinstance(seq[:1], nn.Sequential) and list(seq[:1]._modules) == ["fc"]


def test_sequential_names_equal_pytorch():
    torch = pytest.importorskip("torch")

    def build(lib):
        inner = lib.nn.Sequential(OrderedDict([("a", lib.nn.Linear(2, 2))]))
        return lib.nn.Sequential(lib.nn.Linear(2, 2), inner, lib.nn.Linear(2, 1))
    assert list(build(tg).state_dict()) == list(build(torch).state_dict())


def test_module_list():
    layers = _layers(4)
    ml = nn.ModuleList(layers[:2])
    ml.append(layers[2])
    ml.extend([layers[3]])
    assert len(ml) == 4 and list(ml) == layers
    assert ml[-1] is layers[3] and list(ml[1:3]) == layers[1:3]
    assert isinstance(ml[1:3], nn.ModuleList)
    ml.insert(1, nn.Identity())
    assert isinstance(ml[1], nn.Identity) and ml[2] is layers[1] and len(ml) == 5
    del ml[1]
    assert list(ml) == layers
    ml += [nn.Identity()]
    assert len(ml) == 5 and len(ml + ml) == 10
    assert ml.pop() is not None and len(ml) == 4
    ml[0] = nn.Identity()
    assert isinstance(ml[0], nn.Identity)
    names = [n for n, _ in ml.named_parameters()]
    assert names == ["1.weight", "1.bias", "2.weight", "2.bias", "3.weight", "3.bias"]
    with pytest.raises(IndexError, match="out of range"):
        ml[10]
    with pytest.raises(TypeError, match="not a Module"):
        ml.append(3)
    with pytest.raises(NotImplementedError, match="forward"):
        ml(tg.zeros(1))


def test_module_list_registers_in_owner():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))

    assert [n for n, _ in Net().named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]


def test_module_dict():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(md) == ["enc", "dec"] and len(md) == 2 and "enc" in md
    assert list(md.keys()) == ["enc", "dec"]
    assert [type(m).__name__ for m in md.values()] == ["Linear", "Linear"]
    md["act"] = nn.Identity()
    md.update([("out", nn.Identity())])
    md.update(nn.ModuleDict({"x": nn.Identity()}))
    assert list(md) == ["enc", "dec", "act", "out", "x"]
    assert md.enc is md["enc"]
    assert md.pop("x") is not None and "x" not in md
    del md["out"]
    assert [k for k, _ in md.items()] == ["enc", "dec", "act"]
    assert list(md.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    md.clear()
    assert len(md) == 0 and list(md.parameters()) == []
    with pytest.raises(KeyError):
        md["missing"]
