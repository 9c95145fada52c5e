"""Activation modules: they equal their functional forms, keep PyTorch's constructor arguments
and reprs, and reject bad arguments clearly."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import nn

MODULES = [
    (nn.ReLU(), F.relu, "ReLU()"),
    (nn.ReLU(inplace=True), F.relu, "ReLU(inplace=True)"),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2), "LeakyReLU(negative_slope=0.2)"),
    (nn.GELU(), F.gelu, "GELU(approximate='none')"),
    (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh"), "GELU(approximate='tanh')"),
    (nn.SiLU(), F.silu, "SiLU()"),
    (nn.Tanh(), tg.tanh, "Tanh()"),
    (nn.Sigmoid(), tg.sigmoid, "Sigmoid()"),
    (nn.Softmax(dim=1), lambda x: tg.softmax(x, 1), "Softmax(dim=1)"),
]


@pytest.mark.parametrize("module, fn, text", MODULES, ids=[m[2] for m in MODULES])
def test_module_equals_functional(module, fn, text, rng):
    a = rng.standard_normal((3, 4))
    np.testing.assert_allclose(host(module(tg.tensor(a))), host(fn(tg.tensor(a))), rtol=1e-12)
    assert repr(module) == text
    assert list(module.parameters()) == []


def test_bad_arguments():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="dim"):
        nn.Softmax()(tg.ones(2, 3))


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    pairs = [(nn.LeakyReLU(0.2, True), torch.nn.LeakyReLU(0.2, True)),
             (nn.GELU("tanh"), torch.nn.GELU("tanh")), (nn.Softmax(-1), torch.nn.Softmax(-1)),
             (nn.SiLU(), torch.nn.SiLU()), (nn.ReLU(True), torch.nn.ReLU(True))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
