"""latent_manifold and latent_scatter: the grid of latent points, the PNGs and clear errors."""

from statistics import NormalDist

import numpy as np
import pytest

from tinygen.viz import latent_manifold, latent_scatter
from tinygen.viz.latent import manifold_grid

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from the PNG header."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_manifold_grid_is_gaussian_quantiles_with_z2_up():
    grid = manifold_grid(n=5, extent=0.9)
    assert grid.shape == (5, 5, 2)
    expected = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, 5)]
    np.testing.assert_allclose(grid[0, :, 0], expected)          # z1 grows to the right
    np.testing.assert_allclose(grid[:, 0, 1], expected[::-1])    # z2 grows upwards
    np.testing.assert_allclose(grid[2, 2], [0, 0], atol=1e-12)
    assert grid[0, 0, 0] == pytest.approx(-1.6448536, abs=1e-6)


def test_latent_manifold_decodes_the_grid_and_writes_a_png(tmp_path):
    seen = []

    def decode(z):                    # image brightness encodes z1, so tiles differ
        seen.append(z)
        return np.broadcast_to(((z[:, 0] + 2) / 4)[:, None, None, None], (len(z), 1, 28, 28))

    path = latent_manifold(decode, tmp_path / "sub" / "manifold.png", n=6)
    assert path == tmp_path / "sub" / "manifold.png"
    (z,) = seen
    assert z.dtype == np.float32 and z.shape == (36, 2)
    np.testing.assert_allclose(z, manifold_grid(6).reshape(-1, 2), rtol=1e-6)
    width, height = png_size(path)
    assert 400 <= width <= 2000 and 400 <= height <= 2000


def test_latent_manifold_errors(tmp_path):
    with pytest.raises(ValueError, match="n must be"):
        latent_manifold(lambda z: z, tmp_path / "m.png", n=1)
    with pytest.raises(ValueError, match="extent"):
        latent_manifold(lambda z: z, tmp_path / "m.png", extent=1.0)
    with pytest.raises(ValueError, match="decode returned shape"):
        latent_manifold(lambda z: np.zeros((3, 28, 28)), tmp_path / "m.png", n=4)
    assert not (tmp_path / "m.png").exists()


def test_latent_scatter_writes_a_png(tmp_path, rng):
    labels = rng.integers(0, 10, size=300)
    mu = rng.normal(size=(300, 2)) + labels[:, None]
    path = latent_scatter(mu, labels, tmp_path / "scatter.png")
    width, height = png_size(path)
    assert 400 <= width <= 2000 and 400 <= height <= 2000
    assert path.stat().st_size > 5000                      # points and a legend, not a blank


def test_latent_scatter_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        latent_scatter(np.zeros((5, 3)), np.zeros(5), tmp_path / "s.png")
    with pytest.raises(ValueError, match="labels of shape"):
        latent_scatter(np.zeros((5, 2)), np.zeros(4), tmp_path / "s.png")
    with pytest.raises(ValueError, match="NaN"):
        latent_scatter(np.full((5, 2), np.nan), np.zeros(5), tmp_path / "s.png")
