"""Whether ops record a graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flag is per thread, as in PyTorch. Each class works as a context manager and as a decorator.
"""

import functools
import threading


class _State(threading.local):
    grad_enabled = True
    anomaly_enabled = False


state = _State()


def is_grad_enabled():
    return state.grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off: a function call, a context manager or a decorator."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self.prev

    def __call__(self, fn):
        state.grad_enabled = self.prev            # used as a decorator: the call above undone
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    mode = None

    def __enter__(self):
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __exit__(self, *exc):
        state.grad_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Ops inside record no graph: for evaluation and for in-place parameter updates."""
    mode = False


class enable_grad(_GradModeContext):
    """Re-enable recording inside a ``no_grad`` block."""
    mode = True
