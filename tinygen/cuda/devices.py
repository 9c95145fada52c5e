"""Which GPUs there are, which one is current, and what each can do: ``torch.cuda``'s device
calls over CuPy's runtime API. Without a GPU, the queries answer False, 0 or [] where PyTorch's
CPU build does, and the rest raise ``CudaUnavailableError``."""

from dataclasses import dataclass

from tinygen import backend, device_checks
from tinygen.cuda.lazy import device_index, lazy_init, resolve


def is_available():
    """True when CuPy imports and sees at least one CUDA GPU."""
    return backend.has_cupy()


def is_bf16_supported():
    """False: tinygen has no bfloat16 (NumPy and CuPy have no such type)."""
    return False


def device_count():
    return backend.cupy_module().cuda.runtime.getDeviceCount() if is_available() else 0


def current_device():
    """The index of the current GPU (the one new CUDA tensors go to with ``device='cuda'``)."""
    return lazy_init("tg.cuda.current_device()").cuda.runtime.getDevice()


def set_device(device):
    """Make GPU ``device`` current; a negative index does nothing, as in PyTorch."""
    index = device_index(device)
    if index is not None and index >= 0:
        lazy_init("tg.cuda.set_device()").cuda.Device(index).use()


class device:
    """``with tg.cuda.device(1):`` makes GPU 1 current inside the block, then restores the one
    before. A negative index or None does nothing."""

    def __init__(self, device):
        index = device_index(device)
        self.idx = -1 if index is None else index
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return
        cupy = lazy_init("tg.cuda.device")
        self.prev_idx = cupy.cuda.runtime.getDevice()
        if self.prev_idx != self.idx:
            cupy.cuda.runtime.setDevice(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx != self.idx:
            backend.cupy_module().cuda.runtime.setDevice(self.prev_idx)
        return False


@dataclass(frozen=True)
class DeviceProperties:
    """What ``get_device_properties`` reports, under PyTorch's attribute names."""
    name: str
    major: int
    minor: int
    total_memory: int
    multi_processor_count: int

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    """Name, compute capability, memory and multiprocessor count of a GPU (the current one by
    default)."""
    cupy = lazy_init("tg.cuda.get_device_properties()")
    props = cupy.cuda.runtime.getDeviceProperties(resolve(cupy, device))
    name = props["name"]
    return DeviceProperties(name=name.decode() if isinstance(name, bytes) else name,
                            major=props["major"], minor=props["minor"],
                            total_memory=props["totalGlobalMem"],
                            multi_processor_count=props["multiProcessorCount"])


def get_device_capability(device=None):
    """The compute capability (major, minor) of a GPU, e.g. (9, 0) for an H100."""
    props = get_device_properties(device)
    return props.major, props.minor


def get_device_name(device=None):
    return get_device_properties(device).name


def get_arch_list():
    """The architectures tinygen's kernels are built for: CuPy compiles them at run time for
    each visible GPU, so these are the GPUs' own ('sm_90', ...); [] without a GPU."""
    if not is_available():
        return []
    return sorted({"sm_{}{}".format(*get_device_capability(i)) for i in range(device_count())})


def get_device_memory(index=0):
    """(free, total) bytes of GPU ``index``."""
    cupy = lazy_init("tg.cuda.get_device_memory()")
    with cupy.cuda.Device(device_index(index)):
        return cupy.cuda.runtime.memGetInfo()


def runtime_version():
    """The CUDA runtime version as 'major.minor', e.g. '12.4'."""
    version = lazy_init("tg.cuda.runtime_version()").cuda.runtime.runtimeGetVersion()
    return f"{version // 1000}.{version % 1000 // 10}"


def synchronize(device=None):
    """Wait for every kernel queued on a GPU (the current one by default), then raise the error
    of any input check that failed on the device meanwhile (see ``device_checks``)."""
    cupy = lazy_init("tg.cuda.synchronize()")
    cupy.cuda.Device(resolve(cupy, device)).synchronize()
    device_checks.flush()


def ipc_collect():
    """Nothing to do: tinygen shares no GPU memory between processes (raises without a GPU, as
    PyTorch's CPU build does)."""
    lazy_init("tg.cuda.ipc_collect()")
