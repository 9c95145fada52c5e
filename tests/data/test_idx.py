"""The IDX reader and writer: round trips, and clear errors on corrupt files."""

import gzip

import numpy as np
import pytest

from tinygen.data import read_idx, write_idx


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_round_trip(tmp_path, rng, name, dtype):
    array = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    back = read_idx(write_idx(tmp_path / name, array))
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_known_bytes(tmp_path):
    """A hand-written MNIST-style label file: magic 0x00000801, size 3, then the bytes."""
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
    np.testing.assert_array_equal(read_idx(path), [7, 2, 9])
    big = tmp_path / "big"
    big.write_bytes(bytes([0, 0, 0x0B, 1, 0, 0, 0, 1, 1, 2]))   # int16, big-endian 0x0102
    assert read_idx(big).tolist() == [258]


@pytest.mark.parametrize("data, message", [
    (b"", "not an IDX file"),
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "not an IDX file"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "unknown IDX dtype code 0x42"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 1]), "truncated header"),
    (bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]), r"shape \(2, 2\).*takes 16"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 5, 6]), "truncated or corrupt"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_corrupt_files_name_the_file(tmp_path, data, message, gz):
    path = tmp_path / ("bad.gz" if gz else "bad")
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
        f.write(data)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_broken_gzip(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    write_idx(path, np.arange(100, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="corrupt.*get it again"):
        read_idx(path)


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
