import subprocess
import sys
from pathlib import Path

import pytest

import tinygen
import tinygen.backend
from tinygen.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def device_env(monkeypatch):
    """Set $TINYGEN_DEVICE for one test, with the cached default device cleared around it."""
    monkeypatch.setattr(tinygen.backend, "_default_device", [None])

    def set_device(value):
        monkeypatch.setenv("TINYGEN_DEVICE", value)

    return set_device


def test_info_lists_versions_and_device(device_env, capsys):
    device_env("cpu")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert tinygen.__version__ in out
    assert "NumPy" in out
    assert "Numba" in out
    assert "CuPy" in out
    assert "Device   cpu" in out
    assert "Memory   " in out
    assert "BLAS     " in out and "OpenMP   " in out


def test_info_says_whether_freed_memory_is_kept(device_env, monkeypatch, capsys):
    device_env("cpu")
    monkeypatch.setattr(tinygen.memory, "kept", True)
    main(["info"])
    assert "Memory   freed blocks up to 1 GiB kept" in capsys.readouterr().out
    monkeypatch.setattr(tinygen.memory, "kept", False)
    main(["info"])
    assert "Memory   malloc's own settings" in capsys.readouterr().out


def test_info_follows_tinygen_device(device_env, capsys):
    device_env("cuda:1")
    assert main(["info"]) == 0
    assert "Device   cuda:1" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["fused", "reference"])
def test_info_names_the_kernel_mode(device_env, monkeypatch, capsys, mode):
    device_env("cpu")
    monkeypatch.setenv("TINYGEN_KERNELS", mode)
    assert main(["info"]) == 0
    assert f"Kernels  {mode}" in capsys.readouterr().out


def test_info_rejects_unknown_kernel_mode(device_env, monkeypatch, capsys):
    device_env("cpu")
    monkeypatch.setenv("TINYGEN_KERNELS", "fast")
    assert main(["info"]) == 2
    assert "TINYGEN_KERNELS='fast'" in capsys.readouterr().err


def test_info_rejects_unknown_device(device_env, capsys):
    device_env("tpu")
    assert main(["info"]) == 2
    err = capsys.readouterr().err
    assert "TINYGEN_DEVICE" in err
    assert "'tpu'" in err


def test_command_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_python_m_tinygen_info():
    result = subprocess.run([sys.executable, "-m", "tinygen", "info"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "tinygen" in result.stdout and "NumPy" in result.stdout
