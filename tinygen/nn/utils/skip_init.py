"""``nn.utils.skip_init``, as PyTorch's: build a module without running its initializers."""

import inspect

from tinygen.nn import init as _init


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with parameters left uninitialized (tinygen: zeros-or-
    whatever ``empty`` gives), to be filled by the caller. The class must take ``device``."""
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    names = [n for n in dir(_init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(_init, n) for n in names}
    try:
        for n in names:
            setattr(_init, n, _no_init)
        return module_cls(*args, **kwargs)
    finally:
        for n, fn in saved.items():
            setattr(_init, n, fn)


def _no_init(tensor, *args, **kwargs):
    return tensor
