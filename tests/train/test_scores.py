"""The scores of generated digits: Frechet distance against closed forms and SciPy, the class
histogram entropy, confidence, and gan_scores/load_classifier on a tiny trained classifier."""

import json
import math

import numpy as np
import pytest

import tinygen as tg
from tinygen.models.classifier import Classifier
from tinygen.train.scores import (
    class_entropy, classifier_checkpoint, classify, frechet_distance, gan_scores,
    gaussian_statistics, load_classifier, mean_confidence)


def random_covariance(rng, d, rank=None):
    """A random symmetric positive semi-definite (D, D) matrix of the given rank."""
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d


def test_identical_gaussians_are_at_distance_zero(rng):
    mu, sigma = rng.standard_normal(6), random_covariance(rng, 6)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_diagonal_covariances_follow_the_one_dimensional_formula(rng):
    s1, s2 = rng.uniform(0.1, 3.0, size=(2, 5))
    mu1, mu2 = rng.standard_normal((2, 5))
    expected = ((mu1 - mu2) ** 2).sum() + (s1 + s2 - 2 * np.sqrt(s1 * s2)).sum()
    got = frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_shifted_means_add_the_squared_shift(rng):
    mu, sigma = rng.standard_normal(4), random_covariance(rng, 4)
    shift = np.array([3.0, 0.0, -4.0, 0.0])                       # |shift|^2 = 25
    assert frechet_distance(mu, sigma, mu + shift, sigma) == pytest.approx(25.0, rel=1e-9)


def test_is_symmetric_and_handles_singular_covariances(rng):
    mu1, mu2 = rng.standard_normal((2, 8))
    sigma1, sigma2 = random_covariance(rng, 8, rank=3), random_covariance(rng, 8, rank=5)
    d12 = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert d12 == pytest.approx(frechet_distance(mu2, sigma2, mu1, sigma1), rel=1e-8)
    assert d12 > 0


def test_matches_scipy_sqrtm(rng):
    linalg = pytest.importorskip("scipy.linalg")
    mu1, mu2 = rng.standard_normal((2, 10))
    sigma1, sigma2 = random_covariance(rng, 10), random_covariance(rng, 10)
    root = linalg.sqrtm(sigma1 @ sigma2)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(sigma1 + sigma2 - 2 * root.real)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_errors():
    with pytest.raises(ValueError, match=r"sigma2 \(3, 2\)"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="mu1"):
        frechet_distance(np.array([np.nan, 0]), np.eye(2), np.zeros(2), np.eye(2))


def test_gaussian_statistics_is_the_unbiased_covariance(rng):
    features = rng.standard_normal((50, 3))
    mu, sigma = gaussian_statistics(features)
    np.testing.assert_allclose(mu, features.mean(0))
    centred = features - features.mean(0)
    np.testing.assert_allclose(sigma, centred.T @ centred / 49)
    with pytest.raises(ValueError, match="N >= 2"):
        gaussian_statistics(features[:1])


def test_class_entropy_and_confidence():
    uniform = np.eye(10)[np.arange(100) % 10]                  # every class 10 times, one-hot
    assert class_entropy(uniform) == pytest.approx(math.log(10))
    collapsed = class_entropy(np.eye(10)[np.zeros(30, dtype=int)])      # mode collapse
    assert collapsed == 0.0 and str(collapsed) == "0.0"
    two = np.eye(10)[np.array([1, 1, 7, 7])]
    assert class_entropy(two) == pytest.approx(math.log(2))
    soft = np.array([[0.6, 0.4], [0.2, 0.8], [0.5, 0.5]])
    assert mean_confidence(soft) == pytest.approx((0.6 + 0.8 + 0.5) / 3)
    with pytest.raises(ValueError, match="shape"):
        class_entropy(np.zeros(10))


def test_classify_returns_features_and_probabilities_and_keeps_the_mode(rng):
    tg.manual_seed(0)
    model = Classifier(channels=(2, 4), hidden=8)
    images = rng.uniform(-1, 1, size=(7, 1, 28, 28)).astype(np.float32)
    features, probs = classify(model, images)
    assert features.shape == (7, 8) and probs.shape == (7, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert model.training
    with tg.no_grad():
        model.eval()
        expected = model.features(tg.tensor(images)).cpu().numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-6)


def test_gan_scores_compare_samples_with_real_digits(rng):
    tg.manual_seed(0)
    model = Classifier(channels=(2, 4), hidden=8)
    real = rng.uniform(-1, 1, size=(40, 1, 28, 28)).astype(np.float32)
    same = gan_scores(model, real, real)
    assert same["fd"] == pytest.approx(0.0, abs=1e-6)
    assert 0.1 <= same["confidence"] <= 1.0
    assert 0.0 <= same["class_entropy"] <= math.log(10) + 1e-12
    blank = -np.ones((40, 1, 28, 28), dtype=np.float32)
    scores = gan_scores(model, tg.tensor(blank), real)
    assert scores["class_entropy"] == 0.0                      # one image, one class
    assert scores["fd"] > 0.0
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        gan_scores(model, blank[:, 0], real)


def test_load_classifier_without_a_checkpoint_can_refuse(tmp_path):
    with pytest.raises(FileNotFoundError, match="tinygen train classifier"):
        load_classifier(tmp_path, None, "cpu", train_if_missing=False)


def test_load_classifier_trains_once_then_reuses(tmp_path, mnist_dir):
    """Trains a tiny classifier on the synthetic digits through the real trainer (with the
    recipe's defaults patched smaller), then loads the same weights from the checkpoint."""
    from tinygen.train.recipes.classifier import ClassifierRecipe

    tiny = dict(steps=3, batch_size=16, eval_every=0, checkpoint_every=0, width=2, hidden=8)
    saved = ClassifierRecipe.defaults
    ClassifierRecipe.defaults = dict(saved, **tiny)
    try:
        tg.manual_seed(7)                                   # the classifier trains with seed 0
        tg.randn(3)
        state = tg.backend.get_rng_state("cpu")
        model = load_classifier(tmp_path, mnist_dir, "cpu")
        assert tg.backend.get_rng_state("cpu") == state     # the caller's random numbers kept
        assert tg.backend.initial_seed() == 7
    finally:
        ClassifierRecipe.defaults = saved
    assert classifier_checkpoint(tmp_path).is_file()
    assert not model.training and model.head.out_features == 10
    again = load_classifier(tmp_path, mnist_dir, "cpu", train_if_missing=False)
    assert again is model


def test_load_classifier_finishes_a_classifier_run_that_was_stopped(tmp_path, mnist_dir):
    """A classifier run stopped early (Ctrl-C) is not used half-trained: load_classifier
    finishes it first, or with train_if_missing=False says how to."""
    from tinygen.train.checkpoint import load_checkpoint
    from tinygen.train.recipes.classifier import ClassifierRecipe
    from tinygen.train.trainer import train

    tiny = dict(steps=4, batch_size=16, eval_every=0, checkpoint_every=0, width=2, hidden=8)
    saved = ClassifierRecipe.defaults
    ClassifierRecipe.defaults = dict(saved, **tiny)
    path = classifier_checkpoint(tmp_path)
    try:
        train("classifier", {"out": path.parent, "data_dir": mnist_dir, "steps": 2},
              progress=False)
        stopped = load_checkpoint(path)
        stopped["config"]["steps"] = 4                     # as if Ctrl-C came at step 2 of 4
        tg.save(stopped, path)
        with pytest.raises(FileNotFoundError, match="stopped at step 2 of 4.*--resume"):
            load_classifier(tmp_path, mnist_dir, "cpu", train_if_missing=False)
        load_classifier(tmp_path, mnist_dir, "cpu")
    finally:
        ClassifierRecipe.defaults = saved
    assert load_checkpoint(path)["step"] == 4


def test_ctrl_c_while_the_scoring_classifier_trains_stops_the_whole_command(
        tmp_path, mnist_dir, monkeypatch, capsys):
    """Ctrl-C while the classifier trains inside a GAN's evaluation (one during training, then
    the final one): both runs save their checkpoints, the command exits 130, and nothing is
    scored with the half-trained classifier; the last resume finishes the classifier, then
    scores. The classifier's progress bar, nested in the GAN's, stays hidden off a terminal,
    so no cursor moves reach a log."""
    import os
    import signal

    from tinygen.cli import main
    from tinygen.train import scores
    from tinygen.train.checkpoint import load_checkpoint
    from tinygen.train.recipes.classifier import ClassifierRecipe

    monkeypatch.setattr(ClassifierRecipe, "defaults", dict(
        ClassifierRecipe.defaults, steps=6, batch_size=16, eval_every=0, checkpoint_every=0,
        width=2, hidden=8))
    original, calls, scored = ClassifierRecipe.train_step, [], []

    def ctrl_c_in_steps_2_and_4(self, batch):
        calls.append(1)
        if len(calls) in (2, 4):
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, batch)

    def recording_gan_scores(classifier, *images, _original=scores.gan_scores):
        scored.append(1)
        return _original(classifier, *images)

    monkeypatch.setattr(ClassifierRecipe, "train_step", ctrl_c_in_steps_2_and_4)
    monkeypatch.setattr(scores, "gan_scores", recording_gan_scores)
    run_dir, classifier = tmp_path / "gan", classifier_checkpoint(tmp_path)
    gan = ["train", "gan", "--batch-size", "8", "--latent-dim", "8", "--width", "16", "--steps",
           "2", "--eval-every", "1", "--data-dir", str(mnist_dir), "--out", str(run_dir)]
    assert main(gan) == 130                      # in the evaluation at step 1
    out, err = capsys.readouterr()
    assert f"checkpoint of step 2 saved to {classifier.parent}" in out
    assert "tinygen train classifier --resume" not in out
    assert f"checkpoint of step 1 saved to {run_dir}" in out
    assert f"Resume with: tinygen train gan --resume --out {run_dir}" in out
    assert "\x1b[A" not in err
    assert load_checkpoint(classifier)["step"] == 2

    assert main(gan + ["--resume"]) == 130        # in the final evaluation, at step 2
    out = capsys.readouterr().out
    assert "Finishing the scoring classifier" in out
    assert f"Evaluate it with: tinygen train gan --resume --out {run_dir}" in out
    assert load_checkpoint(classifier)["step"] == 4
    assert load_checkpoint(run_dir / "checkpoint.safetensors")["step"] == 2
    assert not (run_dir / "metrics.json").exists()
    assert scored == []

    assert main(gan + ["--resume"]) == 0
    assert load_checkpoint(classifier)["step"] == 6
    assert scored == [1]
    assert "fd" in json.loads((run_dir / "metrics.json").read_text())["metrics"]
