"""``tg.jit``, as ``torch.jit``, accepted so that scripts which call it run.

tinygen does not compile: there is no TorchScript, no tracer and no graph optimiser. ``script``
and ``trace`` hand back the function or module they are given, and it runs eagerly, exactly as
written (a script that used jit for speed runs at eager speed). ``ignore``, ``unused`` and
``export`` pass what they decorate through; ``is_scripting()`` and ``is_tracing()`` are False,
so code that branches on them takes its eager path. A TorchScript archive cannot be written or
read: ``save`` and ``load`` raise and point to ``tg.save`` / ``tg.load`` of a state_dict.
``tg.compile`` (compiler.py) is the same idea for ``torch.compile``.
"""

import typing

Final = typing.Final

__all__ = ["Final", "annotate", "export", "fork", "freeze", "ignore", "is_scripting",
           "is_tracing", "load", "optimize_for_inference", "save", "script", "trace",
           "trace_module", "unused", "wait"]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function, module or class), run eagerly."""
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """``func`` itself: nothing is traced, and it runs eagerly on any input."""
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
                 _compilation_unit=None, example_inputs_is_kwarg=False, _store_inputs=True):
    """``mod`` itself."""
    return mod


def ignore(drop=False, **kwargs):
    """``@ignore`` or ``@ignore(drop=True)``: the function, unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """The function, unchanged."""
    return fn


def export(fn):
    """The method, unchanged."""
    return fn


def is_scripting():
    """False: tinygen never runs code as TorchScript."""
    return False


def is_tracing():
    """False: tinygen never traces."""
    return False


def annotate(the_type, the_value):
    """``the_value``: TorchScript's type hint, unneeded in eager code."""
    return the_value


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


class Future:
    """The result of ``fork``: computed at once (tinygen runs everything eagerly)."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def done(self):
        return True


def fork(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` now; ``wait`` on the result gives its value."""
    return Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


def _no_archive(what):
    return NotImplementedError(
        f"tg.jit.{what}: tinygen has no TorchScript, so there is no archive to "
        f"{what}; save the weights with tg.save(model.state_dict(), path) and load them into "
        f"the model's class with model.load_state_dict(tg.load(path))")


def save(m, f, _extra_files=None):
    """Raises NotImplementedError: there is no TorchScript archive (use ``tg.save``)."""
    raise _no_archive("save")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Raises NotImplementedError: there is no TorchScript archive (use ``tg.load``)."""
    raise _no_archive("load")
