"""The training recipes' DataLoader: a TensorDataset kept on the device, PyTorch's batching rules.

The whole dataset is moved to the loader's device once, so a batch is one gather on the device
and never a host-to-device copy. Shuffling is seeded per epoch: the order of epoch ``e`` is a
pure function of ``(seed, e)``, which makes ``batches(start)`` an exact resume point.
For any other dataset, samplers or a ``collate_fn``, use ``tinygen.utils.data.DataLoader``.
"""

import numpy as np

from tinygen import backend
from tinygen.tensor import Tensor
from tinygen.utils.data import TensorDataset


def _batch_dtype(dtype):
    """Floating and bool arrays keep their dtype; integers become int64 (indices, labels)."""
    if dtype.kind in "fb":
        return dtype
    if dtype.kind in "iu":
        return np.dtype(np.int64)
    raise TypeError(f"DataLoader cannot batch arrays of dtype {dtype}; use a float, int or bool "
                    "dtype")


def _on_device(data, device):
    array = data.array if isinstance(data, Tensor) else np.asarray(data)
    return backend.to_device(array.astype(_batch_dtype(array.dtype), copy=False), device)


class DataLoader:
    """Batches of a TensorDataset as tuples of Tensors on ``device``.

    As in PyTorch: ``len(loader)`` batches per epoch, ``ceil(N / batch_size)`` or, with
    ``drop_last``, ``N // batch_size`` (the short last batch dropped). Each ``iter(loader)`` runs
    the next epoch (``set_epoch`` picks it); ``batches(start)`` runs on across epochs from global
    batch index ``start``, the batches an uninterrupted run would have reached there.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=0,
                 device=None):
        if not isinstance(dataset, TensorDataset):
            raise TypeError(f"tinygen.data.DataLoader expects a TensorDataset, got "
                            f"{type(dataset).__name__}; tinygen.utils.data.DataLoader takes "
                            "any dataset")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed should be a non-negative integer, but got seed={seed!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = int(seed)
        self.device = backend.default_device() if device is None else backend.Device(device)
        self.epoch = 0
        self._arrays = [_on_device(t, self.device) for t in dataset.tensors]

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def set_epoch(self, epoch):
        """Make the next ``iter(loader)`` run epoch ``epoch``."""
        self.epoch = int(epoch)

    def order(self, epoch):
        """The sample indices of epoch ``epoch`` in the order they are batched."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(n)

    def _epoch(self, epoch, first_batch=0):
        order = backend.on_device(lambda xp: xp.asarray(self.order(epoch)), self.device)
        for b in range(first_batch, len(self)):
            index = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield tuple(Tensor(array[index]) for array in self._arrays)

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        return self._epoch(epoch)

    def batches(self, start=0):
        """An endless iterator over batches across epochs, from global batch index ``start``
        (batch ``start % len(self)`` of epoch ``start // len(self)``)."""
        if len(self) == 0:
            raise ValueError(f"no batches: {len(self.dataset)} samples with batch_size="
                             f"{self.batch_size} and drop_last=True")
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        return self._endless(*divmod(int(start), len(self)))

    def _endless(self, epoch, first_batch):
        while True:
            yield from self._epoch(epoch, first_batch)
            epoch, first_batch = epoch + 1, 0
