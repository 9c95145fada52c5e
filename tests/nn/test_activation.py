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
    (nn.LogSoftmax(dim=0), lambda x: tg.log_softmax(x, 0), "LogSoftmax(dim=0)"),
    (nn.Softmin(dim=1), lambda x: F.softmin(x, 1), "Softmin(dim=1)"),
    (nn.ELU(), F.elu, "ELU(alpha=1.0)"),
    (nn.ELU(0.5, inplace=True), lambda x: F.elu(x, 0.5), "ELU(alpha=0.5, inplace=True)"),
    (nn.SELU(), F.selu, "SELU()"),
    (nn.CELU(2.0), lambda x: F.celu(x, 2.0), "CELU(alpha=2.0)"),
    (nn.Softplus(), F.softplus, "Softplus(beta=1.0, threshold=20.0)"),
    (nn.Softplus(2, 5), lambda x: F.softplus(x, 2, 5), "Softplus(beta=2, threshold=5)"),
    (nn.Mish(), F.mish, "Mish()"),
    (nn.Hardtanh(), F.hardtanh, "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Hardtanh(-2.0, 2.0, True), lambda x: F.hardtanh(x, -2.0, 2.0),
     "Hardtanh(min_val=-2.0, max_val=2.0, inplace=True)"),
    (nn.ReLU6(), F.relu6, "ReLU6()"),
    (nn.Threshold(0.1, 20), lambda x: F.threshold(x, 0.1, 20),
     "Threshold(threshold=0.1, value=20)"),
    (nn.Hardswish(), F.hardswish, "Hardswish()"),
    (nn.Hardsigmoid(inplace=True), F.hardsigmoid, "Hardsigmoid()"),
    (nn.LogSigmoid(), F.logsigmoid, "LogSigmoid()"),
    (nn.Softsign(), F.softsign, "Softsign()"),
    (nn.Tanhshrink(), F.tanhshrink, "Tanhshrink()"),
    (nn.GLU(), F.glu, "GLU(dim=-1)"),
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
    for module in (nn.Softmax(), nn.LogSoftmax(), nn.Softmin()):
        with pytest.raises(ValueError, match="dim"):
            module(tg.ones(2, 3))
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)


def test_inplace_module_writes_into_its_input(rng):
    a = rng.uniform(-3, 3, (3, 4))
    x = tg.tensor(a)
    assert nn.ELU(inplace=True)(x) is x
    np.testing.assert_allclose(host(x), host(F.elu(tg.tensor(a))))


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_module(num_parameters, rng):
    m = nn.PReLU(num_parameters, init=0.1)
    assert repr(m) == f"PReLU(num_parameters={num_parameters})"
    assert [name for name, _ in m.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(host(m.weight), np.full(num_parameters, 0.1, np.float32))
    x = tg.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    y = m(x)
    a = host(x)
    np.testing.assert_allclose(host(y), np.where(a > 0, a, 0.1 * a), rtol=1e-6)
    y.sum().backward()
    expected = np.minimum(a, 0).sum() if num_parameters == 1 else np.minimum(a, 0).sum((0, 2))
    np.testing.assert_allclose(host(m.weight.grad), np.atleast_1d(expected), rtol=1e-5)


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    pairs = [(nn.LeakyReLU(0.2, True), torch.nn.LeakyReLU(0.2, True)),
             (nn.GELU("tanh"), torch.nn.GELU("tanh")), (nn.Softmax(-1), torch.nn.Softmax(-1)),
             (nn.SiLU(), torch.nn.SiLU()), (nn.ReLU(True), torch.nn.ReLU(True))]
    tnn = torch.nn
    pairs += [(nn.ELU(0.5, True), tnn.ELU(0.5, True)), (nn.SELU(True), tnn.SELU(True)),
              (nn.CELU(), tnn.CELU()), (nn.Softplus(), tnn.Softplus()),
              (nn.Softplus(2, 5), tnn.Softplus(2, 5)), (nn.Mish(True), tnn.Mish(True)),
              (nn.Hardtanh(-2.0, 3.0, True), tnn.Hardtanh(-2.0, 3.0, True)),
              (nn.ReLU6(True), tnn.ReLU6(True)), (nn.PReLU(4), tnn.PReLU(4)),
              (nn.GLU(1), tnn.GLU(1)), (nn.Hardswish(True), tnn.Hardswish(True)),
              (nn.Hardsigmoid(), tnn.Hardsigmoid()), (nn.LogSigmoid(), tnn.LogSigmoid()),
              (nn.Softsign(), tnn.Softsign()), (nn.Tanhshrink(), tnn.Tanhshrink()),
              (nn.Threshold(0.1, 20, True), tnn.Threshold(0.1, 20, True)),
              (nn.LogSoftmax(1), tnn.LogSoftmax(1)), (nn.Softmin(0), tnn.Softmin(0)),
              (nn.Tanh(), tnn.Tanh()), (nn.Sigmoid(), tnn.Sigmoid()),
              (nn.Hardshrink(), tnn.Hardshrink()), (nn.Softshrink(0.3), tnn.Softshrink(0.3))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("module, expected", [
    (nn.Hardshrink(0.5), [-2.0, 0.0, 0.0, 0.0, 2.0]),
    (nn.Softshrink(0.5), [-1.5, 0.0, 0.0, 0.0, 1.5]),
])
def test_shrink_modules(module, expected):
    x = tg.tensor([-2.0, -0.4, 0.0, 0.4, 2.0], dtype=tg.float64, requires_grad=True)
    y = module(x)
    np.testing.assert_array_equal(host(y), expected)
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [1.0, 0.0, 0.0, 0.0, 1.0])
