"""The GAN family: MLP GAN, DCGAN and WGAN-GP models (shapes, float64 gradients on tiny sizes,
the gradient penalty against its closed form and finite differences) and the gan, dcgan and
wgan-gp recipes (steps, evaluation, sampling, a short training run on synthetic digits)."""

from pathlib import Path

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host, leaf64
from tinygen import nn
from tinygen.models import (
    Critic, DCGANDiscriminator, DCGANGenerator, Discriminator, Generator, gradient_penalty)
from tinygen.train.recipes.gan import DCGANRecipe, GANRecipe, WGANGPRecipe

TINY_IMAGE = (1, 2, 3)


def double(module):
    return module.to(tg.float64)


def check_gradients(module, *inputs):
    """gradcheck of module(*inputs) with respect to the inputs and every parameter (gradcheck
    perturbs each parameter's array in place, so the module sees the perturbed values)."""
    params = list(module.parameters())
    return tg.autograd.gradcheck(lambda *args: module(*args[:len(inputs)]),
                                 (*inputs, *params))


@pytest.mark.parametrize("make_g, make_d", [
    (Generator, Discriminator),
    (DCGANGenerator, DCGANDiscriminator),
    (Generator, Critic),
])
def test_shapes_and_ranges(make_g, make_d):
    tg.manual_seed(0)
    g, d = make_g(), make_d()
    fake = g(tg.randn(3, 100))
    assert fake.shape == (3, 1, 28, 28)
    assert fake.min().item() >= -1 and fake.max().item() <= 1
    score = d(fake)
    assert score.shape == (3, 1)
    if isinstance(d, Discriminator):
        assert 0 < score.min().item() and score.max().item() < 1


def test_state_dict_names_are_plain():
    assert list(Generator().state_dict()) == [f"net.{i}.{p}" for i in (0, 2, 4)
                                              for p in ("weight", "bias")]
    assert list(Discriminator().state_dict()) == [f"net.{i}.{p}" for i in (1, 4, 7)
                                                  for p in ("weight", "bias")]
    assert "net.1.running_mean" in DCGANGenerator().state_dict()
    assert not any("running" in k for k in Critic().state_dict())


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r"\(N, 100\)"):
        Generator()(tg.randn(2, 10))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        Discriminator()(tg.randn(2, 1, 14, 14))
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        DCGANGenerator(latent_dim=8, base_channels=2)(tg.randn(2, 8, 1, 1))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        DCGANDiscriminator(base_channels=2)(tg.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match="one shape"):
        gradient_penalty(Critic(), tg.randn(2, 1, 28, 28), tg.randn(3, 1, 28, 28))


def test_dcgan_init_follows_the_paper():
    tg.manual_seed(0)
    g, d = DCGANGenerator(), DCGANDiscriminator()
    for module in [*g.modules(), *d.modules()]:
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            w = host(module.weight)
            assert module.bias is None
            assert abs(w.mean()) < 0.002 and abs(w.std() - 0.02) < 0.002, type(module)
        elif isinstance(module, nn.BatchNorm2d):
            assert abs(host(module.weight).std() - 0.02) < 0.01
            assert abs(host(module.weight).mean() - 1) < 0.01
            np.testing.assert_array_equal(host(module.bias), 0)


def test_mlp_gan_gradients(rng):
    tg.manual_seed(0)
    g = double(Generator(latent_dim=3, hidden_dims=(5, 4), img_shape=TINY_IMAGE))
    assert check_gradients(g, leaf64(rng, 2, 3))
    d = double(Discriminator(hidden_dims=(5, 4), img_shape=TINY_IMAGE)).eval()
    assert check_gradients(d, leaf64(rng, 2, *TINY_IMAGE))


def test_dcgan_gradients(rng):
    tg.manual_seed(0)
    g = double(DCGANGenerator(latent_dim=2, base_channels=1))     # batch norm in train mode
    assert check_gradients(g, leaf64(rng, 2, 2))
    d = double(DCGANDiscriminator(base_channels=1))
    assert check_gradients(d, leaf64(rng, 1, 1, 28, 28))


def test_critic_gradients_and_second_derivatives(rng):
    tg.manual_seed(0)
    critic = double(Critic(hidden_dims=(4, 3), img_shape=TINY_IMAGE))
    x = leaf64(rng, 2, *TINY_IMAGE)
    assert check_gradients(critic, x)
    assert tg.autograd.gradgradcheck(critic, (x,))


def test_gradient_penalty_of_a_linear_critic_is_closed_form(rng):
    """C(x) = w.x + b has grad_x C = w everywhere, so the penalty is (||w|| - 1)^2."""
    critic = double(Critic(hidden_dims=(), img_shape=TINY_IMAGE))
    w = host(critic.net[1].weight)
    real, fake = leaf64(rng, 4, *TINY_IMAGE), leaf64(rng, 4, *TINY_IMAGE)
    penalty = gradient_penalty(critic, real, fake)
    assert penalty.shape == ()
    np.testing.assert_allclose(penalty.item(), (np.linalg.norm(w) - 1) ** 2, rtol=1e-12)


def test_gradient_penalty_gradient_matches_finite_differences(rng):
    """d penalty / d critic parameters: a second derivative of the critic, through
    tg.autograd.grad(create_graph=True). The interpolation is reseeded on every call."""
    tg.manual_seed(0)
    critic = double(Critic(hidden_dims=(4, 3), img_shape=TINY_IMAGE))
    real, fake = (tg.tensor(rng.standard_normal((3, *TINY_IMAGE))) for _ in range(2))

    def penalty(*params):
        tg.manual_seed(1)
        return gradient_penalty(critic, real, fake)

    params = list(critic.parameters())
    assert tg.autograd.gradcheck(penalty, params)
    penalty().backward()
    # With piecewise-linear activations grad_x C depends on the weights only: the biases pick
    # the activation pattern but do not enter the gradient's value.
    for name, p in critic.named_parameters():
        if name.endswith("weight"):
            assert np.abs(host(p.grad)).sum() > 0, name
        else:
            assert p.grad is None or not host(p.grad).any(), name


def test_gradient_penalty_matches_its_definition(rng):
    """Recomputed one sample at a time from the same eps draws: eps is one number per sample,
    x_hat = eps real + (1 - eps) fake, and the penalty is the mean of (||grad C(x_hat)|| - 1)^2."""
    tg.manual_seed(0)
    critic = double(Critic(hidden_dims=(8,), img_shape=TINY_IMAGE))
    real, fake = (rng.standard_normal((5, *TINY_IMAGE)) for _ in range(2))
    tg.manual_seed(5)
    penalty = gradient_penalty(critic, tg.tensor(real), tg.tensor(fake)).item()
    tg.manual_seed(5)
    eps = host(tg.rand(5, 1, 1, 1, dtype=tg.float64))
    expected = []
    for e, r, f in zip(eps, real, fake):
        x_hat = tg.tensor((e * r + (1 - e) * f)[None], requires_grad=True)
        (grad_x,) = tg.autograd.grad(critic(x_hat).sum(), x_hat)
        expected.append((np.linalg.norm(host(grad_x)) - 1) ** 2)
    assert np.std(expected) > 1e-3                  # the samples' penalties do differ
    np.testing.assert_allclose(penalty, np.mean(expected), rtol=1e-10)


def recipe(cls, mnist_dir, tmp_path, **overrides):
    config = dict(cls.defaults, seed=0, data_dir=str(mnist_dir), text=None,
                  out=Path(tmp_path) / cls.__name__, score=False, batch_size=16, latent_dim=8)
    config.update(overrides)
    tg.manual_seed(0)
    built = cls(config, tg.device("cpu"))
    built.load_data()
    return built


TINY_RECIPES = [(GANRecipe, {"width": 16}), (DCGANRecipe, {"base_channels": 4}),
                (WGANGPRecipe, {"width": 16, "n_critic": 2})]


@pytest.mark.parametrize("cls, sizes", TINY_RECIPES)
def test_recipe_step_evaluate_and_sample(cls, sizes, mnist_dir, tmp_path):
    r = recipe(cls, mnist_dir, tmp_path, **sizes)
    names = ("generator", "critic") if cls is WGANGPRecipe else ("generator", "discriminator")
    assert tuple(r.modules) == tuple(r.optimizers) == names
    losses = r.train_step(next(r.batches(0)))
    assert all(isinstance(v, float) and np.isfinite(v) for v in losses.values())
    r.discriminator.train()
    state = tg.backend.get_rng_state()
    weights = {(m, k): host(v).copy() for m, module in r.modules.items()
               for k, v in module.state_dict().items()}
    metrics = r.evaluate()
    assert tg.backend.get_rng_state() == state              # tg's generator left alone
    for (m, k), value in weights.items():                   # batch-norm statistics included
        np.testing.assert_array_equal(host(r.modules[m].state_dict()[k]), value)
    assert r.discriminator.training and r.generator.training
    assert {"d_real", "d_fake"} <= set(metrics)
    assert all(np.isfinite(v) for v in metrics.values())
    if cls is WGANGPRecipe:
        assert metrics["wasserstein"] == metrics["d_real"] - metrics["d_fake"]
    else:
        assert 0 < metrics["d_real"] < 1 and 0 < metrics["d_fake"] < 1
    images = r.sample(5)
    assert images.shape == (5, 28, 28) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(r.sample(5, seed=0), r.sample(5, seed=0))
    assert np.abs(r.sample(5, seed=0) - r.sample(5, seed=1)).max() > 0


def test_wgan_gp_step_takes_n_critic_batches_and_resumes_exactly(mnist_dir, tmp_path):
    r = recipe(WGANGPRecipe, mnist_dir, tmp_path, width=4, n_critic=3)
    steps = r.batches(0)
    first = [next(steps) for _ in range(3)]
    assert all(len(group) == 3 for group in first)
    resumed = next(r.batches(2))
    for a, b in zip(first[2], resumed):
        np.testing.assert_array_equal(host(a), host(b))
    loader = r.loader.batches(0)
    for group in first:
        for batch in group:
            np.testing.assert_array_equal(host(batch), host(next(loader)[0]))
    assert r.batches_per_epoch == len(r.loader) // 3


def test_recipe_rejects_a_batch_larger_than_the_data(mnist_dir, tmp_path):
    with pytest.raises(ValueError, match="larger than the"):
        recipe(GANRecipe, mnist_dir, tmp_path, batch_size=100_000)
    with pytest.raises(ValueError, match="n_critic"):
        recipe(WGANGPRecipe, mnist_dir, tmp_path, n_critic=0)


@pytest.mark.parametrize("cls, sizes", TINY_RECIPES)
def test_short_training_run_learns(cls, sizes, mnist_dir, tmp_path):
    """A few dozen steps on synthetic digits: the discriminator (critic) learns to tell real
    from fake, and the generator's samples move."""
    r = recipe(cls, mnist_dir, tmp_path, lr=2e-3, **sizes)
    before = r.sample(16)
    start = r.evaluate()
    batches = r.batches(0)
    for _ in range(25):
        r.train_step(next(batches))
    end = r.evaluate()
    assert end["d_real"] - end["d_fake"] > start["d_real"] - start["d_fake"] + 0.05
    assert np.abs(r.sample(16) - before).mean() > 0.002     # DCGAN's N(0, 0.02) starts small
