"""Padding layers: NumPy's np.pad as the reference for each mode, reprs, gradients, errors, and
PyTorch's values."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.autograd import gradcheck

NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("layer, mode, dims", [
    (nn.ReflectionPad2d, "reflect", 2), (nn.ReplicationPad2d, "replicate", 2),
    (nn.CircularPad2d, "circular", 2), (nn.ReflectionPad1d, "reflect", 1),
    (nn.ReplicationPad1d, "replicate", 1), (nn.CircularPad1d, "circular", 1),
])
def test_copy_modes_match_numpy_and_gradcheck(rng, device, layer, mode, dims):
    padding = (1, 2, 3, 0)[:2 * dims]
    x = leaf64(rng, *(2, 3, 4, 5)[2 - dims:], device=device)  # batched: N, C, *dims
    widths = [(0, 0)] * 2 + [(padding[2 * i], padding[2 * i + 1])
                                      for i in range(dims)][::-1]
    y = layer(padding)(x)
    np.testing.assert_allclose(host(y), np.pad(host(x), widths, mode=NUMPY_MODE[mode]))
    assert gradcheck(layer(padding), (x,))


def test_constant_and_zero_pads(rng):
    x = leaf64(rng, 1, 2, 3)
    np.testing.assert_allclose(host(nn.ConstantPad2d((1, 0, 2, 1), 3.5)(x)),
                               np.pad(host(x), ((0, 0), (2, 1), (1, 0)), constant_values=3.5))
    np.testing.assert_allclose(host(nn.ZeroPad2d(1)(x)), np.pad(host(x), ((0, 0), (1, 1), (1, 1))))
    np.testing.assert_allclose(host(nn.ZeroPad1d((0, 2))(x)), np.pad(host(x), ((0, 0), (0, 0),
                                                                               (0, 2))))
    np.testing.assert_allclose(host(nn.ConstantPad1d(1, -1.0)(x)),
                               np.pad(host(x), ((0, 0), (0, 0), (1, 1)), constant_values=-1))
    assert gradcheck(nn.ZeroPad2d((1, 2, 0, 1)), (x,))


def test_reprs_match_pytorch():
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ZeroPad2d((1, 2, 3, 4))) == "ZeroPad2d((1, 2, 3, 4))"
    assert repr(nn.ConstantPad2d((1, 2, 3, 4), 3.5)) == (
        "ConstantPad2d(padding=(1, 2, 3, 4), value=3.5)")
    assert repr(nn.ConstantPad1d(2, 1.0)) == "ConstantPad1d(padding=(2, 2), value=1.0)"
    assert repr(nn.ReflectionPad2d(2)) == "ReflectionPad2d((2, 2, 2, 2))"
    assert repr(nn.ReplicationPad2d((1, 2, 3, 4))) == "ReplicationPad2d((1, 2, 3, 4))"
    assert repr(nn.ReflectionPad1d(2)) == "ReflectionPad1d((2, 2))"
    assert repr(nn.CircularPad2d(1)) == "CircularPad2d((1, 1, 1, 1))"


def test_errors():
    with pytest.raises(ValueError, match="tuple of 4 ints"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(RuntimeError, match="smaller than the input size"):
        nn.ReflectionPad2d(3)(tg.zeros(1, 1, 3, 3))


@pytest.mark.parametrize("layer, bad_shape, message", [
    (nn.CircularPad1d, (2, 3, 4, 5), "expected 2D or 3D input \\(got 4D input\\)"),
    (nn.CircularPad2d, (2, 3), "expected 3D or 4D input \\(got 2D input\\)"),
    (nn.CircularPad3d, (2, 3, 4), "expected 4D or 5D input \\(got 3D input\\)"),
])
def test_circular_pad_modules_check_input_dims(layer, bad_shape, message):
    """As in PyTorch the circular pad modules take only (un)batched inputs of their rank."""
    with pytest.raises(ValueError, match=message):
        layer(1)(tg.zeros(*bad_shape))
    assert layer(1)(tg.zeros(*bad_shape[:1], *(3,) * layer.dims)).ndim == 1 + layer.dims


@pytest.mark.parametrize("name, padding", [
    ("ReflectionPad2d", (2, 1, 0, 3)), ("ReplicationPad2d", 2), ("CircularPad2d", (1, 2, 2, 1)),
    ("ZeroPad2d", (1, 0, 2, 3)), ("ReflectionPad1d", (3, 1)),
])
def test_match_torch(rng, name, padding):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 5, 6) if name.endswith("2d") else (2, 3, 6))
    ours, theirs = getattr(nn, name)(padding), getattr(torch.nn, name)(padding)
    np.testing.assert_allclose(host(ours(tg.tensor(x))), theirs(torch.tensor(x)).numpy())
    assert repr(ours) == repr(theirs)
