"""The NumPy/CuPy switch: Device parsing and equality, the default device ($TINYGEN_DEVICE),
what asking for CUDA without CuPy says, seeded generators, and get_array_module."""

import numpy as np
import pytest

import tinygen as tg
from tinygen import backend

# Device

@pytest.mark.parametrize("args, kind, index, text", [
    (("cpu",), "cpu", None, "cpu"),
    (("cuda",), "cuda", 0, "cuda:0"),
    (("cuda:1",), "cuda", 1, "cuda:1"),
    (("cuda", 2), "cuda", 2, "cuda:2"),
    (("cpu", 0), "cpu", None, "cpu"),
    ((tg.device("cuda:3"),), "cuda", 3, "cuda:3"),
])
def test_device_parsing(args, kind, index, text):
    dev = tg.device(*args)
    assert (dev.type, dev.index, str(dev)) == (kind, index, text)


def test_device_repr_matches_pytorch():
    assert repr(tg.device("cpu")) == "device(type='cpu')"
    assert repr(tg.device("cuda:1")) == "device(type='cuda', index=1)"


@pytest.mark.parametrize("a, b, equal", [
    (tg.device("cuda"), tg.device("cuda:0"), True),
    (tg.device("cuda"), "cuda:0", True),
    (tg.device("cuda:1"), tg.device("cuda", 1), True),
    (tg.device("cpu"), "cpu", True),
    (tg.device("cuda:0"), "cuda:1", False),
    (tg.device("cpu"), "cuda", False),
    (tg.device("cpu"), "tpu", False),               # not a device: unequal, not an error
    (tg.device("cpu"), 0, False),
    (tg.device("cpu"), None, False),
])
def test_device_equality(a, b, equal):
    assert (a == b) is equal
    assert (a != b) is not equal


def test_devices_hash_by_value():
    assert len({tg.device("cuda"), tg.device("cuda:0"), tg.device("cpu"), tg.device("cpu")}) == 2


@pytest.mark.parametrize("spec, message", [
    ("tpu", r"unknown device 'tpu': expected 'cpu', 'cuda' or 'cuda:N'"),
    ("gpu:0", r"unknown device 'gpu:0'"),
    ("cuda:x", r"bad device index in 'cuda:x'"),
    ("cuda:-1", r"bad device index in 'cuda:-1'"),
    ("cpu:1", r"the CPU has no index"),
])
def test_bad_device_names_say_what_is_expected(spec, message):
    with pytest.raises(ValueError, match=message):
        tg.device(spec)


# The default device

@pytest.fixture
def fresh_default(monkeypatch):
    """Clear the cached default device for one test (and restore it after)."""
    monkeypatch.setattr(backend, "_default_device", [None])
    return monkeypatch


@pytest.mark.parametrize("env, expected", [(None, "cpu"), ("", "cpu"), ("cpu", "cpu"),
                                           ("cuda", "cuda:0"), ("cuda:1", "cuda:1")])
def test_tinygen_device_sets_the_default(fresh_default, env, expected):
    if env is None:
        fresh_default.delenv("TINYGEN_DEVICE", raising=False)
    else:
        fresh_default.setenv("TINYGEN_DEVICE", env)
    assert backend.default_device() == expected


def test_default_device_is_read_once(fresh_default):
    fresh_default.setenv("TINYGEN_DEVICE", "cpu")
    assert backend.default_device() == "cpu"
    fresh_default.setenv("TINYGEN_DEVICE", "cuda")
    assert backend.default_device() == "cpu"


def test_bad_tinygen_device_is_an_error(fresh_default):
    fresh_default.setenv("TINYGEN_DEVICE", "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        backend.default_device()


def test_new_tensors_go_to_the_default_device(fresh_default):
    fresh_default.setenv("TINYGEN_DEVICE", "cpu")
    assert tg.zeros(2).device == "cpu" and tg.randn(2).device == "cpu"
    assert tg.tensor([1.0]).device == "cpu"


def test_set_default_device(fresh_default):
    tg.set_default_device("cpu")
    assert backend.default_device() == tg.device("cpu")
    with pytest.raises(ValueError):
        tg.set_default_device("tpu")


# CUDA without CuPy

@pytest.fixture
def no_cupy(monkeypatch):
    """Act as if CuPy (or a GPU) were missing, whatever this machine has."""
    monkeypatch.setattr(backend, "_import_cupy", lambda: None)


@pytest.mark.parametrize("ask", [
    lambda: tg.zeros(2, device="cuda"),
    lambda: tg.randn(2, device="cuda:0"),
    lambda: tg.tensor([1.0], device="cuda"),
    lambda: tg.ones(2).cuda(),
    lambda: tg.ones(2).to("cuda"),
    lambda: tg.get_array_module("cuda"),
], ids=["zeros", "randn", "tensor", "cuda()", "to", "get_array_module"])
def test_asking_for_cuda_without_cupy_says_what_to_install(no_cupy, ask):
    with pytest.raises(RuntimeError) as info:
        ask()
    message = str(info.value)
    assert "CuPy" in message and "pip install 'tinygen[cuda12]'" in message
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0


def test_default_cuda_device_without_cupy_fails_at_first_tensor(fresh_default, no_cupy):
    fresh_default.setenv("TINYGEN_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="pip install"):
        tg.zeros(2)


def test_cuda_queries_without_cupy_answer_no(no_cupy):
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert backend.has_cupy() is False


@pytest.mark.cuda
def test_cuda_round_trip():
    if not tg.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    x = tg.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    assert x.device == "cuda:0" and x.is_cuda
    assert tg.get_array_module(x).__name__ == "cupy"
    (x * x).sum().backward()
    assert x.grad.device == "cuda:0" and x.grad.cpu().tolist() == [2.0, 4.0]


# Seeded generators

@pytest.mark.parametrize("draw", [
    lambda d: tg.randn(3, 2, device=d), lambda d: tg.rand(5, device=d),
    lambda d: tg.randint(0, 100, (6,), device=d), lambda d: tg.randperm(7, device=d),
    lambda d: tg.randn(4, dtype=tg.float64, device=d),
    lambda d: tg.empty(3, device=d).normal_(2.0, 0.5),
    lambda d: tg.empty(3, device=d).uniform_(-1.0, 1.0),
], ids=["randn", "rand", "randint", "randperm", "randn64", "normal_", "uniform_"])
def test_manual_seed_makes_random_tensors_repeat(device, draw):
    tg.manual_seed(1234)
    first = draw(device)
    assert first.device == device
    first = first.tolist()
    again = draw(device).tolist()
    tg.manual_seed(1234)
    assert draw(device).tolist() == first
    assert again != first                              # the stream moves on between draws
    tg.manual_seed(99)
    assert draw(device).tolist() != first


def test_manual_seed_returns_and_records_the_seed():
    assert tg.manual_seed(7) is tg.default_generator and tg.initial_seed() == 7


def test_rng_state_round_trip():
    tg.manual_seed(3)
    state = backend.get_rng_state("cpu")
    first = tg.randn(4).tolist()
    backend.set_rng_state(state, "cpu")
    assert tg.randn(4).tolist() == first


def test_random_draws_have_the_right_statistics():
    tg.manual_seed(0)
    normal = tg.randn(20000, dtype=tg.float64).cpu().numpy()
    assert abs(normal.mean()) < 0.03 and abs(normal.std() - 1) < 0.03
    shifted = tg.empty(20000, dtype=tg.float64).normal_(3.0, 0.5).cpu().numpy()
    assert abs(shifted.mean() - 3) < 0.02 and abs(shifted.std() - 0.5) < 0.02


# get_array_module and moving arrays

@pytest.mark.parametrize("obj", [np.ones(2), tg.ones(2), tg.device("cpu"), "cpu", 1.5,
                                 np.float32(1)],
                         ids=["ndarray", "tensor", "device", "str", "float", "np-scalar"])
def test_get_array_module_on_the_cpu_is_numpy(obj):
    assert tg.get_array_module(obj) is np


def test_to_device_on_the_cpu_is_the_same_array():
    a = np.ones(3)
    assert backend.to_device(a, "cpu") is a
    assert backend.device_of(a) == "cpu"


def test_on_device_passes_the_array_module():
    assert backend.on_device(lambda xp: xp.zeros(2), "cpu").tolist() == [0.0, 0.0]


def test_has_numba_matches_its_version():
    assert backend.has_numba() == (backend.numba_version() is not None)
