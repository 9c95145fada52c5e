"""Spectral normalization, both forms: the parametrization (``nn.utils.parametrizations``)
and the older forward pre-hook (``nn.utils.spectral_norm``). Torch-free checks of sigma
against numpy.linalg.svd, then PyTorch parity of keys, power iterations, outputs and grads."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import nn
from tinygen.nn.utils import parametrizations, parametrize, remove_spectral_norm, spectral_norm
from tests.helpers import host


def _top_singular_value(weight, dim=0):
    w = np.moveaxis(host(weight), dim, 0)
    return np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]


@pytest.mark.parametrize("make, dim", [(lambda: nn.Linear(7, 5), 0),
                                       (lambda: nn.Conv2d(3, 4, 3), 0),
                                       (lambda: nn.ConvTranspose2d(4, 3, 3), 1)])
def test_parametrization_has_unit_spectral_norm(make, dim):
    layer = parametrizations.spectral_norm(make().double(), n_power_iterations=5)
    for _ in range(20):                  # every training-mode access runs more iterations
        weight = layer.weight
    assert abs(_top_singular_value(weight, dim) - 1) < 1e-6
    original = layer.parametrizations.weight.original
    np.testing.assert_allclose(host(weight) * _top_singular_value(original, dim), host(original),
                               rtol=1e-6)


def test_hook_form_has_unit_spectral_norm(rng):
    layer = spectral_norm(nn.Conv2d(3, 4, 3).double(), n_power_iterations=10)
    for _ in range(10):
        layer(tg.tensor(rng.standard_normal((1, 3, 5, 5))))
    assert abs(_top_singular_value(layer.weight) - 1) < 1e-6


def test_parametrization_updates_u_v_in_training_only():
    layer = parametrizations.spectral_norm(nn.Linear(4, 3))
    sn = layer.parametrizations.weight[0]
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original",
                                        "parametrizations.weight.0._u",
                                        "parametrizations.weight.0._v"]
    np.testing.assert_allclose(np.linalg.norm(host(sn._u)), 1, rtol=1e-6)
    layer.eval()
    u = host(sn._u).copy()
    layer.weight
    np.testing.assert_array_equal(host(sn._u), u)
    layer.train()
    layer.weight.sum().backward()
    assert layer.parametrizations.weight.original.grad is not None


def test_parametrization_of_a_vector_is_unit_length():
    bn = parametrizations.spectral_norm(nn.BatchNorm1d(5))
    np.testing.assert_allclose(np.linalg.norm(host(bn.weight)), 1, rtol=1e-6)


def test_parametrization_remove_leaves_normalized_weight():
    layer = parametrizations.spectral_norm(nn.Linear(4, 3).double())
    layer.eval()
    weight = host(layer.weight)
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and list(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(host(layer.weight), weight)


def test_hook_form_keys_remove_and_errors():
    layer = spectral_norm(nn.Linear(4, 3))
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert not isinstance(layer.weight, nn.Parameter)
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        spectral_norm(layer)
    layer.eval()
    layer(tg.randn(2, 4))
    weight = host(layer.weight)
    remove_spectral_norm(layer)
    assert isinstance(layer.weight, nn.Parameter) and not layer._module_hooks
    assert list(layer.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(host(layer.weight), weight, rtol=1e-6)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        remove_spectral_norm(layer)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def _torch_state(torch_module):
    return {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}


def _discriminators(torch, wrap_tg, wrap_torch):
    """A small spectral-norm GAN discriminator in both libraries (float64)."""
    tg_d = nn.Sequential(wrap_tg(nn.Conv2d(1, 4, 3, stride=2, padding=1)), nn.LeakyReLU(0.2),
                         wrap_tg(nn.ConvTranspose2d(4, 2, 2, stride=2)), nn.LeakyReLU(0.2),
                         nn.Flatten(), wrap_tg(nn.Linear(2 * 8 * 8, 1))).double()
    torch_d = torch.nn.Sequential(
        wrap_torch(torch.nn.Conv2d(1, 4, 3, stride=2, padding=1)), torch.nn.LeakyReLU(0.2),
        wrap_torch(torch.nn.ConvTranspose2d(4, 2, 2, stride=2)), torch.nn.LeakyReLU(0.2),
        torch.nn.Flatten(), wrap_torch(torch.nn.Linear(2 * 8 * 8, 1))).double()
    return tg_d, torch_d


@pytest.mark.parametrize("form", ["parametrization", "hook"])
def test_discriminator_matches_torch_in_train_and_eval(rng, form):
    torch = pytest.importorskip("torch")
    if form == "parametrization":
        wrap_tg = parametrizations.spectral_norm
        wrap_torch = torch.nn.utils.parametrizations.spectral_norm
    else:
        wrap_tg, wrap_torch = spectral_norm, torch.nn.utils.spectral_norm
    tg_d, torch_d = _discriminators(torch, wrap_tg, wrap_torch)
    assert list(tg_d.state_dict()) == list(torch_d.state_dict())
    tg_d.load_state_dict(_torch_state(torch_d))
    for training in (True, True, False, True):
        tg_d.train(training)
        torch_d.train(training)
        x = rng.standard_normal((3, 1, 8, 8))
        xt, tx = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = tg_d(xt), torch_d(tx)
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-9, atol=1e-12)
        g = rng.standard_normal((3, 1))
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(xt.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        torch_params = dict(torch_d.named_parameters())
        for name, p in tg_d.named_parameters():
            np.testing.assert_allclose(host(p.grad), torch_params[name].grad.numpy(),
                                       rtol=1e-8, atol=1e-12, err_msg=name)
            torch_params[name].grad = None
            p.grad = None
        for name, value in _torch_state(torch_d).items():      # u and v, step by step
            np.testing.assert_allclose(host(tg_d.state_dict()[name]), value, rtol=1e-9,
                                       atol=1e-12, err_msg=name)


@pytest.mark.parametrize("n_power_iterations", [1, 3])
def test_power_iteration_matches_torch_step_by_step(rng, n_power_iterations):
    """Same weight and starting u, v: every step of u, v and sigma equals torch's."""
    torch = pytest.importorskip("torch")
    layer = parametrizations.spectral_norm(nn.Linear(6, 4).double(),
                                           n_power_iterations=n_power_iterations)
    torch_layer = torch.nn.utils.parametrizations.spectral_norm(
        torch.nn.Linear(6, 4).double(), n_power_iterations=n_power_iterations)
    layer.load_state_dict(_torch_state(torch_layer))
    sn, torch_sn = layer.parametrizations.weight[0], torch_layer.parametrizations.weight[0]
    for _ in range(5):
        np.testing.assert_allclose(host(layer.weight), torch_layer.weight.detach().numpy(),
                                   rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(host(sn._u), torch_sn._u.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(host(sn._v), torch_sn._v.numpy(), rtol=1e-10, atol=1e-14)



@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2, 2)])
def test_parametrization_gradcheck_in_eval(rng, shape):
    """With u and v frozen (eval mode), W / sigma(W), sigma = u^T W v, is a smooth function of W:
    its gradient, through sigma too, against finite differences."""
    layer = nn.Linear(4, 3) if len(shape) == 2 else nn.Conv2d(3, 2, 2)
    module = parametrizations.spectral_norm(layer.double())
    module.eval()
    (sn,) = module.parametrizations.weight
    weight = tg.tensor(rng.standard_normal(shape), dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(sn, (weight,))
    assert tg.autograd.gradgradcheck(sn, (weight,))


def test_parametrized_module_gradcheck(rng):
    """A module with a parametrized weight, against finite differences in its input and in the
    ``original`` tensor that the parametrization reads (perturbed in place by gradcheck)."""
    class Symmetric(nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

    layer = nn.Linear(3, 3).double()
    parametrize.register_parametrization(layer, "weight", Symmetric())
    original = layer.parametrizations.weight.original
    x = tg.tensor(rng.standard_normal((2, 3)), dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, original: layer(x), (x, original))
