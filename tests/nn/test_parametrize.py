"""nn.utils.parametrize: the computed property on a per-instance class, PyTorch's state-dict
layout, chaining, right_inverse on assignment, removal, caching and the safety checks."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn, optim
from tinygen.nn.utils import parametrize as P
from tests.helpers import host


class Symmetric(nn.Module):
    """X -> the symmetric matrix with X's upper triangle."""

    def forward(self, X):
        return X.triu() + X.triu(1).transpose(0, 1)

    def right_inverse(self, A):
        return A.triu()


class Double(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, Y):
        return Y / 2


class Rows(nn.Module):
    """Changes the shape: allowed only with unsafe=True."""

    def forward(self, X):
        return X[:1]


def test_register_makes_weight_a_property_with_torch_keys(rng):
    layer = nn.Linear(3, 3)
    original = layer.weight
    P.register_parametrization(layer, "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear"
    assert P.type_before_parametrizations(layer) is nn.Linear
    assert isinstance(layer, nn.Linear) and type(nn.Linear(2, 2)) is nn.Linear
    assert P.is_parametrized(layer) and P.is_parametrized(layer, "weight")
    assert not P.is_parametrized(layer, "bias")
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert layer.parametrizations.weight.original is original
    w = host(layer.weight)
    np.testing.assert_array_equal(w, w.T)
    np.testing.assert_array_equal(np.triu(w), np.triu(host(original)))
    assert "ParametrizationList(" in repr(layer)


def test_gradient_reaches_the_original(rng):
    layer = nn.Linear(3, 3).double()
    P.register_parametrization(layer, "weight", Symmetric())
    x = tg.tensor(rng.standard_normal((4, 3)))
    layer(x).sum().backward()
    grad_w = np.ones((4, 3)).T @ host(x)                  # dL/dW for L = sum(x W^T)
    expected = np.triu(grad_w + grad_w.T)
    expected[np.diag_indices(3)] /= 2
    np.testing.assert_allclose(host(layer.parametrizations.weight.original.grad), expected)


def test_chaining_and_assignment_use_right_inverse(rng):
    layer = nn.Linear(3, 3).double()
    P.register_parametrization(layer, "weight", Symmetric())
    P.register_parametrization(layer, "weight", Double())
    assert len(layer.parametrizations.weight) == 2
    a = rng.standard_normal((3, 3))
    target = tg.tensor(a + a.T)
    layer.weight = target
    np.testing.assert_allclose(host(layer.weight), host(target))
    np.testing.assert_allclose(host(layer.parametrizations.weight.original),
                               np.triu(a + a.T) / 2)


def test_assigning_a_parameter_to_a_parametrized_name_raises():
    layer = nn.Linear(3, 3)
    P.register_parametrization(layer, "weight", Symmetric())
    with pytest.raises(KeyError, match="already exists"):
        layer.weight = nn.Parameter(tg.zeros(3, 3))


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_restores_class_and_keeps_the_parameter_object(leave_parametrized):
    layer = nn.Linear(3, 3)
    original = layer.weight
    before = host(original).copy()
    opt = optim.SGD(layer.parameters(), lr=0.1)
    P.register_parametrization(layer, "weight", Symmetric())
    after = host(layer.weight)
    P.remove_parametrizations(layer, "weight", leave_parametrized=leave_parametrized)
    assert type(layer) is nn.Linear and not P.is_parametrized(layer)
    assert "parametrizations" not in layer._modules
    assert layer.weight is original
    assert any(p is original for p in opt.param_groups[0]["params"])
    # right_inverse ran at registration: the original holds triu(weight)
    expected = after if leave_parametrized else np.triu(before)
    np.testing.assert_array_equal(host(layer.weight), expected)
    assert list(layer.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(layer, "weight")


def test_one_instance_only():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    P.register_parametrization(a, "weight", Double())
    assert type(b) is nn.Linear and isinstance(b.weight, nn.Parameter)
    P.register_parametrization(b, "bias", Double())
    assert list(a.state_dict()) == ["bias", "parametrizations.weight.original"]
    P.remove_parametrizations(b, "bias")
    np.testing.assert_allclose(host(a.weight), 2 * host(a.parametrizations.weight.original))


def test_parametrize_a_buffer():
    bn = nn.BatchNorm1d(3)
    P.register_parametrization(bn, "running_var", Double())
    # right_inverse at registration keeps the value: the original is halved
    np.testing.assert_array_equal(host(bn.state_dict()["parametrizations.running_var.original"]),
                                  0.5 * np.ones(3))
    np.testing.assert_array_equal(host(bn.running_var), np.ones(3))


def test_shape_change_needs_unsafe():
    with pytest.raises(ValueError, match=r"shape \(3, 3\).*\n.*shape \(1, 3\)"):
        P.register_parametrization(nn.Linear(3, 3), "weight", Rows())
    layer = P.register_parametrization(nn.Linear(3, 3), "weight", Rows(), unsafe=True)
    assert tuple(layer.weight.shape) == (1, 3)


def test_unknown_name_raises():
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'kernel'"):
        P.register_parametrization(nn.Linear(3, 3), "kernel", Double())


def test_cached_computes_once():
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1

    layer = P.register_parametrization(nn.Linear(2, 2), "weight", Counting())
    calls.clear()
    with P.cached():
        w1, w2 = layer.weight, layer.weight
    assert w1 is w2 and len(calls) == 1
    layer.weight
    assert len(calls) == 2


def test_state_dict_matches_torch_and_loads(rng):
    torch = pytest.importorskip("torch")
    import torch.nn.utils.parametrize as TP

    class TorchSymmetric(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(0, 1)

    layer = P.register_parametrization(nn.Linear(3, 3).double(), "weight", Symmetric())
    torch_layer = torch.nn.Linear(3, 3).double()
    TP.register_parametrization(torch_layer, "weight", TorchSymmetric())
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    layer.load_state_dict({k: v.detach().numpy() for k, v in torch_layer.state_dict().items()})
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(host(layer(tg.tensor(x))),
                               torch_layer(torch.tensor(x)).detach().numpy(), rtol=1e-10,
                               atol=1e-12)
