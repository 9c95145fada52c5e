"""Linear / F.linear (gradients, values, PyTorch's initialisation, weights imported from
PyTorch), Identity, Flatten, Unflatten."""

import math

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import nn
from tests.helpers import host, leaf64


@pytest.mark.parametrize("x_shape", [(5, 3), (3,), (2, 4, 3), (2, 1, 2, 3), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_grads(device, rng, x_shape, bias):
    x, w = leaf64(rng, *x_shape, device=device), leaf64(rng, 4, 3, device=device)
    b = leaf64(rng, 4, device=device) if bias else None
    inputs = (x, w, b) if bias else (x, w)
    assert tg.autograd.gradcheck(lambda *a: F.linear(*a), inputs)
    assert tg.autograd.gradgradcheck(lambda *a: F.linear(*a), inputs)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize("in_features, out_features, x_shape", [
    (0, 4, (5, 0)), (0, 4, (2, 5, 0)), (3, 0, (5, 3)), (3, 0, (2, 5, 3))])
def test_linear_with_no_features(in_features, out_features, x_shape):
    """No input features: y is the bias on every row (as PyTorch); no outputs: y is empty."""
    layer = nn.Linear(in_features, out_features)
    x = tg.randn(*x_shape, requires_grad=True)
    y = layer(x)
    assert y.shape == x_shape[:-1] + (out_features,)
    np.testing.assert_array_equal(host(y), np.broadcast_to(host(layer.bias), y.shape))
    y.sum().backward()
    assert x.grad.shape == x_shape and layer.weight.grad.shape == (out_features, in_features)
    np.testing.assert_array_equal(layer.bias.grad.cpu().numpy(),
                                  np.full(out_features, math.prod(x_shape[:-1])))


@pytest.mark.parametrize("x_shape", [(5, 3), (3,), (2, 4, 3)])
def test_linear_forward_equals_numpy(device, rng, x_shape):
    layer = nn.Linear(3, 4, device=device)
    x = tg.randn(*x_shape, device=device)
    expected = host(x) @ host(layer.weight).T + host(layer.bias)
    y = layer(x)
    assert y.shape == x_shape[:-1] + (4,) and y.dtype == tg.float32
    np.testing.assert_allclose(host(y), expected, rtol=1e-5, atol=1e-6)
    no_bias = nn.Linear(3, 4, bias=False, device=device)
    np.testing.assert_allclose(host(no_bias(x)), host(x) @ host(no_bias.weight).T, rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("x_shape", [(1, 256), (2, 256), (64, 256), (128, 256), (129, 256),
                                     (4, 32, 256)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_weight_first_product_equals_numpy(rng, x_shape, bias):
    """A batch of 2 to FEW_ROWS rows and a large weight are multiplied weight-first,
    (W @ x^T)^T: the result must equal x @ W^T + b and be C-contiguous, as on the other path."""
    from tinygen.nn.linear import FEW_ROWS, WEIGHT_FIRST_MIN_SIZE
    layer = nn.Linear(256, 512, bias=bias, dtype=tg.float64)
    assert layer.weight.numel() >= WEIGHT_FIRST_MIN_SIZE and FEW_ROWS == 128
    x = tg.tensor(rng.standard_normal(x_shape))
    expected = host(x) @ host(layer.weight).T + (host(layer.bias) if bias else 0)
    y = layer(x)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12, atol=1e-12)
    assert y.detach().cpu().numpy().flags.c_contiguous and y.view(-1).shape == (y.numel(),)


def test_linear_weight_first_product_gradcheck(rng):
    """The weight-first forward (few rows, a large weight) checked against finite differences
    in float64 with respect to its input; the weight's own gradient is the plain path's."""
    from tinygen.nn.linear import WEIGHT_FIRST_MIN_SIZE
    w = tg.tensor(rng.standard_normal((512, 256)) / 16, dtype=tg.float64)
    b = tg.tensor(rng.standard_normal(512), dtype=tg.float64)
    assert w.numel() >= WEIGHT_FIRST_MIN_SIZE
    x = leaf64(rng, 3, 256)
    assert tg.autograd.gradcheck(lambda x: F.linear(x, w, b), (x,))


def test_linear_layer_grads_reach_parameters(rng):
    layer = nn.Linear(3, 2, dtype=tg.float64)
    x = leaf64(rng, 4, 3)
    grad_y = rng.standard_normal((4, 2))
    layer(x).backward(tg.tensor(grad_y))
    np.testing.assert_allclose(host(layer.weight.grad), grad_y.T @ host(x))
    np.testing.assert_allclose(host(layer.bias.grad), grad_y.sum(0))
    np.testing.assert_allclose(host(x.grad), grad_y @ host(layer.weight))


def test_linear_attributes_and_repr():
    layer = nn.Linear(3, 5, bias=False, dtype=tg.float64)
    assert (layer.in_features, layer.out_features) == (3, 5)
    assert layer.weight.shape == (5, 3) and layer.weight.dtype == tg.float64
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    assert repr(layer) == "Linear(in_features=3, out_features=5, bias=False)"


@pytest.mark.parametrize("fan_in,fan_out", [(1, 3), (16, 300), (300, 40), (1000, 200)])
def test_default_init_matches_pytorch_distribution(fan_in, fan_out):
    """PyTorch draws weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    tg.manual_seed(fan_in)
    layer = nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    for t in (layer.weight, layer.bias):
        values = host(t)
        assert np.abs(values).max() <= bound
        if values.size >= 1000:               # U(-b, b) has std b / sqrt(3)
            assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3)
            assert abs(values.mean()) < 0.05 * bound
            assert np.abs(values).max() > 0.99 * bound


def test_default_init_bounds_equal_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(50, 2000), torch.nn.Linear(50, 2000)
    for a, b in [(ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
        a, b = host(a), b.detach().cpu().numpy()
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.01 * np.abs(b).max()
        assert abs(a.std() - b.std()) < 0.05 * b.std()


def test_weights_imported_from_pytorch_give_same_outputs():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 2, bias=False))
    ours = nn.Sequential(nn.Linear(6, 5), nn.Linear(5, 2, bias=False))
    ours.load_state_dict({k: v.cpu().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4, 6)).astype(np.float32)
    expected = theirs(torch.from_numpy(x)).detach().cpu().numpy()
    np.testing.assert_allclose(host(ours(tg.tensor(x))), expected, rtol=1e-5, atol=1e-6)


def test_linear_bad_input_is_a_clear_error():
    layer = nn.Linear(3, 4)
    with pytest.raises(RuntimeError, match=r"input of shape \(2, 5\).*in_features=3"):
        layer(tg.zeros(2, 5))
    with pytest.raises(RuntimeError, match="input of shape"):
        layer(tg.tensor(1.0))
    with pytest.raises(RuntimeError, match="dtype float64 but weight has float32"):
        layer(tg.zeros(2, 3, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="weight must be 2-D"):
        F.linear(tg.zeros(2, 3), tg.zeros(3))
    with pytest.raises(RuntimeError, match="bias of shape"):
        F.linear(tg.zeros(2, 3), tg.zeros(4, 3), tg.zeros(3))


def test_identity():
    x = tg.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x


@pytest.mark.parametrize("start_dim,end_dim,expected", [
    (1, -1, (2, 60)), (0, -1, (120,)), (1, 2, (2, 12, 5)), (-2, -1, (2, 3, 20)),
    (2, 2, (2, 3, 4, 5))])
def test_flatten(start_dim, end_dim, expected):
    x = tg.randn(2, 3, 4, 5)
    y = nn.Flatten(start_dim, end_dim)(x)
    assert y.shape == expected
    np.testing.assert_array_equal(host(y).reshape(-1), host(x).reshape(-1))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


@pytest.mark.parametrize("dim,size,expected", [
    (1, (3, 4), (2, 3, 4, 5)), (-1, (5, 1), (2, 12, 5, 1)), (1, (-1, 2), (2, 6, 2, 5)),
    (0, (1, 2), (1, 2, 12, 5))])
def test_unflatten(dim, size, expected):
    x = tg.randn(2, 12, 5)
    y = nn.Unflatten(dim, size)(x)
    assert y.shape == expected
    np.testing.assert_array_equal(host(y).reshape(-1), host(x).reshape(-1))


def test_unflatten_bad_size_and_round_trip():
    x = tg.randn(2, 3, 4, 4)
    flat = nn.Flatten()(x)
    np.testing.assert_array_equal(host(nn.Unflatten(1, (3, 4, 4))(flat)), host(x))
    with pytest.raises(RuntimeError, match=r"unflattened_size \(5, 5\)"):
        nn.Unflatten(1, (5, 5))(flat)
    with pytest.raises(RuntimeError, match="unflattened_size"):
        nn.Unflatten(1, (-1, 5))(flat)
    with pytest.raises(IndexError, match="out of range"):
        nn.Unflatten(4, (1, 1))(flat)
    assert repr(nn.Unflatten(1, (3, 4))) == "Unflatten(dim=1, unflattened_size=(3, 4))"
