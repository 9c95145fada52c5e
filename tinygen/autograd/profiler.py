"""``tg.autograd.profile()``: where the time goes, op by op.

    with tg.autograd.profile() as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.table(sort_by="total", top=20))
    prof.export_chrome_trace("trace.json")      # open in https://ui.perfetto.dev

How it hooks in. ``Function.apply`` and the backward engine each test one module-level variable,
``function._profiler``; it is None except inside this block, so profiling costs nothing when it
is off. Inside, each op call goes to ``profile.forward``, which times a plain ``apply`` of it, and
each node's backward to the wrapper made by ``timed_backward``. The kernel dispatcher reports the
implementation it chose through ``kernels.on_dispatch``.

What counts as one call. An op call is timed as a whole: the ops run inside it (the tensor ops a
backward is written in, the ``sum_to`` that undoes broadcasting) belong to it and are not calls
of their own. So forward and backward times never overlap and add up to at most the wall time,
and the call counts are the ops your code ran. Backward time is filed under the op that recorded
the node: ``Mul`` backward is the time spent in ``MulBackward``.

On CUDA, kernels run asynchronously; each timing synchronises the device before it starts and
before it stops, so the time is the op's own (and the profiled code runs slower than without).
The hook is one variable for the whole process, so profile single-threaded code; profile blocks
do not nest.
"""

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from tinygen import kernels
from tinygen.autograd import function

SORT_KEYS = ("total", "forward", "backward", "calls", "bytes", "name")


@dataclass
class Event:
    """One timed op call: a forward or a node's backward."""
    name: str                      # the op ("Mul"); a backward event is filed under its op
    phase: str                     # "forward" or "backward"
    start_ns: int                  # time.perf_counter_ns() at the start
    duration_ns: int
    nbytes: int = 0                # bytes of the arrays a forward call produced
    kernel_paths: tuple = ()       # e.g. ("fused-cpu",): the kernels it dispatched
    shapes: tuple = ()             # input shapes (forward) or gradient shapes (backward)


@dataclass
class OpStats:
    """The events of one op, summed: a row of ``profile.table()``."""
    name: str
    calls: int = 0                 # forward calls
    forward_ns: int = 0
    backward_calls: int = 0
    backward_ns: int = 0
    nbytes: int = 0
    kernel_paths: set = field(default_factory=set)

    @property
    def total_ns(self):
        return self.forward_ns + self.backward_ns


class profile:
    """Context manager that records every op call inside it: see the module docstring.

    ``enabled=False`` makes the block a no-op, so a script can keep it in place.
    """

    def __init__(self, enabled=True):
        self.enabled = enabled
        self.events = []
        self.kernel_calls = {}           # (kernel name, path) -> calls, inside ops or not
        self.start_ns = self.end_ns = None
        self._paths = None               # kernel paths of the op being timed, else None

    def __enter__(self):
        if not self.enabled:
            return self
        if function._profiler is not None:
            raise RuntimeError("tg.autograd.profile() blocks do not nest: a profiler is already "
                               "running; use one block around all the code to profile")
        self.start_ns = time.perf_counter_ns()
        self._previous_dispatch = kernels.on_dispatch
        kernels.on_dispatch = self._on_dispatch
        function._profiler = self
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return
        function._profiler = None
        kernels.on_dispatch = self._previous_dispatch
        self.end_ns = time.perf_counter_ns()

    @property
    def wall_ns(self):
        """Time from entering to leaving the block (so far, while it is open; 0 if never)."""
        if self.start_ns is None:
            return 0
        end = self.end_ns if self.end_ns is not None else time.perf_counter_ns()
        return end - self.start_ns

    # Hooks, called by Function.apply, the engine and the kernel dispatcher

    def forward(self, cls, args):
        """Run ``cls.apply(*args)`` unprofiled (nested ops belong to it) and record the call."""
        inputs = [a for a in args if isinstance(a, function.Tensor)]
        result, start, duration, paths = self._timed(lambda: cls.apply(*args), inputs)
        outputs = result if type(result) is tuple else (result,)
        self.events.append(Event(cls.__name__, "forward", start, duration,
                                 sum(int(t.array.nbytes) for t in outputs), paths,
                                 tuple(tuple(t.shape) for t in inputs)))
        return result

    def timed_backward(self, propagate):
        """Wrap the engine's per-node step so that each node's backward is timed."""
        def timed(node, grads, *rest):
            present = [g for g in grads if g is not None]
            _, start, duration, paths = self._timed(lambda: propagate(node, grads, *rest),
                                                    present)
            self.events.append(Event(node.fn.__name__, "backward", start, duration, 0, paths,
                                     tuple(tuple(g.shape) for g in present)))
        return timed

    def _timed(self, call, tensors):
        """(result, start, duration, kernel paths) of ``call()``, run with the hook off so the
        ops inside count as part of it; the device is synchronised around it."""
        outer_paths, self._paths = self._paths, []
        function._profiler = None
        try:
            _synchronize(tensors)
            start = time.perf_counter_ns()
            result = call()
            _synchronize(tensors + list(result if type(result) is tuple else (result,)))
            return (result, start, time.perf_counter_ns() - start,
                    tuple(dict.fromkeys(self._paths)))
        finally:
            function._profiler = self
            self._paths = outer_paths

    def _on_dispatch(self, name, path):
        key = (name, path)
        self.kernel_calls[key] = self.kernel_calls.get(key, 0) + 1
        if self._paths is not None:
            self._paths.append(path)

    # Results

    def key_averages(self):
        """One ``OpStats`` per op, in order of first call."""
        stats = {}
        for event in self.events:
            row = stats.get(event.name)
            if row is None:
                row = stats[event.name] = OpStats(event.name)
            if event.phase == "forward":
                row.calls += 1
                row.forward_ns += event.duration_ns
                row.nbytes += event.nbytes
            else:
                row.backward_calls += 1
                row.backward_ns += event.duration_ns
            row.kernel_paths.update(event.kernel_paths)
        return list(stats.values())

    def table(self, sort_by="total", top=20):
        """The per-op summary as text, like PyTorch's ``key_averages().table()``.

        ``sort_by``: "total" (forward + backward time), "forward", "backward", "calls",
        "bytes" or "name"; ``top``: how many rows (None for all). The kernel path is "-" for
        ops written in plain array code, which call no kernel of ``tinygen.kernels``.
        """
        if sort_by not in SORT_KEYS:
            raise ValueError(f"sort_by={sort_by!r} is not one of {SORT_KEYS}")
        rows = self.key_averages()
        key = {"total": lambda r: r.total_ns, "forward": lambda r: r.forward_ns,
               "backward": lambda r: r.backward_ns, "calls": lambda r: r.calls,
               "bytes": lambda r: r.nbytes, "name": lambda r: r.name}[sort_by]
        rows.sort(key=key, reverse=sort_by != "name")
        shown = rows if top is None else rows[:top]
        all_ns = sum(r.total_ns for r in rows) or 1
        header = ("Name", "Calls", "Forward", "Fwd avg", "Bwd calls", "Backward", "Bwd avg",
                  "Total", "Total %", "Bytes out", "Kernel path")
        lines = [header]
        for r in shown:
            lines.append((
                r.name, str(r.calls), _time(r.forward_ns), _time(_mean(r.forward_ns, r.calls)),
                str(r.backward_calls), _time(r.backward_ns),
                _time(_mean(r.backward_ns, r.backward_calls)), _time(r.total_ns),
                f"{100 * r.total_ns / all_ns:.1f}%", _bytes(r.nbytes),
                ", ".join(sorted(r.kernel_paths)) or "-"))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))

        def fmt(line):
            cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                                  zip(line[1:-1], widths[1:-1])]
            return "  ".join(cells + [line[-1].ljust(widths[-1])]).rstrip()

        text = [rule, fmt(lines[0]), rule] + [fmt(line) for line in lines[1:]] + [rule]
        text.append(f"Op time: {_time(sum(r.total_ns for r in rows))} in "
                    f"{len(self.events)} timed calls; wall time {_time(self.wall_ns)}"
                    + (f"; {len(rows) - len(shown)} more ops not shown" if len(shown) < len(rows)
                       else ""))
        if self.kernel_calls:                  # also those outside ops, e.g. an optimizer's
            text.append("Kernel calls: " + ", ".join(
                f"{name} {path} x{n}" for (name, path), n in self.kernel_calls.items()))
        return "\n".join(text)

    def export_chrome_trace(self, path):
        """Write the events as Trace Event Format JSON (chrome://tracing, ui.perfetto.dev):
        one complete ("X") event per forward call and per backward of a node."""
        pid = os.getpid()
        trace = []
        for event in self.events:
            name = event.name if event.phase == "forward" else event.name + "Backward"
            trace.append({
                "name": name, "cat": event.phase, "ph": "X", "pid": pid, "tid": 0,
                "ts": (event.start_ns - self.start_ns) / 1e3, "dur": event.duration_ns / 1e3,
                "args": {"shapes": [list(s) for s in event.shapes], "bytes": event.nbytes,
                         "kernels": list(event.kernel_paths)}})
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


def _synchronize(tensors):
    """Wait for the GPU when any of ``tensors`` lives there (CuPy runs kernels asynchronously)."""
    for t in tensors:
        if isinstance(t, function.Tensor) and type(t.array) is not np.ndarray:
            import cupy
            cupy.cuda.Device(t.array.device.id).synchronize()
            return


def _mean(total, count):
    return total // count if count else 0


def _time(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.3f}s"
    if ns >= 1e6:
        return f"{ns / 1e6:.3f}ms"
    return f"{ns / 1e3:.3f}us"


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
