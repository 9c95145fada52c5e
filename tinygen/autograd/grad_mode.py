"""Whether ops record a graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``.

The flag is per thread, as in PyTorch. Each class works as a context manager and as a decorator
(``no_grad``, ``enable_grad`` and ``inference_mode`` also without parentheses: ``@no_grad``). A
decorated generator function runs its body in the mode, and the caller's code between two of its
items in the caller's own mode, as in PyTorch.
"""

import functools
import inspect
import threading


class _State(threading.local):
    grad_enabled = True
    anomaly_enabled = False
    anomaly_check_nan = True


state = _State()


def is_grad_enabled():
    return state.grad_enabled


class _GradMode:
    """Sets the grad mode to ``self.mode`` inside a ``with`` block or a decorated function."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __exit__(self, *exc):
        state.grad_enabled = self.prev

    def __call__(self, fn):
        mode = self.mode
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, mode)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(mode):              # a fresh context per call: calls may nest
                return fn(*args, **kwargs)
        return wrapper


def _wrap_generator(fn, mode):
    """``fn`` (a generator function) with each step of its body run in ``mode``."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        resume, value = gen.send, None
        while True:
            try:
                with _GradMode(mode):
                    item = resume(value)
            except StopIteration as stop:
                return stop.value
            try:
                value = yield item                  # the caller runs in its own mode
                resume = gen.send
            except GeneratorExit:                   # the caller closed us: close fn's body
                with _GradMode(mode):
                    gen.close()
                raise
            except BaseException as error:         # thrown in by the caller: pass it on
                resume, value = gen.throw, error
    return wrapper


class _NoArguments(_GradMode):
    """A grad mode that also decorates without parentheses: ``@no_grad`` as ``@no_grad()``."""

    def __new__(cls, fn=None):
        if fn is not None:
            return cls()(fn)
        return super().__new__(cls)


class no_grad(_NoArguments):
    """Ops inside record no graph: for evaluation and for in-place parameter updates."""

    def __init__(self):
        super().__init__(False)


class enable_grad(_NoArguments):
    """Re-enable recording inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """Turn graph recording on or off: a function call, a context manager or a decorator."""

    def __init__(self, mode):
        super().__init__(mode)
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode            # the function-call form takes effect here

    def __enter__(self):
        state.grad_enabled = self.mode

    def __call__(self, fn):
        state.grad_enabled = self.prev            # used as a decorator: the call above undone
        return super().__call__(fn)


class inference_mode(_GradMode):
    """``inference_mode(True)`` records no graph, ``inference_mode(False)`` records one.

    In PyTorch it also makes "inference tensors" that can never enter autograd later, which
    saves some bookkeeping. tinygen has no such tensors, so here it is exactly ``no_grad``
    (and ``inference_mode(False)`` is ``enable_grad``, as in PyTorch).
    """

    def __new__(cls, mode=True):
        if callable(mode):                        # @inference_mode, without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__(not mode)
