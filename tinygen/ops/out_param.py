"""PyTorch's ``out=`` keyword for ops that have no in-place kernel: the result is computed as
usual and then copied into ``out`` (see convert.write_out)."""

import functools

from tinygen.backend import get_array_module
from tinygen.ops.convert import write_out
from tinygen.tensor import Tensor


def _tensors(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def accepts_out(overlap_ok=False):
    """Decorate an op to take ``out=`` (a tensor, or a tuple for ops with several results).
    Unless ``overlap_ok``, ``out`` must not share memory with an input, the RuntimeError
    PyTorch raises for such ops (gather, cat, ...), whose kernels read while writing."""
    def decorate(fn):
        @functools.wraps(fn)
        def with_out(*args, out=None, **kwargs):
            if out is None:
                return fn(*args, **kwargs)
            outs = _tensors(out)
            inputs = _tensors([*args, *kwargs.values()])
            if not overlap_ok and any(get_array_module(o.array).may_share_memory(o.array, t.array)
                                      for o in outs for t in inputs):
                raise RuntimeError(
                    f"{fn.__name__}(): unsupported operation: some elements of the input tensor "
                    f"and the written-to tensor refer to a single memory location")
            result = fn(*args, **kwargs)
            if isinstance(out, Tensor):
                return write_out(result, out, fn.__name__)
            if len(outs) != len(result):
                raise TypeError(f"{fn.__name__}(): out= needs {len(result)} tensors, "
                                f"got {len(outs)}")
            written = [write_out(r, o, fn.__name__) for r, o in zip(result, outs)]
            return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
        return with_out
    return decorate
