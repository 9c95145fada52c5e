"""``default_collate`` (a list of samples -> one batch) and ``default_convert`` (one sample ->
tensors), with ``torch.utils.data``'s rules."""

import collections.abc
import copy

import numpy as np

from tinygen import dtypes
from tinygen.creation import as_tensor, tensor
from tinygen.ops import stack
from tinygen.tensor import Tensor

_NOT_NUMERIC = "SaUO"                       # NumPy dtype chars of bytes, str and objects


def _error(kind, elem):
    return TypeError(f"{kind}: batch must contain tensors, numpy arrays, numbers, dicts or "
                     f"lists; found {type(elem)}")


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _map_like(elem, values):
    """A mapping of ``elem``'s type holding ``values`` (a plain dict when that type can't)."""
    if isinstance(elem, collections.abc.MutableMapping):
        clone = copy.copy(elem)
        clone.update(values)
        return clone
    try:
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Join a list of samples into a batch, matching their structure: tensors are stacked,
    NumPy arrays and scalars become stacked tensors, Python floats a float64 tensor and ints
    (bools) an int64 (bool) tensor, strings stay a list; dicts, named tuples, tuples and lists
    are collated field by field (tuples and lists into lists, as in PyTorch)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.char in _NOT_NUMERIC:
            raise _error("default_collate", elem)
        return stack([as_tensor(b) for b in batch], 0)
    if isinstance(elem, np.generic) and elem.dtype.char not in _NOT_NUMERIC:
        return as_tensor(np.stack(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _map_like(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise _error("default_collate", elem)


def default_convert(data):
    """One sample with its NumPy arrays and scalars made tensors, containers kept (tuples
    become lists, as in PyTorch); anything else is returned as it is. The DataLoader applies it
    when ``batch_size=None`` turns batching off."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        return data if data.dtype.char in _NOT_NUMERIC else as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _map_like(data, {key: default_convert(data[key]) for key in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
