"""Scores for generated digits, measured by a small MNIST classifier trained with tinygen.

    classifier = load_classifier("runs", data_dir=None, device="cpu")   # trains it if missing
    gan_scores(classifier, fake, real)   # {"confidence", "class_entropy", "fd"}

- ``confidence``: the classifier's mean top-class probability on the samples. Crisp digits
  score near 1; smudges that look like no digit in particular score low.
- ``class_entropy``: the entropy (nats) of the histogram of predicted classes. A generator
  that draws every digit equally often scores log(10) = 2.303; mode collapse (the same few
  digits over and over) shows up as a low value.
- ``fd``: the Frechet distance between Gaussians fitted to the classifier's penultimate
  features of the samples and of held-out real digits (FID's recipe, Heusel et al., 2017,
  with this classifier in place of Inception). Lower is better; 0 means equal statistics.

All three are computed in float64 NumPy on the host, whatever device the classifier runs on.
"""

from pathlib import Path

import numpy as np

import tinygen as tg
from tinygen import backend
from tinygen.viz.images import host_array

BATCH = 500
_CACHE = {}


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """The Frechet (2-Wasserstein) distance squared between N(mu1, sigma1) and N(mu2, sigma2):

        d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))      (Dowson and Landau, 1982)

    S1 S2 is not symmetric, but it is similar to the symmetric positive semi-definite matrix
    S1^(1/2) S2 S1^(1/2), so both have the same eigenvalues and Tr (S1 S2)^(1/2) is the sum
    of the square roots of that matrix's eigenvalues. Two symmetric eigendecompositions give
    it without SciPy's ``sqrtm`` and without its complex round-off. Eigenvalues that round-off
    makes slightly negative are taken as 0. Returns a Python float.
    """
    mu1, mu2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    sigma1, sigma2 = (np.asarray(s, dtype=np.float64) for s in (sigma1, sigma2))
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) \
            or sigma2.shape != (d, d):
        raise ValueError(f"frechet_distance: expected means of shape (D,) and covariances of "
                         f"shape (D, D) with one D, got mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
                         f"mu2 {mu2.shape}, sigma2 {sigma2.shape}")
    for name, array in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.isfinite(array).all():
            raise ValueError(f"frechet_distance: {name} holds NaN or infinite values")
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))


def _sqrt_psd(sigma):
    """The symmetric square root of a symmetric positive semi-definite matrix: V sqrt(L) V^T."""
    eigenvalues, vectors = np.linalg.eigh((sigma + sigma.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T


def gaussian_statistics(features):
    """The mean (D,) and the unbiased covariance (D, D) of ``features`` (N, D), N >= 2."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"gaussian_statistics: expected features (N, D) with N >= 2, got "
                         f"shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], -1)


def _check_probs(probs, caller):
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise ValueError(f"{caller}: expected class probabilities of shape (N, classes) with "
                         f"N >= 1, got shape {probs.shape}")
    return probs


def class_entropy(probs):
    """The entropy in nats of the histogram of predicted classes (each row's argmax) of
    ``probs`` (N, K): log(K) when every class is predicted equally often, 0 when only one is."""
    probs = _check_probs(probs, "class_entropy")
    counts = np.bincount(probs.argmax(axis=1), minlength=probs.shape[1])
    p = counts[counts > 0] / probs.shape[0]
    return 0.0 - float((p * np.log(p)).sum())          # 0.0 - x: never the float -0.0


def mean_confidence(probs):
    """The mean over rows of ``probs`` (N, K) of the largest class probability."""
    return float(_check_probs(probs, "mean_confidence").max(axis=1).mean())


def classify(classifier, images):
    """``(features (N, F), probabilities (N, K))`` of ``images`` (N, 1, 28, 28) in [-1, 1], as
    float64 NumPy arrays, in eval mode and without gradients (the module's mode is restored)."""
    images = host_array(images, np.float32)
    device = next(iter(classifier.parameters())).device
    was_training = classifier.training
    classifier.eval()
    features, probs = [], []
    with tg.no_grad():
        for i in range(0, len(images), BATCH):
            h = classifier.features(tg.tensor(images[i:i + BATCH], device=device))
            p = tg.nn.functional.softmax(classifier.head(h), dim=1)
            features.append(h.cpu().numpy().astype(np.float64))
            probs.append(p.cpu().numpy().astype(np.float64))
    classifier.train(was_training)
    return np.concatenate(features), np.concatenate(probs)


def gan_scores(classifier, fake_images, real_images):
    """``{"confidence", "class_entropy", "fd"}`` of ``fake_images`` against ``real_images``,
    both (N, 1, 28, 28) in [-1, 1] (NumPy, CuPy or Tensors), each with N >= 2. Use a few hundred
    images of each or more: the covariance of the features is estimated from them."""
    for name, images in (("fake_images", fake_images), ("real_images", real_images)):
        if len(images.shape) != 4 or tuple(images.shape[1:]) != (1, 28, 28):
            raise ValueError(f"gan_scores: {name} must have shape (N, 1, 28, 28) with values "
                             f"in [-1, 1], got {tuple(images.shape)}")
    fake_features, fake_probs = classify(classifier, fake_images)
    real_features, _ = classify(classifier, real_images)
    fd = frechet_distance(*gaussian_statistics(fake_features),
                          *gaussian_statistics(real_features))
    return {"confidence": mean_confidence(fake_probs),
            "class_entropy": class_entropy(fake_probs), "fd": fd}


def classifier_checkpoint(runs_dir):
    """Where ``tinygen train classifier --out <runs_dir>/classifier`` leaves its weights."""
    return Path(runs_dir) / "classifier" / "checkpoint.safetensors"


def load_classifier(runs_dir, data_dir, device, train_if_missing=True):
    """The scoring classifier of ``runs_dir`` in eval mode on ``device``.

    Loaded from ``<runs_dir>/classifier/checkpoint.safetensors`` once its run has finished;
    when that file is missing, trained there first with the classifier recipe's defaults on
    the MNIST that ``data_dir`` selects (a minute or two on 2 CPU cores), and a run stopped
    early is finished first, unless ``train_if_missing`` is False, which raises
    FileNotFoundError instead. Ctrl-C during that training raises KeyboardInterrupt (after its
    checkpoint is saved, so the next call goes on from there): an unfinished classifier never
    scores. Loaded classifiers are kept in memory per (file, device).
    """
    from tinygen.train.recipes.classifier import build_classifier

    path = classifier_checkpoint(runs_dir)
    # Training reseeds tg and building draws from its generator: keep the caller's seed and
    # CPU generator state (CuPy's cannot be saved, so a CUDA generator restarts from the seed).
    seed, state = backend.initial_seed(), backend.get_rng_state("cpu")
    try:
        checkpoint = _finished_checkpoint(path, data_dir, device, train_if_missing)
        key = (str(path.resolve()), path.stat().st_mtime_ns, str(tg.device(device)))
        if key not in _CACHE:
            model = build_classifier(checkpoint["config"])
            model.load_state_dict(checkpoint["modules"]["classifier"])
            _CACHE[key] = model.to(device).eval()
    finally:
        if seed is not None and backend.initial_seed() != seed:
            backend.manual_seed(seed)
        backend.set_rng_state(state, "cpu")
    return _CACHE[key]


def _finished_checkpoint(path, data_dir, device, train_if_missing):
    """The checkpoint at ``path`` of a classifier run that reached its last step: trained or
    finished first when ``train_if_missing``, else FileNotFoundError saying how to."""
    from tinygen.train.checkpoint import load_checkpoint

    if not path.is_file():
        if not train_if_missing:
            raise FileNotFoundError(f"no scoring classifier at {path}: train it with `tinygen "
                                    f"train classifier --out {path.parent}`")
        _train_classifier(path.parent, data_dir, device)
    checkpoint = load_checkpoint(path, "classifier")
    if checkpoint["step"] < checkpoint["config"]["steps"]:           # a run stopped early
        if not train_if_missing:
            raise FileNotFoundError(
                f"the scoring classifier at {path} stopped at step {checkpoint['step']} of "
                f"{checkpoint['config']['steps']}: finish it with `tinygen train classifier "
                f"--resume --out {path.parent}`")
        _train_classifier(path.parent, data_dir, device, resume=True)
        checkpoint = load_checkpoint(path, "classifier")
    return checkpoint


def _train_classifier(out, data_dir, device, resume=False):
    """Run ``tinygen train classifier`` into ``out`` with the recipe's defaults (or finish the
    run there, ``resume``), gradients switched on (a generator's evaluation may call this under
    ``no_grad``). A fresh run replaces what an earlier one left without a checkpoint. Raises
    KeyboardInterrupt when Ctrl-C stopped it."""
    from tinygen.train.trainer import train

    doing = "Finishing" if resume else "Training"
    print(f"{doing} the scoring classifier in {out} (once; later runs reuse it)")
    with tg.enable_grad():
        summary = train("classifier", {"out": out, "data_dir": data_dir}, device=device,
                        resume=resume, overwrite=not resume)
    if summary.get("interrupted"):
        raise KeyboardInterrupt(f"the scoring classifier in {out} was stopped at step "
                                f"{summary['steps']}")
