"""Text for the character-level GPT: a UTF-8 file, or Python's own standard library.

With no file given, ``load_text`` reads ``DEFAULT_TEXT_FILES``: a fixed selection of about 1 MB
of the standard library's pure-Python modules (the exact size depends on the Python version),
found through ``sysconfig``'s "stdlib" path, so training works offline on any installation.
"""

import sysconfig
from pathlib import Path

import numpy as np

# Relative to the stdlib directory; present in every CPython from 3.10 on.
DEFAULT_TEXT_FILES = (
    "textwrap.py", "string.py", "argparse.py", "functools.py", "collections/__init__.py",
    "dataclasses.py", "enum.py", "typing.py", "difflib.py", "heapq.py", "random.py",
    "statistics.py", "fractions.py", "json/encoder.py", "json/decoder.py", "shutil.py",
    "tempfile.py", "contextlib.py", "copy.py", "pprint.py", "calendar.py", "tokenize.py",
    "abc.py", "queue.py", "fnmatch.py", "glob.py", "csv.py", "gettext.py", "threading.py",
    "ast.py", "logging/__init__.py",
)


def _read_utf8(path):
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err}); convert it to UTF-8 first") from err


def load_text(path=None):
    """The UTF-8 text of ``path``, or, when it is None, the ``DEFAULT_TEXT_FILES`` joined by
    blank lines. Raises FileNotFoundError naming what is missing, ValueError for empty or
    non-UTF-8 files."""
    if path is not None:
        if not Path(path).is_file():
            raise FileNotFoundError(f"text file not found: {path} (pass a UTF-8 text file, or "
                                    "no path for the standard-library selection)")
        text = _read_utf8(path)
        if not text:
            raise ValueError(f"{path}: the file is empty")
        return text
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    missing = [name for name in DEFAULT_TEXT_FILES if not (stdlib / name).is_file()]
    if missing:
        raise FileNotFoundError(f"the default text needs Python's standard-library sources, but "
                                f"{stdlib} lacks {', '.join(missing)} (this Python may ship "
                                "only compiled files); pass a UTF-8 text file instead "
                                "(--text PATH)")
    return "\n\n".join(_read_utf8(stdlib / name) for name in DEFAULT_TEXT_FILES)


def _codepoints(text):
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


class CharVocab:
    """A character-level vocabulary: each distinct character gets an id, in sorted order."""

    def __init__(self, text):
        if not text:
            raise ValueError("CharVocab needs a non-empty text")
        self._set_chars("".join(sorted(set(text))))

    @classmethod
    def from_chars(cls, chars):
        """The vocabulary whose id ``i`` is ``chars[i]`` (as saved from ``.chars``)."""
        if not chars or len(set(chars)) != len(chars):
            raise ValueError(f"chars must be a non-empty string of distinct characters, got "
                             f"{len(chars)} characters with {len(set(chars))} distinct")
        vocab = cls.__new__(cls)
        vocab._set_chars(str(chars))
        return vocab

    def _set_chars(self, chars):
        self.chars = chars
        self._codes = _codepoints(chars)
        self._sorter = np.argsort(self._codes)

    @property
    def size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """The ids of ``text``'s characters, np.int64 of shape (len(text),)."""
        codes = _codepoints(text)
        pos = np.searchsorted(self._codes, codes, sorter=self._sorter)
        ids = self._sorter[np.minimum(pos, len(self.chars) - 1)]
        unknown = self._codes[ids] != codes
        if unknown.any():
            chars = sorted({chr(c) for c in codes[unknown]})
            raise ValueError(f"characters not in the vocabulary: {''.join(chars)!r} "
                             f"({len(chars)} distinct); the vocabulary has {self.size}")
        return ids.astype(np.int64)

    def decode(self, ids):
        """The text of ``ids`` (a sequence, NumPy array or Tensor of ints)."""
        ids = np.asarray(ids.numpy() if hasattr(ids, "numpy") else ids).reshape(-1)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"ids must lie in [0, {self.size}), got range "
                             f"[{ids.min()}, {ids.max()}]")
        return self._codes[ids.astype(np.int64)].astype("<u4").tobytes().decode("utf-32-le")

    def __repr__(self):
        return f"CharVocab(size={self.size})"


def split_ids(ids, val_fraction=0.1):
    """``(train, val)``: the first ``1 - val_fraction`` of ``ids`` and the rest, in order (a
    contiguous split, so validation text is unseen text rather than shuffled neighbours)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    ids = np.asarray(ids)
    n_train = int(round(len(ids) * (1 - val_fraction)))
    if n_train == 0 or n_train == len(ids):
        raise ValueError(f"{len(ids)} ids are too few to split with val_fraction={val_fraction}")
    return ids[:n_train], ids[n_train:]
