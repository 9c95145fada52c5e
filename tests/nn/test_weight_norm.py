"""Weight normalization, both forms: the parametrization (``nn.utils.parametrizations``, keys
``original0`` = g and ``original1`` = v) and the older forward pre-hook (``weight_g``,
``weight_v``). Torch-free checks, gradcheck, then PyTorch parity."""

import contextlib

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn.utils import parametrizations, parametrize, remove_weight_norm, weight_norm
from tinygen.nn.utils.weight_norm import weight_norm_from
from tests.helpers import host, leaf64


def _old_weight_norm(module, **kwargs):
    with pytest.warns(FutureWarning, match="deprecated"):
        return weight_norm(module, **kwargs)


@pytest.mark.parametrize("dim, g_shape", [(0, (4, 1, 1, 1)), (1, (1, 3, 1, 1)), (None, ()),
                                          (-3, (1, 3, 1, 1))])
def test_parametrization_reproduces_the_weight(dim, g_shape):
    conv = nn.Conv2d(3, 4, 2).double()
    weight = host(conv.weight).copy()
    parametrizations.weight_norm(conv, dim=dim)
    state = conv.state_dict()
    assert list(state) == ["bias", "parametrizations.weight.original0",
                           "parametrizations.weight.original1"]
    assert tuple(state["parametrizations.weight.original0"].shape) == g_shape
    np.testing.assert_allclose(host(conv.weight), weight, rtol=1e-12, atol=1e-14)
    norms = host(state["parametrizations.weight.original0"])
    w = np.moveaxis(weight, 0 if dim is None else dim, 0)
    expected = np.linalg.norm(weight) if dim is None else \
        np.linalg.norm(w.reshape(w.shape[0], -1), axis=1)
    np.testing.assert_allclose(norms.reshape(-1), np.reshape(expected, -1), rtol=1e-12)


def test_parametrization_scales_with_g_and_removes():
    layer = parametrizations.weight_norm(nn.Linear(3, 2).double())
    norms = np.linalg.norm(host(layer.weight), axis=1)
    with tg.no_grad():
        layer.parametrizations.weight.original0.mul_(2.0)        # g: the row norms
    np.testing.assert_allclose(np.linalg.norm(host(layer.weight), axis=1), 2 * norms)
    weight = host(layer.weight)
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(host(layer.weight), weight)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_weight_norm_gradcheck(rng, dim):
    v = leaf64(rng, 3, 4)
    g = leaf64(rng, *({0: (3, 1), 1: (1, 4), -1: ()}[dim]))
    assert tg.autograd.gradcheck(lambda v, g: weight_norm_from(v, g, dim), (v, g))


def test_hook_form_keys_and_remove(rng):
    layer = _old_weight_norm(nn.Linear(3, 2).double())
    assert list(layer.state_dict()) == ["bias", "weight_g", "weight_v"]
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        _old_weight_norm(layer)
    with tg.no_grad():
        layer.weight_g.mul_(3.0)
    x = tg.tensor(rng.standard_normal((2, 3)))
    y = host(layer(x))
    np.testing.assert_allclose(np.linalg.norm(host(layer.weight), axis=1),
                               3 * np.linalg.norm(host(layer.weight_v), axis=1))
    remove_weight_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"] and not layer._module_hooks
    np.testing.assert_allclose(host(layer(x)), y)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        remove_weight_norm(layer)


@pytest.mark.parametrize("form", ["parametrization", "hook"])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_matches_torch(rng, form, dim):
    torch = pytest.importorskip("torch")
    if form == "parametrization":
        wrap_tg = parametrizations.weight_norm
        wrap_torch = torch.nn.utils.parametrizations.weight_norm
    else:
        wrap_tg, wrap_torch = _old_weight_norm, torch.nn.utils.weight_norm
    layer = wrap_tg(nn.Conv2d(2, 3, 3).double(), dim=dim)
    with pytest.warns(FutureWarning) if form == "hook" else contextlib.nullcontext():
        torch_layer = wrap_torch(torch.nn.Conv2d(2, 3, 3).double(), dim=dim)
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    layer.load_state_dict({k: v.detach().numpy() for k, v in torch_layer.state_dict().items()})
    x = rng.standard_normal((2, 2, 5, 5))
    y, ty = layer(tg.tensor(x)), torch_layer(torch.tensor(x))
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(y.shape))
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    torch_params = dict(torch_layer.named_parameters())
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(host(p.grad), torch_params[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_parametrization_loads_a_hook_form_checkpoint(rng):
    torch = pytest.importorskip("torch")
    with pytest.warns(FutureWarning):
        torch_layer = torch.nn.utils.weight_norm(torch.nn.Linear(3, 4).double())
    layer = parametrizations.weight_norm(nn.Linear(3, 4).double())
    result = layer.load_state_dict({k: v.detach().numpy()
                                    for k, v in torch_layer.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(host(layer(tg.tensor(x))),
                               torch_layer(torch.tensor(x)).detach().numpy(), rtol=1e-10,
                               atol=1e-12)

