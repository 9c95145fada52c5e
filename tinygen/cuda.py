"""``tg.cuda``: is a GPU usable, and what is it. Mirrors the small part of ``torch.cuda`` that
scripts ask about; everything answers False or 0 when CuPy or a GPU is absent."""

from tinygen import backend, device_checks


def is_available():
    """True when CuPy imports and sees at least one CUDA GPU."""
    return backend.has_cupy()


def is_bf16_supported():
    """False: tinygen has no bfloat16 (NumPy and CuPy have no such type)."""
    return False


def device_count():
    return backend.cupy_module().cuda.runtime.getDeviceCount() if is_available() else 0


def get_device_name(index=0):
    props = backend.cupy_module().cuda.runtime.getDeviceProperties(index)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else name


def get_device_memory(index=0):
    """(free, total) bytes of GPU ``index``."""
    cupy = backend.cupy_module()
    with cupy.cuda.Device(index):
        return cupy.cuda.runtime.memGetInfo()


def runtime_version():
    """The CUDA runtime version as 'major.minor', e.g. '12.4'."""
    version = backend.cupy_module().cuda.runtime.runtimeGetVersion()
    return f"{version // 1000}.{version % 1000 // 10}"


def synchronize(index=None):
    """Wait for every kernel queued on GPU ``index`` (the current one by default), then raise
    the error of any input check that failed on the device meanwhile (see ``device_checks``)."""
    cupy = backend.cupy_module()
    if index is None:
        cupy.cuda.Device().synchronize()
    else:
        cupy.cuda.Device(index).synchronize()
    device_checks.flush()


def manual_seed(seed):
    """Seed the current GPU's default generator (with no GPU there is none, and nothing
    happens, as in PyTorch); ``tg.manual_seed`` seeds every device's."""
    seed = backend.as_seed(seed)
    if is_available():
        backend.default_stream(f"cuda:{backend.cupy_module().cuda.Device().id}").reseed(seed)


def manual_seed_all(seed):
    """Seed the default generator of every GPU."""
    seed = backend.as_seed(seed)
    for index in range(device_count()):
        backend.default_stream(f"cuda:{index}").reseed(seed)
