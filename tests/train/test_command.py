"""``tinygen train``, ``tinygen sample`` and ``tinygen bench profile`` through ``cli.main``, on
the tiny recipe of ``tiny_recipe.py``."""

import json

import numpy as np
import pytest

from tests.train.tiny_recipe import TinyRecipe
from tinygen.cli import main


def train_tiny(out, *flags):
    return main(["train", "tiny-test", "--out", str(out), "--steps", "3", "--eval-every", "0",
                 *flags])


def read_png(path):
    import matplotlib.image
    return matplotlib.image.imread(path)


def test_train_help_lists_families_and_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "tiny-test: A small MLP with dropout" in out
    assert "--hidden 16" in out and "--resume" in out and "--profile N" in out
    with pytest.raises(SystemExit):
        main(["train", "tiny-test", "--help"])
    out = capsys.readouterr().out
    for flag in ("--hidden INT", "--lr FLOAT", "--epochs-known, --no-epochs-known", "--epochs",
                 "--device", "--seed", "--data-dir", "--text", "--out"):
        assert flag in out


def test_train_flags_reach_the_config(tmp_path, capsys):
    assert train_tiny(tmp_path, "--hidden", "8", "--lr", "0.05", "--seed", "3",
                      "--log-every", "2") == 0
    config = json.loads((tmp_path / "metrics.json").read_text())["config"]
    assert (config["hidden"], config["lr"], config["seed"], config["steps"]) == (8, 0.05, 3, 3)
    assert config["log_every"] == 2 and config["batch_size"] == 16
    assert f"Samples: {tmp_path / 'samples_3.png'}" in capsys.readouterr().out


def test_train_epochs_and_resume(tmp_path):
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--epochs", "1"]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 4
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--resume", "--steps", "6"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["config"]["steps"] == 6


def test_train_interrupted_exits_130_and_resumes(tmp_path, monkeypatch, capsys):
    original, calls = TinyRecipe.train_step, []

    def interrupt_at_step_3(self, batch):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, batch)

    monkeypatch.setattr(TinyRecipe, "train_step", interrupt_at_step_3)
    assert main(["train", "tiny-test", "--out", str(tmp_path)]) == 130
    out = capsys.readouterr().out
    assert "checkpoint of step 2 saved" in out
    assert f"Resume with: tinygen train tiny-test --resume --out {tmp_path}" in out
    monkeypatch.setattr(TinyRecipe, "train_step", original)
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--resume"]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 6


def test_train_errors_are_clear(tmp_path, capsys):
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--epochs", "2",
                 "--no-epochs-known"]) == 2
    assert "no epochs" in capsys.readouterr().err
    assert main(["train", "tiny-test", "--epochs", "2", "--steps", "3"]) == 2
    assert "--steps or --epochs, not both" in capsys.readouterr().err
    (tmp_path / "checkpoint.safetensors").write_bytes(b"garbage")
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--resume"]) == 2
    assert "damaged" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "nope"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_profile_prints_a_table(tmp_path, capsys):
    assert main(["train", "tiny-test", "--out", str(tmp_path / "run"), "--profile", "2"]) == 0
    out = capsys.readouterr().out
    assert "tiny-test: 2 training step(s)" in out
    assert "Name" in out and "Calls" in out and "Op time:" in out
    assert not (tmp_path / "run").exists()


def test_bench_profile_profiles_the_named_families(capsys):
    assert main(["bench", "profile", "tiny-test", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "tiny-test: 1 training step(s) at the default configuration (batch 16)" in out
    assert "more ops not shown" in out


def test_sample_writes_a_grid(tmp_path, capsys):
    train_tiny(tmp_path)
    capsys.readouterr()
    checkpoint = tmp_path / "checkpoint_3.safetensors"
    assert main(["sample", "tiny-test", "--checkpoint", str(checkpoint), "--n", "9"]) == 0
    assert capsys.readouterr().out.strip() == f"Samples: {tmp_path / 'sample.png'}"
    assert read_png(tmp_path / "sample.png").shape[:2] == (3 * 28 + 4 * 2, 3 * 28 + 4 * 2)
    out = tmp_path / "again.png"
    assert main(["sample", "tiny-test", "--checkpoint", str(checkpoint), "--n", "9", "--out",
                 str(out)]) == 0
    np.testing.assert_array_equal(read_png(out), read_png(tmp_path / "sample.png"))


def test_sample_prints_text(tmp_path, capsys):
    train_tiny(tmp_path, "--text-samples")
    capsys.readouterr()
    sample = ["sample", "tiny-test", "--checkpoint", str(tmp_path / "checkpoint.safetensors"),
              "--n", "5"]
    assert main(sample + ["--prompt", "!"]) == 0
    words = capsys.readouterr().out.split()
    assert len(words) == 5 and words[-1].endswith("!")
    outputs = []
    for seed in ("0", "0", "1"):
        assert main(sample + ["--seed", seed]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] != outputs[2]


def test_sample_errors_are_clear(tmp_path, capsys):
    assert main(["sample", "tiny-test", "--checkpoint", str(tmp_path / "none.safetensors")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 64)
    assert main(["sample", "tiny-test", "--checkpoint", str(tmp_path / "bad.safetensors")]) == 2
    assert "damaged" in capsys.readouterr().err


def test_sample_reports_bad_options(tmp_path, monkeypatch, capsys):
    train_tiny(tmp_path)

    def sample(self, n, prompt=None):
        raise ValueError(f"prompt {prompt!r} has characters outside the vocabulary")

    monkeypatch.setattr(TinyRecipe, "sample", sample)
    assert main(["sample", "tiny-test", "--checkpoint", str(tmp_path / "checkpoint.safetensors"),
                 "--prompt", "\u2603"]) == 2
    assert "outside the vocabulary" in capsys.readouterr().err


def test_sample_refuses_text_options_for_images(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(TinyRecipe, "sample", lambda self, n: np.zeros((n, 28, 28)))
    assert main(["sample", "tiny-test", "--prompt", "hi", "--top-k", "3"]) == 2
    assert "tiny-test makes images; --prompt, --top-k: text models only" in \
        capsys.readouterr().err
