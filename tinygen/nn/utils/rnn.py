"""Packed and padded sequences, as PyTorch's ``nn.utils.rnn``: a batch of sequences of
different lengths for the recurrent layers.

Padded form: one tensor (T, B, *) (or (B, T, *) with ``batch_first``) whose entries past each
sequence's length are padding. Packed form (``PackedSequence``): the valid entries only, time
step after time step, with the batch sorted by decreasing length; ``batch_sizes[t]`` is how many
sequences are still running at step t, and those are always the first rows. So step t of the
packed data is ``data[offset_t : offset_t + batch_sizes[t]]``.

Everything is built from slicing, ``cat``, ``stack`` and ``index_select``, so gradients flow
from packed to padded data and back. ``batch_sizes`` and the lengths live on the CPU (int64),
as in PyTorch; the sort permutations live on the data's device.
"""

from collections import namedtuple

import numpy as np

from tinygen import creation, dtypes
from tinygen.backend import to_device
from tinygen.ops.indexing import index_select
from tinygen.ops.shape import cat, stack
from tinygen.tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
           "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"]


def _host_ints(values):
    """A Python list of ints from a list, an array or a Tensor (copied to the host)."""
    if isinstance(values, Tensor):
        return [int(v) for v in to_device(values.array, "cpu").tolist()]
    return [int(v) for v in np.asarray(values).tolist()]


def _index_tensor(values, device=None):
    return creation.tensor(np.asarray(values, dtype=np.int64), dtype=dtypes.int64,
                           device=device)


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    order = _host_ints(permutation)
    inverse = [0] * len(order)
    for i, j in enumerate(order):
        inverse[j] = i
    return _index_tensor(inverse, permutation.device)


_Fields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                        "unsorted_indices"])


class PackedSequence(_Fields):
    """Packed data (sum of lengths, *) with ``batch_sizes`` (T,) and the permutations between
    the caller's batch order and the sorted one (None when the batch came sorted). Build it
    with ``pack_padded_sequence`` or ``pack_sequence``, not by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:                      # PackedSequence((data, batch_sizes))
            data, batch_sizes = data[0], data[1]
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(...)``; the permutations follow data's device, batch_sizes stays on the
        CPU. Returns self when data does not change."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def float(self):
        return self.to(dtype=dtypes.float32)

    def double(self):
        return self.to(dtype=dtypes.float64)

    def half(self):
        return self.to(dtype=dtypes.float16)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _lengths_list(lengths, batch_size):
    """``lengths`` as Python ints, with PyTorch's checks."""
    if isinstance(lengths, Tensor) and lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D {lengths.device} {lengths.dtype} tensor")
    lengths = _host_ints(lengths)
    if len(lengths) != batch_size:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch_size})")
    if any(n <= 0 for n in lengths):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    return lengths


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences with the given
    ``lengths``. With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is
    sorted here and the permutation kept, so unpacking restores the caller's order."""
    batch_dim = 0 if batch_first else 1
    lengths = _lengths_list(lengths, input.shape[batch_dim])
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])   # stable
        lengths = [lengths[i] for i in order]
        sorted_indices = _index_tensor(order, input.device)
        input = index_select(input, batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    if lengths[0] > input.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length ({lengths[0]}) exceeds the "
                           f"padded sequence length ({input.shape[0]})")
    batch_sizes = [sum(n > t for n in lengths) for t in range(lengths[0])]
    data = cat([input[t, :size] for t, size in enumerate(batch_sizes)], 0)
    return PackedSequence(data, _index_tensor(batch_sizes, "cpu"), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: (padded (T, B, *), lengths (B,) int64), in the
    caller's batch order. ``total_length`` pads T further (to undo padding of a whole data
    set)."""
    data = sequence.data
    batch_sizes = _host_ints(sequence.batch_sizes)
    steps, batch = len(batch_sizes), batch_sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
    else:
        total_length = steps
    trailing = tuple(data.shape[1:])

    def padding(*rows):
        return creation.full(rows + trailing, padding_value, dtype=data.dtype,
                             device=data.device)

    rows, offset = [], 0
    for size in batch_sizes:
        step = data[offset:offset + size]
        offset += size
        rows.append(step if size == batch else cat([step, padding(batch - size)], 0))
    rows += [padding(batch)] * (total_length - steps)
    padded = stack(rows, 0)
    lengths = [sum(size > b for size in batch_sizes) for b in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths = [lengths[i] for i in _host_ints(sequence.unsorted_indices)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _index_tensor(lengths, "cpu")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) into (max L, B, *) (``batch_first``: (B, max L, *)), filling
    with ``padding_value`` after each (``padding_side='left'``: before)."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = creation.full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype,
                                 device=s.device)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of ``pad_sequence`` (right padding): a list of (lengths[i], *) tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :n] for i, n in enumerate(_host_ints(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *): ``pack_padded_sequence(pad_sequence(...))``."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The inverse of ``pack_sequence``: the list of sequences (L_i, *), in the caller's
    order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
