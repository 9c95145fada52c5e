"""Every built-in family through ``tinygen train`` and ``tinygen sample`` at tiny sizes on the
``mnist_dir`` fixture: a resumed run equals an uninterrupted one, and sampling a checkpoint
works without the data it was trained on."""

import json

import numpy as np
import pytest

from tinygen.cli import main
from tinygen.train import get_recipe, recipe_names
from tinygen.train.checkpoint import load_checkpoint

TINY = {
    "gan": ["--batch-size", "8", "--latent-dim", "8", "--width", "16", "--no-score"],
    "dcgan": ["--batch-size", "8", "--latent-dim", "8", "--base-channels", "4", "--no-score"],
    "wgan-gp": ["--batch-size", "8", "--latent-dim", "8", "--width", "16", "--n-critic", "2",
                "--no-score"],
    "vae": ["--batch-size", "16", "--hidden-dim", "32", "--latent-dim", "3"],
    "convvae": ["--batch-size", "8", "--base-channels", "4", "--latent-dim", "3"],
    "classifier": ["--batch-size", "8", "--width", "4", "--hidden", "8"],
    "gpt": ["--batch-size", "2", "--n-layer", "1", "--n-head", "2", "--n-embd", "16",
            "--block-size", "16", "--eval-windows", "4", "--dropout", "0.1"],
}


def test_every_family_is_covered():
    built_in = {n for n in recipe_names()
                if get_recipe(n).__module__.startswith("tinygen.train.recipes.")}
    assert set(TINY) == built_in


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("the quick brown fox jumps over the lazy dog.\n" * 40, encoding="utf-8")
    return path


def train_losses(out):
    lines = (out / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "train"]


def no_mnist(*args, **kwargs):
    raise AssertionError("sampling read MNIST")


@pytest.mark.parametrize("family", sorted(TINY))
def test_family_resumes_exactly_and_samples(family, mnist_dir, text_file, tmp_path, capsys,
                                            monkeypatch):
    common = ["train", family, *TINY[family], "--data-dir", str(mnist_dir), "--text",
              str(text_file), "--eval-every", "0", "--log-every", "1"]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert main(common + ["--steps", "2", "--out", str(whole)]) == 0
    assert main(common + ["--steps", "1", "--out", str(split)]) == 0
    assert main(common + ["--steps", "2", "--out", str(split), "--resume"]) == 0
    strip = [{k: v for k, v in r.items() if k != "time_s"} for r in train_losses(whole)]
    assert strip == [{k: v for k, v in r.items() if k != "time_s"} for r in train_losses(split)]
    assert len(strip) == 2
    saved = [load_checkpoint(out / "checkpoint.safetensors", family) for out in (whole, split)]
    for name, state in saved[0]["modules"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(saved[1]["modules"][name][key].cpu().numpy(),
                                          value.cpu().numpy(), err_msg=f"{name}.{key}")
    capsys.readouterr()
    if family == "classifier":
        return
    for recipes in ("classifier", "vae"):            # sampling reads neither MNIST nor the text
        monkeypatch.setattr(f"tinygen.train.recipes.{recipes}.load_mnist", no_mnist)
    text_file.unlink()
    assert main(["sample", family, "--checkpoint", str(whole / "checkpoint.safetensors"),
                 "--n", "4"]) == 0
    out = capsys.readouterr().out
    if family == "gpt":
        assert len(out) > 0
    else:
        assert (whole / "sample.png").exists()
