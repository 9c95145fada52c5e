"""Pictures of a 2-D latent space: the decoder's manifold and where the encoder puts test digits.

    latent_manifold(decode, "runs/vae/latent_manifold.png")      # decode: (M, 2) -> images
    latent_scatter(mu, labels, "runs/vae/latent_scatter.png")    # mu: (N, 2), labels: (N,)

The manifold is Kingma & Welling's figure 4: a regular grid on the unit square mapped through the
inverse CDF of the standard normal, so the grid spaces points by prior probability and not by
distance; each point is decoded and the images tiled, the z2 axis pointing up. The scatter shows
the encoder means of held-out images coloured by digit: with a good VAE the classes form clusters
that together fill the prior's disc.

matplotlib is imported only here, when a file is written, through its object-oriented API
(``Figure``, never ``pyplot``), so no display or interactive backend is needed.
"""

from pathlib import Path
from statistics import NormalDist

import numpy as np

from tinygen.viz.images import host_array


def manifold_grid(n=20, extent=0.99):
    """The latent grid: (n, n, 2) points z[row, col] = (z1, z2), z2 decreasing down the rows.

    Coordinates are the standard normal quantiles of n evenly spaced probabilities covering the
    central ``extent`` of the mass: 0.005 .. 0.995 by default (z from -2.58 to 2.58), wide
    enough to reach the classes a trained encoder puts in the tails (often the 1s)."""
    if int(n) != n or n < 2:
        raise ValueError(f"latent_manifold: n must be an integer >= 2, got {n!r}")
    if not 0 < extent < 1:
        raise ValueError(f"latent_manifold: extent is the probability mass covered per axis "
                         f"and must lie strictly between 0 and 1, got {extent!r}")
    probabilities = np.linspace((1 - extent) / 2, (1 + extent) / 2, int(n))
    z = np.array([NormalDist().inv_cdf(p) for p in probabilities])
    z1, z2 = np.meshgrid(z, z[::-1])
    return np.stack([z1, z2], axis=-1)


def latent_manifold(decode, path, n=20, extent=0.99):
    """Decode an n x n grid over the latent plane (see ``manifold_grid``) and save the tiled
    images as a PNG at ``path``; returns the path.

    ``decode`` maps a float32 NumPy array (n * n, 2) of latent points to images (n * n, H, W) or
    (n * n, 1, H, W) with values in [0, 1], e.g. ``lambda z: model.decode(tg.tensor(z))
    .sigmoid().numpy()``, called under ``tg.no_grad()``.
    """
    grid = manifold_grid(n, extent)
    n = grid.shape[0]
    images = host_array(decode(grid.reshape(-1, 2).astype(np.float32)))
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[0] != n * n:
        raise ValueError(f"latent_manifold: decode returned shape {tuple(images.shape)}; "
                         f"expected {n * n} grayscale images (n * n, H, W) or (n * n, 1, H, W)")
    height, width = images.shape[1:]
    tiled = (np.clip(images, 0, 1).reshape(n, n, height, width)
             .transpose(0, 2, 1, 3).reshape(n * height, n * width))

    from matplotlib.figure import Figure
    figure = Figure(figsize=(7, 7.4), dpi=100)
    axes = figure.subplots()
    axes.imshow(tiled, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ticks = np.arange(0, n, max(1, n // 5))
    z = grid[0, :, 0]
    axes.set_xticks(ticks * width + (width - 1) / 2, [f"{z[t]:.2f}" for t in ticks])
    axes.set_yticks(ticks * height + (height - 1) / 2, [f"{-z[t]:.2f}" for t in ticks])
    axes.set_xlabel("$z_1$")
    axes.set_ylabel("$z_2$")
    axes.set_title(f"decodings over the latent plane (central {extent:.0%} of the prior)")
    figure.tight_layout()
    return _save(figure, path)


def latent_scatter(mu, labels, path, max_points=None):
    """Scatter the 2-D encoder means ``mu`` (N, 2) coloured by integer ``labels`` (N,), with a
    legend naming each label; save a PNG at ``path`` and return the path. ``max_points`` keeps
    the first that many points (None: all)."""
    mu, labels = host_array(mu), host_array(labels, np.int64)
    if mu.ndim != 2 or mu.shape[1] != 2:
        raise ValueError(f"latent_scatter: mu must have shape (N, 2), got {tuple(mu.shape)}; "
                         f"only a 2-D latent space can be drawn this way")
    if labels.shape != (mu.shape[0],):
        raise ValueError(f"latent_scatter: labels of shape {tuple(labels.shape)} do not match "
                         f"the {mu.shape[0]} points in mu")
    if not np.isfinite(mu).all():
        raise ValueError("latent_scatter: mu holds NaN or infinite values (did training "
                         "diverge?)")
    if max_points is not None:
        mu, labels = mu[:max_points], labels[:max_points]

    from matplotlib import colormaps
    from matplotlib.figure import Figure
    figure = Figure(figsize=(7, 6), dpi=100)
    axes = figure.subplots()
    classes = np.unique(labels)
    colours = colormaps["tab10" if len(classes) <= 10 else "viridis"].resampled(len(classes))
    for i, label in enumerate(classes):
        points = mu[labels == label]
        axes.scatter(points[:, 0], points[:, 1], s=6, alpha=0.7, color=colours(i),
                     label=str(label))
    axes.legend(title="label", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=3,
                frameon=False)
    axes.set_xlabel("$\\mu_1$")
    axes.set_ylabel("$\\mu_2$")
    axes.set_title(f"encoder means of {len(mu)} held-out images")
    axes.set_aspect("equal", adjustable="datalim")
    figure.tight_layout()
    return _save(figure, path)


def _save(figure, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
