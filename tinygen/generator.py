"""``tg.Generator``: a random number generator of its own, as ``torch.Generator``, for the
``generator=`` argument of every random function; ``tg.default_generator`` is the CPU's.

A Generator draws with a NumPy (CPU) or CuPy (CUDA) ``Generator`` made from its seed, so the
numbers differ from PyTorch's for the same seed but repeat in tinygen. On the CPU its state is
the seed and the PCG64 bit generator's state, packed into a uint8 tensor; CuPy's generators
cannot export their state, so a CUDA Generator is reproduced with ``manual_seed`` instead.
"""

import numpy as np

from tinygen import backend, dtypes
from tinygen.tensor import Tensor

DEFAULT_SEED = 67280421310721          # PyTorch's seed for a new Generator

# The CPU state: (name, bytes) little-endian fields; state and inc are PCG64's 128-bit words,
# has_uint32 and uinteger the half of a 64-bit draw that a 32-bit draw left over.
_STATE_LAYOUT = (("seed", 8), ("state", 16), ("inc", 16), ("has_uint32", 1), ("uinteger", 4))
_STATE_SIZE = sum(size for _, size in _STATE_LAYOUT)


class Generator:
    """A seeded random number generator on ``device``; pass it as ``generator=`` to draw from
    it rather than from the device's default generator. A new one starts from PyTorch's
    default seed, 67280421310721."""

    def __init__(self, device="cpu"):
        self._stream = backend.RandomStream(device, DEFAULT_SEED)

    @classmethod
    def _wrapping(cls, stream):
        """A Generator drawing from an existing stream (a device's default one)."""
        generator = cls.__new__(cls)
        generator._stream = stream
        return generator

    @property
    def device(self):
        return self._stream.device

    def manual_seed(self, seed):
        """Restart from ``seed`` (an int64 or uint64 number); returns this generator."""
        self._stream.reseed(seed)
        return self

    def seed(self):
        """Restart from a non-deterministic seed, and return it."""
        seed = backend.random_seed()
        self._stream.reseed(seed)
        return seed

    def initial_seed(self):
        """The seed this generator last started from."""
        return self._stream.seed

    def get_state(self):
        """The state as a uint8 tensor, for ``set_state`` (CPU generators only)."""
        bits = _bit_state(self, "save")
        values = {"seed": self._stream.seed, "state": bits["state"]["state"],
                  "inc": bits["state"]["inc"], "has_uint32": bits["has_uint32"],
                  "uinteger": bits["uinteger"]}
        packed = b"".join(values[name].to_bytes(size, "little") for name, size in _STATE_LAYOUT)
        return Tensor(np.frombuffer(packed, dtype=dtypes.uint8).copy())

    def set_state(self, new_state):
        """Continue from a state that ``get_state`` returned; returns this generator."""
        _bit_state(self, "load")
        array = np.asarray(getattr(new_state, "array", new_state))
        if not isinstance(new_state, Tensor) or array.dtype != dtypes.uint8 or \
                array.shape != (_STATE_SIZE,):
            raise RuntimeError(f"set_state expects the uint8 tensor of {_STATE_SIZE} bytes that "
                               f"get_state returns, got {type(new_state).__name__} of dtype "
                               f"{getattr(array, 'dtype', None)} and shape {array.shape}")
        packed, values, start = array.tobytes(), {}, 0
        for name, size in _STATE_LAYOUT:
            values[name] = int.from_bytes(packed[start:start + size], "little")
            start += size
        self._stream.reseed(values["seed"])
        self._stream.rng.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": values["state"], "inc": values["inc"]},
            "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]}
        return self

    def __repr__(self):
        return f"<tinygen.Generator device='{self.device}' initial_seed={self.initial_seed()}>"


def _bit_state(generator, verb):
    """The PCG64 state of a CPU generator; a clear error on CUDA."""
    if generator.device.type != "cpu":
        raise RuntimeError(f"CuPy random generators cannot {verb} their state; reseed a "
                           f"{generator.device} Generator with manual_seed() to repeat its draws")
    return generator._stream.rng.bit_generator.state


default_generator = Generator._wrapping(backend.default_stream("cpu"))


def rng(device, generator=None):
    """The numpy/cupy Generator to draw numbers for ``device`` with: ``generator``'s (a
    ``tg.Generator``, which must be on that device, or a NumPy/CuPy Generator used as is), else
    the device's default one."""
    if generator is None:
        return backend.generator(device)
    if not isinstance(generator, Generator):
        return generator
    if generator.device.type != backend.Device(device).type:
        raise RuntimeError(f"Expected a '{backend.Device(device).type}' device type for "
                           f"generator but found '{generator.device.type}'")
    return generator._stream.rng
