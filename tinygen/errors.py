"""Exception classes that are two builtin classes at once, so handlers written for either work.

PyTorch reports most bad arguments as RuntimeError, where Python code (and older tinygen) says
ValueError or TypeError. A ported script's ``except RuntimeError:`` and tinygen's own
``except ValueError:`` must both keep catching the error, so tinygen raises one class that is
both. Pick the class by what PyTorch raises for the same call; the second base keeps the class
tinygen raised before."""


class ArgumentError(RuntimeError, ValueError):
    """A bad argument value or shape: RuntimeError in PyTorch, ValueError in Python."""


class DtypeError(RuntimeError, TypeError):
    """An op that the input's dtype does not support: RuntimeError in PyTorch."""


class DtypeNotImplementedError(NotImplementedError, TypeError):
    """An op with no kernel for the input's dtype (bitwise ops on floats): as in PyTorch."""


class UnsupportedModeError(NotImplementedError, ValueError):
    """A mode, or a mode for this rank, that is not implemented (interpolate): as in PyTorch."""


class IndexArgumentError(IndexError, RuntimeError):
    """An index out of range where PyTorch says RuntimeError (gather/scatter), IndexError here."""


class ArgumentAssertionError(AssertionError, ValueError):
    """A bad constructor argument that PyTorch checks with ``assert`` (Embedding's padding_idx)."""


DUAL_CLASSES = (ArgumentError, DtypeError, DtypeNotImplementedError, UnsupportedModeError,
                IndexArgumentError, ArgumentAssertionError)


def broadcast_error(name, shapes):
    """PyTorch's error for shapes that do not broadcast, or None if they do: the first pair
    that clashes, at the last dim where they differ, counted in the broadcast result."""
    for i, first in enumerate(shapes):
        for second in shapes[i + 1:]:
            ndim = max(len(first), len(second))
            a = (1,) * (ndim - len(first)) + tuple(first)
            b = (1,) * (ndim - len(second)) + tuple(second)
            clashes = [d for d in range(ndim) if a[d] != b[d] and 1 not in (a[d], b[d])]
            if clashes:
                dim = clashes[-1]
                return ArgumentError(
                    f"{name}: The size of tensor a ({a[dim]}) must match the size of tensor b "
                    f"({b[dim]}) at non-singleton dimension {dim} (input shapes: "
                    f"{', '.join(str(tuple(shape)) for shape in shapes)})")
    return None


def reraised(error, message):
    """``error`` again with a new ``message`` (which names the op), as a class whose constructor
    takes one message: its own class if it is one of the above, ArgumentError for a plain
    ValueError (PyTorch reports bad shapes as RuntimeError), else its nearest builtin class."""
    if isinstance(error, DUAL_CLASSES):
        kind = type(error)
    else:
        kind = next(k for k in (IndexError, ValueError, TypeError) if isinstance(error, k))
        kind = ArgumentError if kind is ValueError else kind
    return kind(message)
