"""VAE, ConvVAE, vae_loss and the vae/convvae recipes: shapes, gradients, the loss against its
closed form, PyTorch's layers (optional), and short training runs on synthetic digits."""

from pathlib import Path

import numpy as np
import pytest

import tinygen as tg
from tinygen import backend
from tests.helpers import host
from tinygen.models import VAE, ConvVAE, vae_loss
from tinygen.models.vae import reparameterize
from tinygen.train.recipes.vae import ConvVAERecipe, VAERecipe


def images(rng, n, shape=(1, 28, 28), dtype=tg.float32):
    """n images with values in (0, 1), like scaled MNIST."""
    return tg.tensor(rng.uniform(0.01, 0.99, size=(n, *shape)), dtype=dtype)


def fixed_eps_forward(model, eps):
    """model's forward with the given noise instead of a draw: deterministic, so checkable."""
    def forward(x, *params):
        mu, logvar = model.encode(x)
        return model.decode(reparameterize(mu, logvar, eps)), mu, logvar
    return forward


@pytest.mark.parametrize("make, latent", [(lambda: VAE(), 20), (lambda: VAE(latent_dim=2), 2),
                                          (lambda: ConvVAE(), 20),
                                          (lambda: ConvVAE(latent_dim=2, base_channels=8), 2)])
def test_shapes(rng, make, latent):
    model = make()
    x = images(rng, 3)
    recon, mu, logvar = model(x)
    assert recon.shape == (3, 1, 28, 28)
    assert mu.shape == logvar.shape == (3, latent)
    assert model.decode(tg.randn(5, latent)).shape == (5, 1, 28, 28)
    assert vae_loss(recon, x, mu, logvar).shape == ()


def test_mlp_vae_parameter_names_and_flat_inputs(rng):
    model = VAE(input_dim=6, hidden_dim=5, latent_dim=2)
    assert list(model.state_dict()) == [f"{layer}.{p}" for layer in
                                        ("fc1", "fc21", "fc22", "fc3", "fc4")
                                        for p in ("weight", "bias")]
    recon, mu, _ = model(images(rng, 4, (6,)))
    assert recon.shape == (4, 6) and mu.shape == (4, 2)


def test_bad_inputs_are_clear_errors(rng):
    with pytest.raises(ValueError, match=r"input_dim=784"):
        VAE().encode(images(rng, 2, (1, 14, 14)))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        ConvVAE(base_channels=2).encode(images(rng, 2, (3, 28, 28)))
    recon, mu, logvar = VAE(latent_dim=2)(images(rng, 2))
    with pytest.raises(ValueError, match="recon_logits shape"):
        vae_loss(recon, images(rng, 2, (784,)), mu, logvar)
    with pytest.raises(ValueError, match="mu of shape"):
        vae_loss(recon, images(rng, 2), mu[:1], logvar[:1])
    with pytest.raises(ValueError, match="eps shape"):
        reparameterize(mu, logvar, tg.zeros(2, 3))


def test_reparameterize(rng):
    mu, logvar, eps = (tg.tensor(rng.standard_normal((4, 3))) for _ in range(3))
    z = reparameterize(mu, logvar, eps)
    np.testing.assert_allclose(host(z), host(mu) + np.exp(0.5 * host(logvar)) * host(eps),
                               rtol=1e-6)
    tg.manual_seed(3)
    first = host(reparameterize(mu, logvar))
    tg.manual_seed(3)
    np.testing.assert_array_equal(host(reparameterize(mu, logvar)), first)
    assert not np.allclose(first, host(mu))


def test_vae_loss_matches_closed_form(rng):
    logits = rng.normal(0, 3, size=(5, 1, 28, 28))
    x = rng.uniform(0, 1, size=logits.shape)
    mu, logvar = rng.normal(size=(5, 4)), rng.normal(0, 0.5, size=(5, 4))
    # -log p(x | z) for a Bernoulli with logit l: softplus(l) - x l (continuous x in [0, 1])
    bce = np.logaddexp(0, logits) - x * logits
    kl = -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar))
    expected = (bce.sum() + kl.sum()) / 5
    loss = vae_loss(*(tg.tensor(a) for a in (logits, x, mu, logvar)))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)


def test_vae_loss_gradcheck(rng):
    logits, mu, logvar = (tg.tensor(rng.normal(size=s), requires_grad=True)
                          for s in [(3, 1, 4, 4), (3, 2), (3, 2)])
    x = images(rng, 3, (1, 4, 4), dtype=tg.float64)
    assert tg.autograd.gradcheck(lambda lo, m, lv: vae_loss(lo, x, m, lv), (logits, mu, logvar))


def test_mlp_vae_gradcheck(rng):
    model = VAE(input_dim=6, hidden_dim=5, latent_dim=2).double()
    x = images(rng, 3, (6,), dtype=tg.float64).requires_grad_()
    eps = tg.tensor(rng.standard_normal((3, 2)))
    params = tuple(model.parameters())
    assert tg.autograd.gradcheck(fixed_eps_forward(model, eps), (x, *params))


def test_conv_vae_gradcheck(rng):
    model = ConvVAE(latent_dim=2, base_channels=2).double()
    x = images(rng, 1, dtype=tg.float64)
    eps = tg.tensor(rng.standard_normal((1, 2)))
    checked = (model.encoder[0].weight, model.encoder[2].weight, model.fc_logvar.bias,
               model.decoder[3].weight, model.decoder[5].weight, model.decoder[5].bias)
    assert tg.autograd.gradcheck(fixed_eps_forward(model, eps), (x, *checked))


@pytest.mark.parametrize("family", ["vae", "convvae"])
def test_matches_pytorch(rng, family):
    torch = pytest.importorskip("torch")
    from torch import nn
    if family == "vae":
        model = VAE(latent_dim=3)
        theirs = nn.ModuleDict(dict(fc1=nn.Linear(784, 400), fc21=nn.Linear(400, 3),
                                    fc22=nn.Linear(400, 3), fc3=nn.Linear(3, 400),
                                    fc4=nn.Linear(400, 784)))

        def encode(x):
            h = torch.relu(theirs.fc1(x.flatten(1)))
            return theirs.fc21(h), theirs.fc22(h)

        def decode(z):
            return theirs.fc4(torch.relu(theirs.fc3(z))).view(-1, 1, 28, 28)
    else:
        model = ConvVAE(latent_dim=3, base_channels=4)
        theirs = nn.ModuleDict(dict(
            encoder=nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.ReLU(), nn.Conv2d(4, 8, 4, 2, 1),
                                  nn.ReLU(), nn.Flatten()),
            fc_mu=nn.Linear(392, 3), fc_logvar=nn.Linear(392, 3),
            decoder=nn.Sequential(nn.Linear(3, 392), nn.ReLU(), nn.Unflatten(1, (8, 7, 7)),
                                  nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.ReLU(),
                                  nn.ConvTranspose2d(4, 1, 4, 2, 1))))

        def encode(x):
            h = theirs.encoder(x)
            return theirs.fc_mu(h), theirs.fc_logvar(h)

        decode = theirs.decoder
    theirs.load_state_dict({k: torch.tensor(host(v)) for k, v in model.state_dict().items()})
    x_np = rng.uniform(0, 1, size=(4, 1, 28, 28)).astype(np.float32)
    eps_np = rng.standard_normal((4, 3)).astype(np.float32)
    recon, mu, logvar = fixed_eps_forward(model, tg.tensor(eps_np))(tg.tensor(x_np))
    ours = vae_loss(recon, tg.tensor(x_np), mu, logvar)
    x, eps = torch.tensor(x_np), torch.tensor(eps_np)
    t_mu, t_logvar = encode(x)
    t_recon = decode(t_mu + torch.exp(0.5 * t_logvar) * eps)
    bce = nn.functional.binary_cross_entropy_with_logits(t_recon, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + t_logvar - t_mu ** 2 - t_logvar.exp())
    np.testing.assert_allclose(host(recon), t_recon.detach().cpu().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.item(), ((bce + kl) / 4).item(), rtol=1e-5)


def make_recipe(cls, mnist_dir, out, **overrides):
    config = dict(cls.defaults, seed=0, data_dir=str(mnist_dir), text=None, out=Path(out))
    config.update(overrides)
    tg.manual_seed(config["seed"])
    recipe = cls(config, tg.device("cpu"))
    recipe.load_data()
    return recipe


def test_training_lowers_the_loss_and_raises_the_elbo(mnist_dir, tmp_path):
    recipe = make_recipe(VAERecipe, mnist_dir, tmp_path, batch_size=32, hidden_dim=64,
                         latent_dim=4, lr=3e-3)
    before = recipe.evaluate()
    batches = recipe.batches(0)
    losses = [recipe.train_step(next(batches))["loss"] for _ in range(20)]
    after = recipe.evaluate()
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:5])
    assert after["elbo"] > before["elbo"] + 100


def test_recipe_evaluate_and_sample(mnist_dir, tmp_path):
    recipe = make_recipe(VAERecipe, mnist_dir, tmp_path, hidden_dim=32, latent_dim=2)
    state = backend.get_rng_state()
    metrics = recipe.evaluate()
    assert set(metrics) == {"elbo", "recon", "kl"}
    assert metrics["elbo"] < 0 and metrics["kl"] >= 0
    assert metrics["elbo"] == pytest.approx(-(metrics["recon"] + metrics["kl"]))
    assert recipe.evaluate() == metrics                # fixed noise: the same estimate again
    assert (tmp_path / "latent_manifold.png").stat().st_size > 1000
    assert (tmp_path / "latent_scatter.png").stat().st_size > 1000
    samples = recipe.sample(6)
    assert samples.shape == (6, 28, 28) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(recipe.sample(6), samples)
    assert not np.array_equal(recipe.sample(6, seed=1), samples)
    assert samples.std(axis=0).mean() > 1e-4           # different z, different images
    assert backend.get_rng_state() == state                 # tg's generator untouched
    assert recipe.model.training


def test_conv_recipe_trains_and_draws_no_latent_pictures_above_two_dims(mnist_dir, tmp_path):
    recipe = make_recipe(ConvVAERecipe, mnist_dir, tmp_path, batch_size=16, base_channels=4,
                         latent_dim=3)
    batches = recipe.batches(0)
    losses = [recipe.train_step(next(batches))["loss"] for _ in range(5)]
    assert all(np.isfinite(losses))
    assert recipe.evaluate()["elbo"] < 0
    assert recipe.sample(2).shape == (2, 28, 28)
    assert not (tmp_path / "latent_manifold.png").exists()
