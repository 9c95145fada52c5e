"""tg.cuda's torch.cuda surface: without a GPU every call answers or raises as PyTorch's CPU-only
build does (checked against the installed torch where it is a CPU build); with one, memory,
devices, seeds and streams are exercised on CuPy (those tests skip here)."""

import numpy as np
import pytest

import tinygen as tg
from tinygen.cuda import lazy

NO_GPU = pytest.mark.skipif(tg.cuda.is_available(), reason="checks the behaviour without a GPU")

# (function, arguments, what PyTorch's CPU build returns): tinygen returns the same.
RETURNS = [
    ("is_available", (), False), ("device_count", (), 0), ("is_initialized", (), False),
    ("is_bf16_supported", (), False), ("memory_allocated", (), 0),
    ("memory_allocated", ("cpu",), 0), ("max_memory_allocated", (), 0),
    ("memory_reserved", (), 0), ("max_memory_reserved", (), 0), ("empty_cache", (), None),
    ("memory_stats", (), {}), ("get_arch_list", (), []), ("seed", (), None),
    ("seed_all", (), None), ("manual_seed", (3,), None), ("manual_seed_all", (3,), None),
    ("get_rng_state_all", (), []), ("set_rng_state_all", ([],), None), ("set_device", (-1,), None),
]
# (function, arguments, the error PyTorch's CPU build raises): tinygen raises one of that type.
RAISES = [
    ("current_device", (), AssertionError), ("mem_get_info", (), AssertionError),
    ("get_device_properties", (0,), AssertionError), ("get_device_capability", (), AssertionError),
    ("get_device_name", (), AssertionError), ("init", (), AssertionError),
    ("ipc_collect", (), AssertionError), ("initial_seed", (), AssertionError),
    ("get_rng_state", (), AssertionError), ("current_stream", (), AssertionError),
    ("default_stream", (), AssertionError), ("synchronize", (), AssertionError),
    ("Stream", (), RuntimeError), ("Event", (), RuntimeError), ("set_device", ("cpu",), ValueError),
]


def _ids(table):
    return [f"{name}{args}" for name, args, _ in table]


@NO_GPU
@pytest.mark.parametrize("name, args, expected", RETURNS, ids=_ids(RETURNS))
def test_queries_without_a_gpu_answer_as_pytorch(name, args, expected):
    result = getattr(tg.cuda, name)(*args)
    assert result == expected and type(result) is type(expected)


@NO_GPU
@pytest.mark.parametrize("name, args, error", RAISES, ids=_ids(RAISES))
def test_calls_that_need_a_gpu_raise_pytorchs_error(name, args, error):
    with pytest.raises(error) as info:
        getattr(tg.cuda, name)(*args)
    if error is not ValueError:
        # Both forms PyTorch uses, so code catching either catches it; the message says why.
        assert isinstance(info.value, AssertionError) and isinstance(info.value, RuntimeError)
        assert "needs a CUDA GPU" in str(info.value) and "pip install" in str(info.value)
    assert not tg.cuda.is_initialized()


@NO_GPU
@pytest.mark.parametrize("name, args, expected", RETURNS, ids=_ids(RETURNS))
def test_returns_match_torch_cpu_build(name, args, expected):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch has CUDA here")
    assert getattr(torch.cuda, name)(*args) == getattr(tg.cuda, name)(*args)


@NO_GPU
@pytest.mark.parametrize("name, args, error", RAISES, ids=_ids(RAISES))
def test_errors_match_torch_cpu_build(name, args, error):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch has CUDA here")
    with pytest.raises(error):
        getattr(torch.cuda, name)(*args)


@NO_GPU
def test_rng_state_setters_and_contexts_do_nothing_without_a_gpu():
    assert tg.cuda.set_rng_state(tg.zeros(5, dtype=tg.uint8)) is None
    with tg.cuda.device(-1), tg.cuda.device(None), tg.cuda.stream(None):
        tg.cuda.set_stream(None)
    with pytest.raises(RuntimeError, match="tg.cuda.device needs a CUDA GPU"):
        with tg.cuda.device(0):
            pass
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        tg.cuda.device("cpu")


@NO_GPU
def test_peak_resets_and_summary_without_a_gpu():
    tg.cuda.reset_peak_memory_stats()              # PyTorch's CPU build has no binding; a no-op
    with pytest.warns(FutureWarning, match="reset_peak_memory_stats"):
        tg.cuda.reset_max_memory_allocated()
    summary = tg.cuda.memory_summary()
    assert isinstance(summary, str) and "no CUDA GPU" in summary


def test_device_arguments_name_gpu_indices():
    assert lazy.device_index(None) is None and lazy.device_index("cuda") is None
    assert lazy.device_index(2) == 2 and lazy.device_index("cuda:1") == 1
    assert lazy.device_index(tg.device("cuda", 3)) == 3
    assert lazy.device_index(tg.device("cuda:0")) == 0 and lazy.device_index(np.int64(1)) == 1
    assert lazy.device_index(tg.cuda.device(4)) == 4
    with pytest.raises(ValueError, match="got: cpu"):
        lazy.device_index(tg.device("cpu"))
    with pytest.raises(TypeError, match="got float"):
        lazy.device_index(1.0)


def test_peak_tracker_wraps_the_allocator_once(monkeypatch):
    """The CuPy allocator wrapper, on a stand-in pool: peaks rise at allocations only."""
    from types import SimpleNamespace
    from tinygen.cuda import memory

    class Pool:
        used = total = 0

        def used_bytes(self):
            return self.used

        def total_bytes(self):
            return self.total

    pool, installed = Pool(), []

    def inner(size):
        pool.used += size
        pool.total = max(pool.total, pool.used)
        return SimpleNamespace(device_id=1)

    cupy = SimpleNamespace(get_default_memory_pool=lambda: pool,
                           cuda=SimpleNamespace(get_allocator=lambda: inner,
                                                set_allocator=installed.append))
    monkeypatch.setattr(memory, "_tracking", [False])
    monkeypatch.setattr(memory, "_peaks", {})
    memory._track_peaks(cupy)
    memory._track_peaks(cupy)
    assert len(installed) == 1
    assert installed[0](100).device_id == 1
    pool.used -= 100                                   # the array is freed: back to the pool
    installed[0](30)
    assert memory._peaks == {1: [100, 100]} and pool.used == 30


def test_submodules_import_as_torchs():
    from tinygen.cuda import memory, random, streams
    assert memory.memory_allocated is tg.cuda.memory_allocated
    assert random.manual_seed is tg.cuda.manual_seed and streams.Stream is tg.cuda.Stream
    assert tg.cuda.StreamContext is tg.cuda.stream
    assert set(tg.cuda.__all__) <= set(dir(tg.cuda))


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
class TestOnGPU:
    """The CuPy branches: real GPU memory, devices, generators, streams and events."""

    def test_memory_counts_pool_bytes_and_peaks(self):
        tg.cuda.synchronize()
        tg.cuda.reset_peak_memory_stats()
        before = tg.cuda.memory_allocated()
        x = tg.zeros(1 << 22, device="cuda")                   # 16 MiB of float32
        assert tg.cuda.memory_allocated() >= before + (1 << 24)
        assert tg.cuda.memory_reserved() >= tg.cuda.memory_allocated()
        del x
        assert tg.cuda.memory_allocated() < before + (1 << 24)
        assert tg.cuda.max_memory_allocated() >= before + (1 << 24)
        assert tg.cuda.max_memory_reserved() >= tg.cuda.max_memory_allocated()
        stats = tg.cuda.memory_stats()
        assert stats["allocated_bytes.all.peak"] == tg.cuda.max_memory_allocated()
        assert list(stats) == sorted(stats)
        tg.cuda.reset_peak_memory_stats()
        assert tg.cuda.max_memory_allocated() == tg.cuda.memory_allocated()
        tg.cuda.empty_cache()
        assert tg.cuda.memory_reserved() >= tg.cuda.memory_allocated()
        free, total = tg.cuda.mem_get_info()
        assert 0 < free <= total
        assert "Allocated memory" in tg.cuda.memory_summary()

    def test_devices_and_properties(self):
        index = tg.cuda.current_device()
        assert 0 <= index < tg.cuda.device_count() and tg.cuda.is_initialized()
        tg.cuda.set_device(index)
        with tg.cuda.device(0):
            assert tg.cuda.current_device() == 0
        assert tg.cuda.current_device() == index
        props = tg.cuda.get_device_properties(0)
        assert props.name == tg.cuda.get_device_name(0) and props.multi_processor_count > 0
        assert tg.cuda.get_device_capability(0) == (props.major, props.minor) and props.major >= 3
        assert f"sm_{props.major}{props.minor}" in tg.cuda.get_arch_list()
        tg.cuda.ipc_collect()

    def test_seeds(self):
        tg.cuda.manual_seed(123)
        assert tg.cuda.initial_seed() == 123
        a = tg.randn(4, device="cuda").cpu().tolist()
        tg.cuda.manual_seed(123)
        assert tg.randn(4, device="cuda").cpu().tolist() == a
        tg.cuda.seed()
        assert tg.cuda.initial_seed() != 123
        with pytest.raises(RuntimeError, match="cannot save"):
            tg.cuda.get_rng_state()
        with pytest.raises(RuntimeError, match="cannot load"):
            tg.cuda.set_rng_state(tg.zeros(5, dtype=tg.uint8))

    def test_streams_and_events(self):
        side = tg.cuda.Stream()
        assert tg.cuda.current_stream() != side
        assert tg.cuda.default_stream().cuda_stream == 0
        start, end = tg.cuda.Event(enable_timing=True), tg.cuda.Event(enable_timing=True)
        with tg.cuda.stream(side):
            assert tg.cuda.current_stream() == side
            start.record()
            y = (tg.ones(1 << 16, device="cuda") * 2).sum()
            end.record()
        assert tg.cuda.current_stream() != side
        end.synchronize()
        assert end.query() and side.query() and start.elapsed_time(end) >= 0
        tg.cuda.current_stream().wait_stream(side)
        assert y.item() == 2.0 * (1 << 16)
        assert side.device == tg.device("cuda", tg.cuda.current_device())
