"""``flags()`` of the backend modules: set some module-level flags for a ``with`` block."""

import contextlib


@contextlib.contextmanager
def flag_block(namespace, **values):
    """Set ``values`` in ``namespace`` (a module's globals) inside the block, restore after."""
    saved = {name: namespace[name] for name in values}
    namespace.update(values)
    try:
        yield
    finally:
        namespace.update(saved)
