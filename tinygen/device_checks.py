"""Input checks that never stall a GPU: ``check(failed, error, *values)`` and ``flush()``.

Some bad input can only be seen in the values: an embedding id past the table, a class index
past the classes, a probability outside [0, 1]. Reading such a verdict on the host is free on
the CPU, so there the check raises at once. On a GPU the read waits for every queued kernel to
finish (a device-to-host synchronisation), in the middle of a training step, and the host can no
longer queue work ahead of the device. PyTorch never does that: its CUDA kernels assert on the
device, and the error surfaces at the next synchronisation.

tinygen does the same, and keeps the clear message. On a GPU the verdict, and the values its
message names, stay on the device in a queue. They are read in one copy (per GPU) at the next
point where the host waits for the device anyway: ``Tensor.item()``, ``tolist()``, ``numpy()``,
a copy to the CPU. The first failed check raises its error there, with a note saying which op
found it. The queue is also read when it holds ``MAX_PENDING`` checks, so a loop that never
reads a value still hears of bad input, a few steps late. Until then the op's result is
garbage, never a crash: the kernels read no memory out of bounds for bad input (CuPy's indexing
wraps around).
"""

import numpy as np

MAX_PENDING = 64
HOST_TYPES = (np.ndarray, np.generic)          # a NumPy array, or a scalar a reduction gave
_pending = []                 # (failed, error, values, op) in the order the checks ran


def deferred(array):
    """Whether a check on ``array`` is queued rather than read at once."""
    return not isinstance(array, HOST_TYPES)


def check(failed, error, *values, op=""):
    """Raise ``error(*values)`` if the 0-d boolean array ``failed`` holds True.

    ``values`` are 0-d arrays that the message names (an offending id, say), read with the
    verdict as Python numbers. On the CPU this reads ``failed`` at once; on a GPU it queues
    (see the module docstring). ``op`` names the op in the note of a queued check's error.
    """
    if not deferred(failed):
        if failed:
            raise error(*(value.item() for value in values))
        return
    _pending.append((failed, error, values, op))
    if len(_pending) >= MAX_PENDING:
        flush()


def flush():
    """Read every queued verdict (one copy per GPU) and raise the first failed check's error."""
    if not _pending:
        return
    pending = list(_pending)
    _pending.clear()
    host = _read([array for failed, _, values, _ in pending for array in (failed, *values)])
    at = 0
    for failed, error, values, op in pending:
        if host[at]:
            numbers = [int(n) if value.dtype.kind in "iub" else float(n)
                       for n, value in zip(host[at + 1:at + 1 + len(values)], values)]
            exception = error(*numbers)
            note = (f"(found by {op or 'an op'} when it ran on the device; reported at the "
                    f"first read of a value after it)")
            exception.args = (f"{exception.args[0]}\n{note}",) + exception.args[1:]
            raise exception
        at += 1 + len(values)


def _read(arrays):
    """The values of 0-d arrays as float64 NumPy numbers, in one copy per device they are on
    (float64 holds every id and class index exactly, up to 2**53)."""
    host = np.empty(len(arrays))
    by_device = {}
    for i, array in enumerate(arrays):
        device = None if isinstance(array, HOST_TYPES) else array.device.id
        by_device.setdefault(device, []).append(i)
    for device, indices in by_device.items():
        if device is None:
            host[indices] = [arrays[i] for i in indices]
            continue
        import cupy
        with cupy.cuda.Device(device):
            host[indices] = cupy.stack([cupy.asarray(arrays[i], dtype=cupy.float64).reshape(())
                                        for i in indices]).get()
    return host
