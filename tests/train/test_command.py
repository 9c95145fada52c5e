"""``tinygen train``, ``tinygen sample`` and ``tinygen bench profile`` through ``cli.main``, on
the tiny recipe of ``tiny_recipe.py``."""

import json
import os
import re
import signal
from pathlib import Path

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

    def ctrl_c_in_step_3(self, batch):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, batch)

    monkeypatch.setattr(TinyRecipe, "train_step", ctrl_c_in_step_3)
    assert main(["train", "tiny-test", "--out", str(tmp_path)]) == 130
    out = capsys.readouterr().out
    assert "checkpoint of step 3 saved" in out
    assert f"Resume with: tinygen train tiny-test --resume --out {tmp_path}" in out
    monkeypatch.setattr(TinyRecipe, "train_step", original)
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--resume"]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 6


def test_train_interrupted_inside_a_step_exits_130_without_saving(tmp_path, monkeypatch,
                                                                   capsys):
    def interrupted(self, batch):
        raise KeyboardInterrupt

    monkeypatch.setattr(TinyRecipe, "train_step", interrupted)
    assert main(["train", "tiny-test", "--out", str(tmp_path)]) == 130
    assert "no checkpoint written" in capsys.readouterr().err
    assert not list(tmp_path.glob("checkpoint*"))


def test_resume_with_nothing_left_to_do_exits_2_and_touches_nothing(tmp_path, capsys):
    assert train_tiny(tmp_path) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    capsys.readouterr()
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--resume", "--steps", "2"]) == 2
    assert "already at step 3 >= --steps 2; nothing to do (pass a larger --steps" in \
        capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_fresh_run_into_a_run_directory_needs_overwrite(tmp_path, capsys):
    assert main(["train", "tiny-test", "--out", str(tmp_path), "--steps", "6"]) == 0
    capsys.readouterr()
    assert train_tiny(tmp_path) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert train_tiny(tmp_path, "--overwrite") == 0
    assert not (tmp_path / "samples_4.png").exists()
    assert not (tmp_path / "checkpoint_5.safetensors").exists()
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 3
    assert train_tiny(tmp_path, "--overwrite", "--resume") == 2
    assert "--resume or --overwrite, not both" in capsys.readouterr().err


def test_unusable_out_is_one_line_and_exit_2(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, expected in ((afile, "afile is a file"), (afile / "sub", "Not a directory")):
        assert train_tiny(out) == 2
        err = capsys.readouterr().err
        assert err.startswith("tinygen train: error: ") and expected in err
        assert err.count("\n") == 1


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


@pytest.mark.parametrize("argv, flag, expected", [
    (["train", "tiny-test", "--steps", "0"], "--steps", "a positive integer"),
    (["train", "tiny-test", "--hidden", "-3"], "--hidden", "an integer >= 0"),
    (["train", "tiny-test", "--lr", "0"], "--lr", "a positive number"),
    (["train", "tiny-test", "--lr", "nan"], "--lr", "a positive number"),
    (["train", "tiny-test", "--eval-every", "-1"], "--eval-every", "an integer >= 0"),
    (["train", "tiny-test", "--seed", "-1"], "--seed", "an integer >= 0"),
    (["train", "tiny-test", "--epochs", "0"], "--epochs", "a positive integer"),
    (["train", "tiny-test", "--log-every", "0"], "--log-every", "a positive integer"),
    (["train", "tiny-test", "--profile", "0"], "--profile", "a positive integer"),
    (["train", "tiny-test", "--profile", "-2"], "--profile", "a positive integer"),
    (["train", "tiny-test", "--batch-size", "two"], "--batch-size",
     "a positive integer, got 'two'"),
    (["train", "vae", "--latent-dim", "0"], "--latent-dim", "a positive integer"),
    (["train", "dcgan", "--base-channels", "0"], "--base-channels", "a positive integer"),
    (["train", "gpt", "--temperature", "-1"], "--temperature", "a number >= 0"),
    (["train", "gpt", "--top-k", "-2"], "--top-k", "an integer >= 0"),
    (["train", "gpt", "--eval-windows", "0"], "--eval-windows", "a positive integer"),
    (["train", "gpt", "--weight-decay", "-1"], "--weight-decay", "a number >= 0"),
    (["train", "gpt", "--warmup-steps", "-5"], "--warmup-steps", "an integer >= 0"),
    (["sample", "tiny-test", "--n", "0"], "--n", "a positive integer"),
    (["sample", "tiny-test", "--n", "-5"], "--n", "a positive integer"),
    (["sample", "tiny-test", "--seed", "-1"], "--seed", "an integer >= 0"),
    (["sample", "gpt", "--temperature", "-1"], "--temperature", "a number >= 0"),
    (["bench", "profile", "vae", "--steps", "0"], "--steps", "a positive integer"),
    (["bench", "profile", "vae", "--steps", "-1"], "--steps", "a positive integer"),
])
def test_bad_numbers_are_refused_naming_the_flag(argv, flag, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"argument {flag}: expected {expected}" in capsys.readouterr().err


def test_bad_values_are_refused_before_training(tmp_path, capsys):
    """Values that argparse cannot judge alone are refused when the recipe is built, before
    any step: nothing is written."""
    assert main(["train", "gpt", "--n-embd", "6", "--n-head", "4", "--out",
                 str(tmp_path)]) == 2
    assert "not divisible" in capsys.readouterr().err
    assert main(["train", "gan", "--beta1", "1", "--out", str(tmp_path)]) == 2
    assert "beta1 must be below 1" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv, expected", [
    (["train", "vae", "--text", "f.txt"], "vae does not read --text (it reads --data-dir)"),
    (["train", "gan", "--text", "f.txt"], "gan does not read --text (it reads --data-dir)"),
    (["train", "gpt", "--data-dir", "/x"], "gpt does not read --data-dir (it reads --text)"),
])
def test_flags_a_family_does_not_use_are_refused(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"tinygen train {argv[1]}: error: {expected}" in capsys.readouterr().err


def test_help_of_the_gans_quotes_the_recorded_scores(capsys):
    """The Frechet distances in the help are those of README's table of default runs."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for family in ("gan", "wgan-gp"):
        with pytest.raises(SystemExit):
            main(["train", family, "--help"])
        help_text = " ".join(capsys.readouterr().out.split())
        recorded = re.search(rf"`tinygen train {family}` \|.*\| FD ([\d.]+),", readme)[1]
        assert f"Frechet distance {recorded} on 500 samples" in help_text
        assert re.findall(r"Frechet distance ([\d.]+)", help_text) == [recorded]


def test_sample_takes_a_run_directory_and_checks_n_and_out(tmp_path, capsys):
    train_tiny(tmp_path)
    capsys.readouterr()
    assert main(["sample", "tiny-test", "--checkpoint", str(tmp_path), "--n", "4"]) == 0
    assert capsys.readouterr().out.strip() == f"Samples: {tmp_path / 'sample.png'}"
    sample = ["sample", "tiny-test", "--checkpoint", str(tmp_path), "--out"]
    for out, expected in ((tmp_path, "is a directory"),
                          (tmp_path / "grid.jpg", "images are written as PNG"),
                          (tmp_path / "sample.png" / "x.png", "File exists")):
        assert main(sample + [str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("tinygen sample: error: ") and expected in err
        assert err.count("\n") == 1
    assert not (tmp_path / "grid.jpg").exists()


def test_bench_profile_gives_data_dir_only_to_the_families_that_read_mnist(mnist_dir, capsys):
    assert main(["bench", "profile", "gpt", "--data-dir", str(mnist_dir), "--top", "1"]) == 0
    assert "gpt: 1 training step(s)" in capsys.readouterr().out
