"""tg.is_tensor, numel, is_floating_point, is_same_size, result_type, promote_types, can_cast,
finfo, iinfo, get_default_device, scalar_tensor and asarray, against PyTorch's answers."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import shares_memory

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


def test_tensor_questions():
    x = tg.zeros(2, 3)
    assert tg.is_tensor(x) and tg.is_tensor(tg.nn.Parameter(x))
    assert not tg.is_tensor(x.numpy()) and not tg.is_tensor([1])
    assert tg.numel(x) == 6 and tg.numel(tg.tensor(1.0)) == 1
    assert tg.is_floating_point(x) and not tg.is_floating_point(tg.tensor([1]))
    assert tg.is_same_size(x, tg.ones(2, 3)) and not tg.is_same_size(x, tg.ones(3, 2))


OPERANDS = {
    "int32 vec, float": (lambda m: m.tensor([1], dtype=m.int32), 1.0),
    "int32 vec, int64 0-d": (lambda m: m.tensor([1], dtype=m.int32), lambda m: m.tensor(1)),
    "float32 0-d, float64 0-d": (lambda m: m.tensor(1.0), lambda m: m.tensor(1.0, dtype=m.float64)),
    "uint8 vec, bool": (lambda m: m.tensor([1], dtype=m.uint8), True),
    "int, float": (1, 2.0),
    "int, bool": (1, True),
    "bool 0-d, int": (lambda m: m.tensor(True), 3),
    "int, float16 vec": (2, lambda m: m.tensor([1.0], dtype=m.float16)),
}


@pytest.mark.parametrize("a, b", OPERANDS.values(), ids=OPERANDS.keys())
def test_result_type_matches_pytorch(a, b):
    torch = pytest.importorskip("torch")
    make = (lambda v, m: v(m) if callable(v) else v)
    expected = torch.result_type(make(a, torch), make(b, torch))
    assert tg.result_type(make(a, tg), make(b, tg)) == np.dtype(str(expected).split(".")[1])


def test_result_type_refuses_other_things():
    with pytest.raises(TypeError):
        tg.result_type(tg.ones(1), "x")


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_promote_types_and_can_cast_match_pytorch(a, b):
    torch = pytest.importorskip("torch")
    ta, tb = getattr(torch, a), getattr(torch, b)
    assert tg.promote_types(getattr(tg, a), getattr(tg, b)) == \
        np.dtype(str(torch.promote_types(ta, tb)).split(".")[1])
    assert tg.can_cast(getattr(tg, a), getattr(tg, b)) == torch.can_cast(ta, tb)


def test_promote_types_follows_pytorch_where_numpy_differs():
    assert tg.promote_types(tg.int64, tg.float16) == tg.float16
    assert not tg.can_cast(tg.float32, tg.int64) and tg.can_cast(tg.float64, tg.float16)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tg.finfo(getattr(tg, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


@pytest.mark.parametrize("name", ["uint8", "int32", "int64"])
def test_iinfo_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = tg.iinfo(getattr(tg, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_finfo_defaults_and_errors():
    assert tg.finfo().dtype == "float32" and tg.finfo(tg.float32).eps == 2.0 ** -23
    assert "eps=" in repr(tg.finfo()) and "max=255" in repr(tg.iinfo(tg.uint8))
    with pytest.raises(TypeError, match="iinfo"):
        tg.finfo(tg.int32)
    with pytest.raises(TypeError, match="finfo"):
        tg.iinfo(tg.float32)
    with pytest.raises(TypeError):
        tg.iinfo(tg.bool)                              # as in PyTorch


def test_get_default_device():
    assert tg.get_default_device() == "cpu"


def test_scalar_tensor_is_0_dim_in_the_default_float_dtype():
    s = tg.scalar_tensor(3)
    assert s.shape == () and s.dtype == tg.float32 and s.item() == 3.0
    assert tg.scalar_tensor(2, dtype=tg.int64).dtype == tg.int64
    assert tg.scalar_tensor(1.5, requires_grad=True).requires_grad


def test_asarray_shares_memory_when_it_can():
    array = np.arange(4.0)
    t = tg.asarray(array)
    assert t.dtype == tg.float64 and shares_memory(t.array, array)
    x = tg.ones(3, requires_grad=True)
    assert tg.asarray(x) is x                          # PyTorch 2.13 returns the tensor itself
    detached = tg.asarray(x, requires_grad=False)
    assert not detached.requires_grad and shares_memory(detached.array, x.array)
    assert tg.asarray([1, 2]).dtype == tg.int64 and tg.asarray(1.5).dtype == tg.float32
    assert not shares_memory(tg.asarray(array, copy=True).array, array)
    assert tg.asarray(array, dtype=tg.float32).dtype == tg.float32


def test_asarray_copy_false_refuses_to_copy():
    with pytest.raises(ValueError, match="without a copy"):
        tg.asarray([1, 2], copy=False)
    with pytest.raises(ValueError, match="without a copy"):
        tg.asarray(np.arange(3.0), dtype=tg.float32, copy=False)
    assert tg.asarray(np.arange(3.0), copy=False).shape == (3,)
