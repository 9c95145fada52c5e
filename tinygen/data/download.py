"""Download the four MNIST IDX files into the cache that ``load_mnist`` looks in.

Standard library only (urllib). Each file goes to a temporary name in the destination directory
and is renamed only once its MD5 checksum matches the published one (the checksums torchvision
lists), so an interrupted or corrupted download never looks like data.
"""

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from .mnist import FILE_NAMES, cache_dir

DEFAULT_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
_CHUNK = 1 << 16
_OFFLINE_HINT = ('To train offline instead: pip install "tinygen[data]" (a 5,000-image MNIST '
                 "subset), or pass --data-dir DIR / set TINYGEN_DATA=DIR to a directory holding "
                 f"the IDX files {', '.join(FILE_NAMES)} (gzipped or not).")


class DownloadError(OSError):
    """A file could not be fetched, or arrived with the wrong checksum."""


def _md5(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url, target, expected_md5, timeout):
    """Stream ``url`` into a temporary file beside ``target``; rename it there once verified."""
    handle, part = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as src:
            for block in iter(lambda: src.read(_CHUNK), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != expected_md5:
            raise DownloadError(f"{url}: MD5 checksum {digest.hexdigest()} does not match the "
                                f"published {expected_md5}; the download is corrupt or the "
                                "mirror serves other files. Try again, or pass another "
                                f"base_url. {_OFFLINE_HINT}")
        os.replace(part, target)
    except urllib.error.HTTPError as err:
        raise DownloadError(f"{url}: the server answered HTTP {err.code} {err.reason}; pass "
                            f"another base_url (a mirror of the MNIST files). {_OFFLINE_HINT}"
                            ) from err
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise DownloadError(f"cannot download {url} ({reason}). If this machine is offline or "
                            "the mirror unreachable, check the connection or proxy, or pass "
                            f"another base_url. {_OFFLINE_HINT}") from err
    finally:
        if os.path.exists(part):
            os.remove(part)


def download_mnist(dest=None, base_url=DEFAULT_BASE_URL, timeout=30, checksums=None):
    """Fetch the four gzipped MNIST IDX files from ``base_url`` into ``dest`` (default: the
    cache, ``$TINYGEN_CACHE/mnist`` or ``~/.cache/tinygen/mnist``) and return that directory.

    Files already there with the right checksum are kept. ``checksums`` maps each file name to
    its MD5 (default: MNIST's published ones); ``base_url`` may be ``http(s)://`` or ``file://``.
    Raises DownloadError (an OSError) saying what to do when offline or on a checksum mismatch.
    """
    dest = Path(dest) if dest is not None else cache_dir()
    checksums = MNIST_MD5 if checksums is None else checksums
    dest.mkdir(parents=True, exist_ok=True)
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    for name, expected in checksums.items():
        target = dest / name
        if target.is_file() and _md5(target) == expected:
            continue
        print(f"downloading {base_url}{name} -> {target}", file=sys.stderr)
        _fetch(base_url + name, target, expected, timeout)
    return dest
