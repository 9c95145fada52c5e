"""nn.Bilinear and F.bilinear: the formula by hand, gradcheck, PyTorch parity and init."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import nn
from tests.helpers import host, leaf64


@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
def test_bilinear_matches_einsum(device, rng, batch):
    x1, x2 = leaf64(rng, *batch, 3, device=device), leaf64(rng, *batch, 4, device=device)
    w, b = leaf64(rng, 2, 3, 4, device=device), leaf64(rng, 2, device=device)
    expected = np.einsum("...i,oij,...j->...o", host(x1), host(w), host(x2)) + host(b)
    np.testing.assert_allclose(host(F.bilinear(x1, x2, w, b)), expected, rtol=1e-10, atol=1e-12)


def test_bilinear_gradcheck(device, rng):
    x1, x2 = leaf64(rng, 4, 3, device=device), leaf64(rng, 4, 2, device=device)
    w, b = leaf64(rng, 5, 3, 2, device=device), leaf64(rng, 5, device=device)
    assert tg.autograd.gradcheck(F.bilinear, (x1, x2, w, b))
    assert tg.autograd.gradgradcheck(F.bilinear, (x1, x2, w, b))


def test_bilinear_module_matches_torch(rng):
    torch = pytest.importorskip("torch")
    with torch.random.fork_rng():        # leave torch's global RNG to the tests that seed it
        torch_layer = torch.nn.Bilinear(3, 4, 5).double()
    layer = nn.Bilinear(3, 4, 5).double()
    layer.load_state_dict({k: v.detach().numpy() for k, v in torch_layer.state_dict().items()})
    x1, x2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 4))
    g = rng.standard_normal((6, 5))
    xs = [tg.tensor(x, requires_grad=True) for x in (x1, x2)]
    txs = [torch.tensor(x, requires_grad=True) for x in (x1, x2)]
    y, ty = layer(*xs), torch_layer(*txs)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(host(getattr(layer, name).grad),
                                   getattr(torch_layer, name).grad.numpy(), rtol=1e-10, atol=1e-12)
    assert repr(layer) == repr(torch_layer)


def test_bilinear_init_and_no_bias():
    layer = nn.Bilinear(16, 3, 200, bias=False)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    w = host(layer.weight)
    assert w.shape == (200, 16, 3)
    assert 0.2 < np.abs(w).max() <= 0.25             # uniform in +-1/sqrt(in1_features)


def test_bilinear_shape_errors(rng):
    w = tg.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"batch dimensions do not match.*\(5, 3\).*\(6, 4\)"):
        F.bilinear(tg.randn(5, 3), tg.randn(6, 4), w)
    with pytest.raises(RuntimeError, match=r"weight of shape \(2, 3, 4\)"):
        F.bilinear(tg.randn(5, 3), tg.randn(5, 5), w)


def test_integer_inputs_keep_their_dtype():
    # PyTorch's bilinear on int32 gives int32, not the int64 that a plain sum promotes to
    x1 = np.array([[1, 2]], dtype=np.int32)
    x2 = np.array([[3, -1, 2]], dtype=np.int32)
    w = np.arange(12, dtype=np.int32).reshape(2, 2, 3)
    y = F.bilinear(tg.tensor(x1), tg.tensor(x2), tg.tensor(w))
    assert y.dtype == tg.int32
    np.testing.assert_array_equal(host(y), np.einsum("bi,oij,bj->bo", x1, w, x2))
