"""DataLoader as in ``torch.utils.data``: batches of any map-style or iterable dataset.

A map-style dataset is read item by item (``dataset[i]``) in the order of a sampler, and each
batch of items is joined by ``collate_fn``. A ``TensorDataset`` with the default collation takes
a shortcut: one gather per tensor per batch, which equals stacking its rows.

Loading always runs in the calling process. ``num_workers > 0`` is accepted, so that PyTorch
scripts run unchanged, and gives the same batches as ``num_workers=0``: tinygen's datasets are
in-memory arrays, where worker processes would cost more in copying than they save, and CuPy
arrays cannot be shared across forked processes. So ``worker_init_fn`` is never called,
``get_worker_info()`` is None, and ``pin_memory`` and ``timeout`` have nothing to do.
"""

import numpy as np

from tinygen.creation import as_tensor
from .collate import default_collate, default_convert
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def get_worker_info():
    """None: data is always loaded in the main process (see the module docstring)."""
    return None


class DataLoader:
    """Batches of ``dataset``: ``batch_size`` items per batch in ``sampler`` order (random with
    ``shuffle``, from ``generator`` or tinygen's seeded CPU generator), joined by ``collate_fn``
    (``default_collate``). ``batch_sampler`` gives whole index lists instead; ``batch_size=None``
    yields single items. ``len(loader)`` is the number of batches."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        stream = isinstance(dataset, IterableDataset)
        if stream:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not stream:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None:          # an iterable dataset is batched as it streams
            batch_sampler = BatchSampler(dataset if stream else sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn or (default_convert if batch_sampler is None else
                                         default_collate)
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.dataset if self.sampler is None else self.sampler)

    def __iter__(self):
        if self.batch_sampler is None:      # batch_size=None: single items, converted
            items = self.dataset if self.sampler is None else \
                (self.dataset[i] for i in self.sampler)
            return (self.collate_fn(item) for item in items)
        if isinstance(self.dataset, IterableDataset):
            return (self.collate_fn(batch) for batch in self.batch_sampler)
        return (self._fetch(indices) for indices in self.batch_sampler)

    def _fetch(self, indices):
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            index = np.asarray(indices, dtype=np.int64)   # one gather = the stacked rows
            return [as_tensor(t[index]) for t in self.dataset.tensors]
        return self.collate_fn([self.dataset[i] for i in indices])
