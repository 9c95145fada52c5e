"""NumPy and CuPy behind one switch: devices, array modules, moving arrays, random generators.

A tensor's device is simply where its array lives: a ``numpy.ndarray`` is on the CPU, a
``cupy.ndarray`` is on a CUDA GPU. CuPy and Numba are imported lazily, so tinygen runs on NumPy
alone and only pays for what it uses.
"""

import contextlib
import functools
import importlib.metadata
import os

import numpy as np

from tinygen import device_checks

CUDA_INSTALL_HINT = (
    "install CuPy for your CUDA version (pip install 'tinygen[cuda12]' or 'tinygen[cuda13]') "
    "on a machine with an NVIDIA GPU"
)


class Device:
    """Where a tensor's array lives: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda:1")``."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index if index is None else index
        kind, _, number = str(spec).partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        if number:
            if not number.isdigit():
                raise ValueError(f"bad device index in {spec!r}: expected 'cuda:N' with N >= 0")
            index = int(number)
        if kind == "cpu" and index not in (None, 0):
            raise ValueError(f"the CPU has no index, got {spec!r} with index {index}")
        self.type = kind
        self.index = None if kind == "cpu" else (index or 0)

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:             # not a device name, so not equal (as in PyTorch)
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


device = Device
CPU = Device("cpu")


@functools.cache
def _import_cupy():
    """CuPy if it imports and sees at least one GPU, else None."""
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        return cupy
    except Exception:                      # no package, no driver, no GPU: all mean "no CUDA"
        return None


def has_cupy():
    """True when CuPy imports and a CUDA GPU is visible."""
    return _import_cupy() is not None


def cupy_module():
    """The cupy module, or a RuntimeError saying what to install."""
    cupy = _import_cupy()
    if cupy is None:
        raise RuntimeError(f"CUDA was requested but CuPy or a GPU is not available: "
                           f"{CUDA_INSTALL_HINT}.")
    return cupy


def has_numba():
    """True when Numba can be imported (checked without importing it)."""
    return numba_version() is not None


def numba_version():
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return None


def _check_cuda_index(dev):
    count = cupy_module().cuda.runtime.getDeviceCount()
    if dev.index >= count:
        raise RuntimeError(f"{dev} was requested but only {count} CUDA device(s) are visible")


def get_array_module(obj):
    """numpy or cupy: the module of an array, a Tensor, or a Device."""
    if isinstance(obj, (Device, str)):
        return np if Device(obj).type == "cpu" else cupy_module()
    if isinstance(obj, np.ndarray) or np.isscalar(obj):
        return np
    array = getattr(obj, "array", obj)
    if isinstance(array, np.ndarray):
        return np
    cupy = _import_cupy()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return np


def device_of(array):
    """The Device an array lives on."""
    if isinstance(array, np.ndarray):
        return CPU
    return Device("cuda", array.device.id)


def to_device(array, dev):
    """The array on device ``dev``: itself if it is already there, else a copy."""
    dev = Device(dev)
    if dev.type == "cpu":
        device_checks.flush()                      # the host waits here anyway
        return array if isinstance(array, np.ndarray) else array.get()
    cupy = cupy_module()
    _check_cuda_index(dev)
    if isinstance(array, cupy.ndarray) and array.device.id == dev.index:
        return array
    with cupy.cuda.Device(dev.index):
        return cupy.asarray(array)


def on_device(array_fn, dev):
    """Run ``array_fn(xp)`` with ``dev`` current, so that CuPy allocates on the right GPU."""
    dev = Device(dev)
    if dev.type == "cpu":
        return array_fn(np)
    cupy = cupy_module()
    _check_cuda_index(dev)
    with cupy.cuda.Device(dev.index):
        return array_fn(cupy)


_default_device = [None]


def default_device():
    """The device new tensors go to: set_default_device(), else $TINYGEN_DEVICE, else the CPU."""
    if _default_device[0] is None:
        _default_device[0] = Device(os.environ.get("TINYGEN_DEVICE", "cpu") or "cpu")
    return _default_device[0]


def set_default_device(dev):
    _default_device[0] = Device(dev)


_SEED_RANGE = (-1 << 63, (1 << 64) - 1)          # what PyTorch accepts: int64 or uint64


def as_seed(seed):
    """``seed`` as a 64-bit unsigned integer; negative ones wrap around, as in PyTorch."""
    seed = int(seed)
    if not _SEED_RANGE[0] <= seed <= _SEED_RANGE[1]:
        raise ValueError(f"seed {seed} does not fit in 64 bits: expected "
                         f"{_SEED_RANGE[0]} <= seed <= {_SEED_RANGE[1]}")
    return seed % (1 << 64)


def random_seed():
    """A non-deterministic 64-bit seed (from the operating system)."""
    return int.from_bytes(os.urandom(8), "little")


class RandomStream:
    """The numpy or cupy random Generator of one device, made from ``seed`` when first drawn
    from (so reseeding is free): what a ``tg.Generator`` draws with."""

    def __init__(self, dev, seed):
        self.device = Device(dev)
        self.reseed(seed)

    def reseed(self, seed):
        self.seed = as_seed(seed)
        self._rng = None

    @property
    def rng(self):
        if self._rng is None:
            self._rng = on_device(lambda xp: xp.random.default_rng(self.seed), self.device)
        return self._rng

    @contextlib.contextmanager
    def forked(self, seed):
        """Inside the block, draw from a fresh generator seeded with ``seed``; afterwards this
        stream goes on where it was (a fork that needs no saved state, which CuPy lacks)."""
        kept = self._rng
        self._rng = on_device(lambda xp: xp.random.default_rng(seed), self.device)
        try:
            yield
        finally:
            self._rng = kept


_seed = [random_seed()]       # unseeded runs differ, as before; tg.initial_seed() still says how
_streams = {}                 # Device -> the RandomStream behind that device's default generator


def default_stream(dev):
    """The RandomStream of ``dev``'s default generator (``tg.default_generator`` for the CPU)."""
    dev = Device(dev)
    if dev not in _streams:
        _streams[dev] = RandomStream(dev, _seed[0])
    return _streams[dev]


def manual_seed(seed):
    """Seed every device's generator, so initialisation, dropout and random tensors repeat."""
    _seed[0] = as_seed(seed)
    for stream in _streams.values():
        stream.reseed(_seed[0])
    return int(seed)


def initial_seed():
    """The seed of the CPU's default generator."""
    return default_stream("cpu").seed


def generator(dev):
    """The random generator of ``dev``: numpy.random.Generator or cupy.random.Generator."""
    return default_stream(dev).rng


def get_rng_state(dev="cpu"):
    """The CPU generator's state as a JSON-friendly dict (for checkpoints). CuPy's generators
    cannot export their state, so CUDA runs are reproduced from ``manual_seed`` instead."""
    if Device(dev).type != "cpu":
        raise RuntimeError("CuPy random generators cannot save their state; reseed with "
                           "tg.manual_seed() to reproduce a CUDA run")
    return generator(dev).bit_generator.state


def set_rng_state(state, dev="cpu"):
    if Device(dev).type != "cpu":
        raise RuntimeError("CuPy random generators cannot load a state; use tg.manual_seed()")
    generator(dev).bit_generator.state = state
