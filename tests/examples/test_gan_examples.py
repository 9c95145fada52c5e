"""examples/gan_mnist.py, dcgan_mnist.py and wgan_gp_mnist.py in --smoke mode on the synthetic
digits of the ``mnist_dir`` fixture: each runs, its loss moves and its sample grid is not a flat
image."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
LOSS = {"gan_mnist": "loss_D", "dcgan_mnist": "loss_D", "wgan_gp_mnist": "loss_C"}


def tiles(path, size=28, padding=2):
    """The images of a saved grid (the PNG's first channel), padding cut away."""
    import matplotlib.pyplot as plt
    grid = plt.imread(path)[..., 0]
    step = size + padding
    rows, cols = (grid.shape[0] - padding) // step, (grid.shape[1] - padding) // step
    return np.stack([grid[padding + r * step:(r + 1) * step, padding + c * step:(c + 1) * step]
                     for r in range(rows) for c in range(cols)])


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(LOSS))
def test_example_smoke(example, mnist_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{example}.py"), "--smoke", "--data-dir",
         str(mnist_dir), "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    losses = [float(v) for v in re.findall(LOSS[example] + r" (-?[0-9.]+)", result.stdout)]
    assert len(losses) >= 8, result.stdout
    assert abs(losses[-1] - losses[0]) > 0.05, result.stdout
    picture = tmp_path / f"{example.removesuffix('_mnist')}_samples.png"
    assert f"saved {picture}" in result.stdout
    images = tiles(picture)
    assert images.shape == (64, 28, 28)
    assert images.std(axis=0).mean() > 0.005          # the samples differ from each other
    assert images.std(axis=(1, 2)).mean() > 0.005     # and each has some structure
