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
    data = ["--text", str(text_file)] if family == "gpt" else ["--data-dir", str(mnist_dir)]
    common = ["train", family, *TINY[family], *data, "--eval-every", "0", "--log-every", "1"]
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


def test_gpt_text_errors_are_one_line_before_training(text_file, tmp_path, capsys):
    """Resuming on a text with characters the checkpoint lacks, a directory as --text and a
    too-short text: each a one-line error naming the text, before any step."""
    gpt = ["train", "gpt", *TINY["gpt"], "--eval-every", "0", "--out", str(tmp_path / "run")]
    assert main(gpt + ["--steps", "1", "--text", str(text_file)]) == 0
    capsys.readouterr()
    other = tmp_path / "other.txt"
    other.write_text("\u00e9t\u00e9 " * 200, encoding="utf-8")
    short = tmp_path / "short.txt"
    short.write_text("abc " * 10, encoding="utf-8")
    for flags, expected in (
            (["--resume", "--steps", "2", "--text", str(other)],
             f"gpt: the text ({other}) has 1 character(s) that the checkpoint's vocabulary "
             f"lacks ('\u00e9')"),
            (["--overwrite", "--text", str(tmp_path)], f"--text {tmp_path} is a directory"),
            (["--overwrite", "--text", str(short)], f"the text {short} is too short")):
        assert main(gpt + flags) == 2
        captured = capsys.readouterr()
        assert "Training gpt" not in captured.out
        assert captured.err.startswith("tinygen train: error: ") and expected in captured.err
        assert captured.err.count("\n") == 1
    assert load_checkpoint(tmp_path / "run" / "checkpoint.safetensors")["step"] == 1


@pytest.mark.parametrize("option, value", [("temperature", -1.0), ("top_k", -2),
                                           ("eval_windows", 0)])
def test_gpt_sampling_and_evaluation_options_are_checked_before_training(option, value,
                                                                         text_file, tmp_path):
    """Used only at evaluations, these were once refused after the training they ended."""
    from tinygen.train import Trainer

    with pytest.raises(ValueError, match=f"gpt: {option} must be"):
        Trainer("gpt", {option: value, "text": str(text_file), "out": tmp_path / "run"})
    assert not (tmp_path / "run").exists()
