"""download_mnist against files the test serves itself (loopback HTTP and file://), never the
internet: checksums, atomic renames, skipping verified files, and errors that say what to do."""

import functools
import hashlib
import http.server
import threading

import numpy as np
import pytest

from tinygen.data import DownloadError, download_mnist, load_mnist
from tinygen.data.download import MNIST_MD5


@pytest.fixture
def served(tmp_path, mnist_dir):
    """The fixture's IDX files, their MD5s and a loopback HTTP server's base URL for them."""
    checksums = {name: hashlib.md5((mnist_dir / name).read_bytes()).hexdigest()
                 for name in MNIST_MD5}
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=mnist_dir)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", checksums
    server.shutdown()
    server.server_close()


def test_http_download_verifies_and_loads(tmp_path, served, mnist_dir):
    url, checksums = served
    dest = download_mnist(tmp_path / "cache", base_url=url, checksums=checksums, timeout=5)
    assert sorted(p.name for p in dest.iterdir()) == sorted(MNIST_MD5)   # no .part files left
    images, labels = load_mnist("test", data_dir=dest)
    expected_images, expected_labels = load_mnist("test", data_dir=mnist_dir)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_default_dest_is_the_cache_load_mnist_reads(tmp_path, served, monkeypatch):
    url, checksums = served
    monkeypatch.setenv("TINYGEN_CACHE", str(tmp_path / "root"))
    monkeypatch.delenv("TINYGEN_DATA", raising=False)
    assert download_mnist(base_url=url, checksums=checksums) == tmp_path / "root" / "mnist"
    assert load_mnist("train")[0].shape == (600, 28, 28)


def test_file_url_and_verified_files_are_kept(tmp_path, mnist_dir, capsys):
    checksums = {name: hashlib.md5((mnist_dir / name).read_bytes()).hexdigest()
                 for name in MNIST_MD5}
    dest = download_mnist(tmp_path, base_url=mnist_dir.as_uri(), checksums=checksums)
    assert capsys.readouterr().err.count("downloading") == 4
    mtimes = {p.name: p.stat().st_mtime_ns for p in dest.iterdir()}
    download_mnist(tmp_path, base_url=mnist_dir.as_uri(), checksums=checksums)
    assert capsys.readouterr().err == ""
    assert {p.name: p.stat().st_mtime_ns for p in dest.iterdir()} == mtimes


def test_checksum_mismatch_leaves_nothing(tmp_path, served):
    url, checksums = served
    wrong = dict(checksums, **{"t10k-images-idx3-ubyte.gz": "0" * 32})
    with pytest.raises(DownloadError, match="MD5 checksum .* does not match") as info:
        download_mnist(tmp_path, base_url=url, checksums=wrong)
    assert "tinygen[data]" in str(info.value)
    assert not (tmp_path / "t10k-images-idx3-ubyte.gz").exists()
    assert not list(tmp_path.glob("*.part"))


def test_http_error_names_the_status(tmp_path, served):
    url, _ = served
    with pytest.raises(DownloadError, match="HTTP 404.*another base_url"):
        download_mnist(tmp_path, base_url=url, checksums={"missing.gz": "0" * 32})


def test_offline_gives_a_clear_error(tmp_path):
    """Port 1 on loopback refuses connections, as an unreachable mirror does."""
    with pytest.raises(DownloadError, match="offline.*TINYGEN_DATA") as info:
        download_mnist(tmp_path, base_url="http://127.0.0.1:1/", timeout=2)
    assert isinstance(info.value, OSError)
    assert not list(tmp_path.iterdir())


def test_download_command(tmp_path, served, monkeypatch, capsys):
    from tinygen.cli import main
    from tinygen.data import download as download_module

    url, checksums = served
    monkeypatch.setattr(download_module, "MNIST_MD5", checksums)
    assert main(["download", "--dest", str(tmp_path / "d"), "--base-url", url]) == 0
    assert f"MNIST is in {tmp_path / 'd'}" in capsys.readouterr().out
    assert load_mnist("test", data_dir=tmp_path / "d")[0].shape == (100, 28, 28)
    assert main(["download", "--dest", str(tmp_path / "e"), "--base-url",
                 "http://127.0.0.1:1/", "--timeout", "2"]) == 1
    assert "tinygen download: error: cannot download" in capsys.readouterr().err
