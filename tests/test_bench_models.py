"""benchmarks/models.py: its PyTorch twins are the same models as tinygen's (parameter for
parameter), their training steps and tinygen's recipe steps run, and the table marks targets."""

import math

import pytest

import tinygen.train.recipes.vae  # noqa: F401  (registers "vae")
from tests.helpers import benchmark_script
from tinygen import models

GPT_SIZES = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.0)


@pytest.fixture(scope="module")
def bench():
    return benchmark_script("models")


def shapes(*modules):
    return sorted(tuple(p.shape) for m in modules for p in m.parameters())


def test_torch_twins_have_tinygen_parameters(bench):
    torch = pytest.importorskip("torch")
    config = dict(latent_dim=100, width=32, base_channels=8, hidden_dim=400)
    pairs = [
        (bench.torch_gan_parts(torch, "gan", config)[:2],
         (models.Generator(100, (32, 64)), models.Discriminator((64, 32)))),
        (bench.torch_gan_parts(torch, "dcgan", config)[:2],
         (models.DCGANGenerator(100, 8), models.DCGANDiscriminator(8))),
        (bench.torch_gan_parts(torch, "wgan-gp", config)[:2],
         (models.Generator(100, (32, 64)), models.Critic((64, 32)))),
        (bench.torch_vae_parts(torch, "vae", dict(config, latent_dim=20)),
         (models.VAE(hidden_dim=400, latent_dim=20),)),
        (bench.torch_vae_parts(torch, "convvae", dict(config, latent_dim=20)),
         (models.ConvVAE(latent_dim=20, base_channels=8),)),
        ((bench.torch_gpt(torch, GPT_SIZES),), (models.GPT(models.GPTConfig(**GPT_SIZES)),)),
    ]
    for theirs, ours in pairs:
        assert shapes(*theirs) == shapes(*ours)


@pytest.mark.parametrize("family", ["gan", "dcgan", "wgan-gp", "vae", "convvae", "gpt"])
def test_torch_steps_run(bench, family):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    config = dict(GPT_SIZES, batch_size=4, lr=1e-3, latent_dim=8, width=8, base_channels=4,
                  hidden_dim=16, beta1=0.5, n_critic=2, gp_lambda=10.0, weight_decay=0.1)
    losses = bench.torch_step(torch, family, config)()
    assert all(math.isfinite(v) for v in (losses if isinstance(losses, tuple) else [losses]))


def test_tinygen_side_times_the_recipe_step(bench, mnist_dir, tmp_path):
    rows = [("vae", "vae", dict(batch_size=8, hidden_dim=16, data_dir=mnist_dir))]
    steps = bench.tinygen_steps(rows, tmp_path)
    step, shown = steps["vae"]
    assert shown == {"batch_size": 8, "latent_dim": 20, "hidden_dim": 16}
    first, second = step()["loss"], step()["loss"]
    assert math.isfinite(first) and second != first          # the optimizer stepped


def test_table_marks_targets(bench):
    results = {"gan, batch 128": (10.0, 15.0, {"batch_size": 128}),   # 1.5x PyTorch: met
               "gpt": (100.0, 50.0, {"n_layer": 4}),                  # 0.5x: missed
               "wgan-gp": (10.0, None, {})}
    text = bench.table(results, bench.TARGETS)
    assert "| gan, batch 128 | batch_size 128 | 100.00 | 66.67 | 1.50x | ≥ 1.2x: met |" in text
    assert "| gpt | n_layer 4 | 10.00 | 20.00 | 0.50x | ≥ 0.8x: MISSED |" in text
    assert "| wgan-gp |  | 100.00 | n/a | n/a |  |" in text


def test_gpu_rows_are_recipe_configurations(bench):
    configs = bench.full_configs(bench.GPU_ROWS)
    for label, family, overrides in bench.GPU_ROWS:
        assert set(overrides) <= set(configs[label]) and bench.GPU_TARGETS[label] == 0.5
    gpt = configs["gpt, GPU size"]
    assert (gpt["n_layer"], gpt["n_head"], gpt["n_embd"], gpt["block_size"],
            gpt["batch_size"]) == (6, 6, 384, 256, 64)


@pytest.mark.parametrize("side", ["tinygen", "torch"])
def test_side_steps_build_each_library_on_a_device(bench, side):
    """What the --device cuda children run, here on the CPU at a small size."""
    if side == "torch":
        pytest.importorskip("torch")
    sizes = {k: v for k, v in GPT_SIZES.items() if k != "vocab_size"}   # the text decides it
    rows = [("gpt, GPU size", "gpt", dict(sizes, batch_size=2))]
    configs = bench.full_configs(rows)
    configs["gpt, GPU size"]["vocab_size"] = 11
    ((step, config),) = bench.side_steps(side, rows, configs, 1, "cpu").values()
    assert math.isfinite(step()["loss"] if side == "tinygen" else step())
