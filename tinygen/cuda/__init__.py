"""``tg.cuda``: the GPUs, their memory, their random generators and their streams, with
``torch.cuda``'s names, over CuPy.

Without CuPy or a GPU, every call behaves as in PyTorch's CPU-only build: the queries answer
False, 0, [] or {} (``is_available``, ``device_count``, ``memory_allocated``, ...), seeding does
nothing, ``empty_cache`` and ``stream(None)`` change nothing, and the calls that need a GPU raise
``CudaUnavailableError``, which is both the ``AssertionError`` ("Torch not compiled with CUDA
enabled") and the ``RuntimeError`` PyTorch raises there.

    devices.py  which GPUs, the current one, properties, synchronize
    memory.py   allocated / reserved bytes and their peaks, from CuPy's memory pool
    random.py   seeding each GPU's default generator
    streams.py  Stream, Event, and the stream context
"""

from tinygen.cuda.devices import (
    DeviceProperties, current_device, device, device_count, get_arch_list,
    get_device_capability, get_device_memory, get_device_name, get_device_properties,
    ipc_collect, is_available, is_bf16_supported, runtime_version, set_device, synchronize)
from tinygen.cuda.lazy import CudaUnavailableError, init, is_initialized
from tinygen.cuda.memory import (
    empty_cache, max_memory_allocated, max_memory_reserved, mem_get_info, memory_allocated,
    memory_reserved, memory_stats, memory_summary, reset_max_memory_allocated,
    reset_peak_memory_stats)
from tinygen.cuda.random import (
    get_rng_state, get_rng_state_all, initial_seed, manual_seed, manual_seed_all, seed, seed_all,
    set_rng_state, set_rng_state_all)
from tinygen.cuda.streams import (
    Event, Stream, StreamContext, current_stream, default_stream, set_stream, stream)

__all__ = [
    "CudaUnavailableError", "DeviceProperties", "Event", "Stream", "StreamContext",
    "current_device", "current_stream", "default_stream", "device", "device_count",
    "empty_cache", "get_arch_list", "get_device_capability", "get_device_memory",
    "get_device_name", "get_device_properties", "get_rng_state", "get_rng_state_all", "init",
    "initial_seed", "ipc_collect", "is_available", "is_bf16_supported", "is_initialized",
    "manual_seed", "manual_seed_all", "max_memory_allocated", "max_memory_reserved",
    "mem_get_info", "memory_allocated", "memory_reserved", "memory_stats", "memory_summary",
    "reset_max_memory_allocated", "reset_peak_memory_stats", "runtime_version", "seed",
    "seed_all", "set_device", "set_rng_state", "set_rng_state_all", "set_stream", "stream",
    "synchronize"]
