"""The image grid and loss-curve PNGs: read back with matplotlib and checked pixel by pixel."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.viz.images import make_grid, plot_loss_curves, save_image_grid

pytest.importorskip("matplotlib")
import matplotlib.image  # noqa: E402


def read_gray(path):
    """The PNG at ``path`` as a (rows, columns) float array in [0, 1]; it must be gray."""
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 1])
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 2])
    return pixels[..., 0]


@pytest.mark.parametrize("shape", [(5, 7, 6), (5, 1, 7, 6)])
def test_grid_cells_hold_the_images(tmp_path, rng, shape):
    images = rng.uniform(0, 1, size=shape)
    path = save_image_grid(images, tmp_path / "grid.png", nrow=3, padding=2)
    grid = read_gray(path)
    assert grid.shape == (2 * (7 + 2) + 2, 3 * (6 + 2) + 2)     # 2 rows of 3, padded
    flat = images.reshape(5, 7, 6)
    for i in range(5):
        top, left = 2 + (i // 3) * 9, 2 + (i % 3) * 8
        cell = grid[top:top + 7, left:left + 6]
        np.testing.assert_allclose(cell, flat[i], atol=0.51 / 255)
    assert np.all(grid[:2] == 0) and np.all(grid[:, :2] == 0)   # the padding is pad_value
    assert np.all(grid[11:, 2 * 8 + 2:] == 0)                   # the empty sixth cell


def test_default_grid_is_square_and_accepts_tensors(tmp_path, rng):
    images = tg.tensor(rng.uniform(0, 1, size=(9, 1, 4, 4)), dtype=tg.float32)
    grid = read_gray(save_image_grid(images, tmp_path / "g.png", padding=1))
    assert grid.shape == (3 * 5 + 1, 3 * 5 + 1)
    np.testing.assert_allclose(grid[1:5, 6:10], images.cpu().numpy()[1, 0], atol=0.51 / 255)


def test_values_are_clipped_and_padding_can_be_zero(rng):
    images = np.array([[[-1.0, 0.5]], [[2.0, 0.25]]])             # (2, 1, 2)
    grid = make_grid(images, nrow=2, padding=0)
    np.testing.assert_array_equal(grid, [[0.0, 0.5, 1.0, 0.25]])


def test_pad_value_and_creates_parent_directories(tmp_path):
    images = np.zeros((2, 3, 3))
    path = save_image_grid(images, tmp_path / "a" / "b" / "g.png", nrow=1, pad_value=1.0)
    grid = read_gray(path)
    assert grid.shape == (2 * (3 + 2) + 2, 3 + 2 * 2)
    assert np.all(grid[0] == 1.0) and np.all(grid[2:5, 2:5] == 0.0)


@pytest.mark.parametrize("shape", [(28, 28), (2, 3, 28, 28), (2, 1, 1, 28, 28), (0, 28, 28)])
def test_bad_shapes_are_named(tmp_path, shape):
    with pytest.raises(ValueError, match=r"shape"):
        save_image_grid(np.zeros(shape), tmp_path / "g.png")


def test_bad_values_and_arguments(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        save_image_grid(np.full((2, 4, 4), np.nan), tmp_path / "g.png")
    with pytest.raises(ValueError, match="nrow"):
        save_image_grid(np.zeros((2, 4, 4)), tmp_path / "g.png", nrow=0)
    with pytest.raises(ValueError, match="padding"):
        save_image_grid(np.zeros((2, 4, 4)), tmp_path / "g.png", padding=-1)


def test_loss_curves_png(tmp_path):
    history = {"loss_d": [(s, 1.4 - 0.001 * s) for s in range(0, 500, 10)],
               "loss_g": [(s, 0.7 + 0.002 * s) for s in range(0, 500, 10)],
               "unused": []}
    path = plot_loss_curves(history, tmp_path / "runs" / "loss.png")
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (400, 640)
    colours = {tuple(np.round(p[:3], 2)) for p in pixels.reshape(-1, pixels.shape[-1])}
    assert len(colours) > 10                # two coloured lines, text and axes, not blank


def test_loss_curves_choose_log_scale_for_positive_values_spanning_decades(tmp_path):
    from tinygen.viz import images

    elbo = [(s, 500.0 / (1 + s)) for s in range(200)]
    assert images._wants_log_scale([("elbo", np.array(elbo))])
    assert not images._wants_log_scale([("wgan", np.array([(0, -3.0), (1, 400.0)]))])
    assert not images._wants_log_scale([("gan", np.array([(0, 0.7), (1, 1.4)]))])
    linear = matplotlib.image.imread(plot_loss_curves({"elbo": elbo}, tmp_path / "a.png",
                                                      log_scale=False))
    log = matplotlib.image.imread(plot_loss_curves({"elbo": elbo}, tmp_path / "b.png"))
    assert not np.array_equal(linear, log)


def test_loss_curves_errors(tmp_path):
    with pytest.raises(ValueError, match="no points"):
        plot_loss_curves({"loss": []}, tmp_path / "l.png")
    with pytest.raises(ValueError, match="pairs"):
        plot_loss_curves({"loss": [1.0, 2.0]}, tmp_path / "l.png")
    with pytest.raises(TypeError, match="dict"):
        plot_loss_curves([(0, 1.0)], tmp_path / "l.png")
