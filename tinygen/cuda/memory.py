"""GPU memory as ``torch.cuda`` reports it, read from CuPy's default memory pool.

"Allocated" is what live arrays use (the pool's used bytes), "reserved" what the pool holds from
the driver (used plus cached free blocks). CuPy keeps no peaks, so the first call that needs one
(``max_memory_allocated``, ``reset_peak_memory_stats``, ...) wraps CuPy's allocator: from then on
every allocation updates its GPU's peaks, which are exact under the usual pattern of resetting
them, running, then reading them (each allocation then also asks the pool for its totals,
which older CuPy versions count by walking the live blocks). Before that call a peak is the
current value. Without a GPU the counters are 0 and ``memory_stats()`` is empty, as in PyTorch's
CPU build.
"""

import warnings

from tinygen.cuda.devices import is_available
from tinygen.cuda.lazy import lazy_init, resolve

_peaks = {}                 # GPU index -> [peak allocated bytes, peak reserved bytes]
_tracking = [False]         # whether CuPy's allocator is wrapped to update _peaks


def _pool_bytes(device):
    """(cupy, index, allocated, reserved) of the default pool on GPU ``device``."""
    cupy = lazy_init("tg.cuda memory statistics")
    index = resolve(cupy, device)
    pool = cupy.get_default_memory_pool()
    with cupy.cuda.Device(index):
        return cupy, index, pool.used_bytes(), pool.total_bytes()


def _track_peaks(cupy):
    """Wrap the current allocator once, so that each allocation raises its GPU's peaks."""
    if _tracking[0]:
        return
    pool, inner = cupy.get_default_memory_pool(), cupy.cuda.get_allocator()

    def malloc(size):
        pointer = inner(size)
        peak = _peaks.setdefault(pointer.device_id, [0, 0])
        peak[0] = max(peak[0], pool.used_bytes())          # the allocating GPU is current
        peak[1] = max(peak[1], pool.total_bytes())
        return pointer

    cupy.cuda.set_allocator(malloc)
    _tracking[0] = True


def _peak(device):
    """(allocated, reserved, peak allocated, peak reserved) bytes of a GPU."""
    cupy, index, used, total = _pool_bytes(device)
    _track_peaks(cupy)
    peak = _peaks.setdefault(index, [0, 0])
    peak[0], peak[1] = max(peak[0], used), max(peak[1], total)
    return used, total, peak[0], peak[1]


def memory_allocated(device=None):
    """Bytes that live CUDA arrays use on a GPU (the current one by default); 0 without one."""
    return _pool_bytes(device)[2] if is_available() else 0


def memory_reserved(device=None):
    """Bytes CuPy's pool holds on a GPU: in use plus cached for reuse; 0 without one."""
    return _pool_bytes(device)[3] if is_available() else 0


def max_memory_allocated(device=None):
    """The most bytes in use at once since the peaks were last reset (see the module notes)."""
    return _peak(device)[2] if is_available() else 0


def max_memory_reserved(device=None):
    """The most bytes the pool held at once since the peaks were last reset."""
    return _peak(device)[3] if is_available() else 0


def reset_peak_memory_stats(device=None):
    """Start the peaks again from the current values (nothing to do without a GPU)."""
    if is_available():
        _, index, used, total = _pool_bytes(device)
        _track_peaks(lazy_init())
        _peaks[index] = [used, total]


def reset_max_memory_allocated(device=None):
    """Deprecated in PyTorch for ``reset_peak_memory_stats``, which it calls (and so here)."""
    warnings.warn("tg.cuda.reset_max_memory_allocated now calls tg.cuda.reset_peak_memory_stats, "
                  "which resets /all/ peak memory stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def empty_cache():
    """Give the pools' cached free blocks back to the driver (nothing to do without a GPU)."""
    if is_available():
        cupy = lazy_init()
        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()


def mem_get_info(device=None):
    """(free, total) bytes of a GPU as the driver sees it (other processes included)."""
    cupy = lazy_init("tg.cuda.mem_get_info()")
    with cupy.cuda.Device(resolve(cupy, device)):
        return cupy.cuda.runtime.memGetInfo()


def memory_stats(device=None):
    """PyTorch's statistics that tinygen can know, under PyTorch's keys (sorted, as there);
    {} without a GPU."""
    if not is_available():
        return {}
    used, total, peak_used, peak_total = _peak(device)
    stats = {"active_bytes.all.current": used, "active_bytes.all.peak": peak_used,
             "allocated_bytes.all.current": used, "allocated_bytes.all.peak": peak_used,
             "inactive_split_bytes.all.current": total - used,
             "reserved_bytes.all.current": total, "reserved_bytes.all.peak": peak_total}
    return dict(sorted(stats.items()))


def memory_summary(device=None, abbreviated=False):
    """A short table of ``memory_stats()`` in MiB."""
    if not is_available():
        return "tinygen CUDA memory summary: no CUDA GPU (CuPy or a GPU is not available)\n"
    stats = memory_stats(device)
    index = resolve(lazy_init(), device)
    rows = [("Allocated memory", "allocated_bytes"), ("Reserved memory", "reserved_bytes")]
    lines = [f"tinygen CUDA memory summary, device {index} (CuPy's default pool)",
             f"{'':<18}{'current':>12}{'peak':>12}"]
    for label, key in rows:
        current, peak = stats[f"{key}.all.current"], stats[f"{key}.all.peak"]
        lines.append(f"{label:<18}{current / 2**20:>8.1f} MiB{peak / 2**20:>8.1f} MiB")
    return "\n".join(lines) + "\n"
