"""Pictures of training: a grid of sample images, and the loss curves, each written as a PNG.

    save_image_grid(samples, "runs/gan/samples_1000.png")      # (N, H, W) or (N, 1, H, W)
    plot_loss_curves({"loss_d": [(0, 1.4), ...]}, "runs/gan/loss.png")

The grid follows torchvision's ``make_grid``: ``nrow`` images per row, ``padding`` pixels of
``pad_value`` around and between them. matplotlib is imported only here, when a file is written,
and only its object-oriented API is used (``Figure``, never ``pyplot``), so nothing depends on the
interactive backend or touches global figure state.
"""

import math
from pathlib import Path

import numpy as np

LOG_SCALE_SPAN = 100.0          # auto log scale when the largest value is >= 100x the smallest


def host_array(images, dtype=np.float64):
    """A Tensor, a CuPy array or any array-like as a NumPy array of ``dtype`` (for drawing and
    scoring, which run on the host)."""
    if hasattr(images, "detach"):                       # a tinygen (or torch) Tensor
        images = images.detach().cpu().numpy()
    elif hasattr(images, "get") and not isinstance(images, np.ndarray):   # a CuPy array
        images = images.get()
    return np.asarray(images, dtype=dtype)


def make_grid(images, nrow=None, padding=2, pad_value=0.0):
    """The images tiled into one (rows, columns) float64 array, values clipped to [0, 1].

    ``images``: (N, H, W) or (N, 1, H, W) with values in [0, 1]. ``nrow``: images per row
    (default: ceil(sqrt(N)), a square-ish grid). The last row is filled with ``pad_value``.
    """
    array = host_array(images)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(f"save_image_grid: expected grayscale images of shape (N, H, W) or "
                         f"(N, 1, H, W), got shape {tuple(array.shape)}")
    n, height, width = array.shape
    if n == 0 or height == 0 or width == 0:
        raise ValueError(f"save_image_grid: nothing to draw in images of shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("save_image_grid: the images hold NaN or infinite values "
                         "(did training diverge?)")
    if nrow is None:
        nrow = math.ceil(math.sqrt(n))
    if int(nrow) != nrow or nrow < 1:
        raise ValueError(f"save_image_grid: nrow must be a positive integer, got {nrow!r}")
    if int(padding) != padding or padding < 0:
        raise ValueError(f"save_image_grid: padding must be an integer >= 0, got {padding!r}")
    columns, padding = min(int(nrow), n), int(padding)
    rows = math.ceil(n / columns)
    step_y, step_x = height + padding, width + padding
    grid = np.full((rows * step_y + padding, columns * step_x + padding), float(pad_value))
    for i, image in enumerate(np.clip(array, 0.0, 1.0)):
        top = padding + (i // columns) * step_y
        left = padding + (i % columns) * step_x
        grid[top:top + height, left:left + width] = image
    return grid


def save_image_grid(images, path, nrow=None, padding=2, pad_value=0.0):
    """Write ``images`` as one grayscale PNG grid (see ``make_grid``) and return ``path``.

    Accepts NumPy or CuPy arrays and Tensors. Values outside [0, 1] are clipped, as torchvision's
    ``save_image`` clamps them; NaN or infinite values are an error. Missing parent
    directories are created.
    """
    import matplotlib.image

    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=pad_value)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gray = np.round(grid * 255).astype(np.uint8)     # exact 8-bit levels, no colormap lookup
    matplotlib.image.imsave(path, np.stack([gray] * 3, axis=-1), format="png")
    return path


def _wants_log_scale(series):
    """True when every finite value is positive and they span at least ``LOG_SCALE_SPAN``."""
    values = np.concatenate([points[:, 1] for _, points in series])
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() <= 0:
        return False
    return values.max() / values.min() >= LOG_SCALE_SPAN


def plot_loss_curves(history, path, log_scale=None, title="Training losses"):
    """Write one line per named series of ``history`` (name -> list of (step, value)) as a PNG.

    ``log_scale``: True or False forces the y scale; None (the default) chooses log when all
    values are positive and span two decades or more (a VAE's ELBO falling from 500 to 100
    nats reads better so), linear otherwise (GAN losses, negative WGAN scores). Series with
    no points are left out; NaN values leave gaps. Returns ``path``.
    """
    if not isinstance(history, dict):
        raise TypeError(f"plot_loss_curves: history must be a dict name -> list of "
                        f"(step, value), got {type(history).__name__}")
    series = []
    for name, points in history.items():
        points = np.asarray(list(points), dtype=np.float64)
        if points.size == 0:
            continue
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"plot_loss_curves: history[{name!r}] must be a list of "
                             f"(step, value) pairs, got an array of shape {points.shape}")
        series.append((name, points))
    if not series:
        raise ValueError("plot_loss_curves: the history holds no points to plot")
    if log_scale is None:
        log_scale = _wants_log_scale(series)

    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    ax = figure.add_subplot()
    for name, points in series:
        ax.plot(points[:, 0], points[:, 1], label=str(name), linewidth=1.2)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("value (log scale)" if log_scale else "value")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
