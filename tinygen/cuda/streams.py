"""CUDA streams and events, as ``torch.cuda.Stream`` / ``Event``, over CuPy's.

tinygen queues all its kernels on the current CuPy stream, so ``with tg.cuda.stream(s):`` runs
the ops inside the block on ``s``; events time and order work between streams. Without a GPU,
making a Stream or an Event raises ``CudaUnavailableError`` (a RuntimeError, as in PyTorch's
CPU build), and ``tg.cuda.stream(None)`` is a block that changes nothing.
"""

import contextlib

from tinygen import device_checks
from tinygen.backend import Device
from tinygen.cuda.lazy import lazy_init, resolve


class Stream:
    """A new CUDA stream on a GPU (the current one by default). ``priority``: lower numbers run
    first, as in CUDA; 0 is the default."""

    def __init__(self, device=None, priority=0):
        cupy = lazy_init("tg.cuda.Stream")
        self.device_index = resolve(cupy, device)
        with cupy.cuda.Device(self.device_index):
            self.cupy_stream = (cupy.cuda.Stream(priority=priority) if priority
                                else cupy.cuda.Stream())

    @classmethod
    def _wrapping(cls, cupy_stream, index):
        """A Stream over an existing CuPy stream of GPU ``index`` (CuPy's null stream belongs
        to no GPU in particular, so the index is kept here)."""
        stream = cls.__new__(cls)
        stream.cupy_stream, stream.device_index = cupy_stream, index
        return stream

    @property
    def device(self):
        return Device("cuda", self.device_index)

    @property
    def priority(self):
        return self.cupy_stream.priority

    @property
    def cuda_stream(self):
        """The raw cudaStream_t handle, as an int."""
        return self.cupy_stream.ptr

    def query(self):
        """True when all work queued on this stream has finished."""
        return self.cupy_stream.done

    def synchronize(self):
        """Wait for the work queued on this stream, then raise any failed device check."""
        self.cupy_stream.synchronize()
        device_checks.flush()

    def wait_event(self, event):
        """Make the work queued on this stream from now on wait for ``event``."""
        self.cupy_stream.wait_event(event.cupy_event)

    def wait_stream(self, stream):
        """Make this stream wait for the work queued on ``stream`` so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record ``event`` (a new one by default) on this stream, and return it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream and \
            self.device == other.device

    def __hash__(self):
        return hash((self.cuda_stream, self.device))

    def __repr__(self):
        return f"<tinygen.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A CUDA event: a mark in a stream's queue, to wait for or to time work between two."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cupy = lazy_init("tg.cuda.Event")
        self.cupy_event = cupy.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                          interprocess=interprocess)

    def record(self, stream=None):
        """Mark the current point of ``stream``'s queue (the current stream by default)."""
        stream = current_stream() if stream is None else stream
        self.cupy_event.record(stream.cupy_stream)

    def wait(self, stream=None):
        """Make ``stream`` (the current one by default) wait for this event."""
        stream = current_stream() if stream is None else stream
        stream.wait_event(self)

    def query(self):
        """True when the work before this event has finished."""
        return self.cupy_event.done

    def synchronize(self):
        """Wait for the work before this event, then raise any failed device check."""
        self.cupy_event.synchronize()
        device_checks.flush()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both made with
        ``enable_timing=True`` and recorded)."""
        return float(lazy_init().cuda.get_elapsed_time(self.cupy_event, end_event.cupy_event))


def current_stream(device=None):
    """The stream tinygen's kernels are queued on now, on a GPU (the current one by default)."""
    cupy = lazy_init("tg.cuda.current_stream()")
    index = resolve(cupy, device)
    return Stream._wrapping(cupy.cuda.get_current_stream(index), index)


def default_stream(device=None):
    """The GPU's default (null) stream."""
    cupy = lazy_init("tg.cuda.default_stream()")
    return Stream._wrapping(cupy.cuda.Stream.null, resolve(cupy, device))


def set_stream(stream):
    """Queue tinygen's kernels on ``stream`` from now on (None changes nothing)."""
    if stream is not None:
        with lazy_init("tg.cuda.set_stream()").cuda.Device(stream.device_index):
            stream.cupy_stream.use()


@contextlib.contextmanager
def stream(stream):
    """``with tg.cuda.stream(s):`` queues the block's kernels on ``s`` (on its GPU), then goes
    back to the stream and GPU before; ``stream(None)`` changes nothing."""
    if stream is None:
        yield
        return
    cupy = lazy_init("tg.cuda.stream()")
    with cupy.cuda.Device(stream.device_index), stream.cupy_stream:
        yield


StreamContext = stream
