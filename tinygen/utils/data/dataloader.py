"""DataLoader as in ``torch.utils.data``: batches of any map-style or iterable dataset.

A map-style dataset is read item by item (``dataset[i]``) in the order of a sampler, and each
batch of items is joined by ``collate_fn``. A ``TensorDataset`` with the default collation takes
a shortcut: one gather per tensor per batch, which equals stacking its rows.

Loading always runs in the calling process: tinygen's datasets are in-memory arrays, where worker
processes would cost more in copying than they save, and CuPy arrays cannot be shared across
forked processes. ``num_workers > 0`` runs PyTorch's worker scheme in-process instead, so that a
script gives the batches it gives under PyTorch: each worker gets a shallow copy of the dataset
and ``worker_init_fn(worker_id)`` (once per epoch, or once with ``persistent_workers``); batch
``k`` of a map-style dataset is loaded by worker ``k % num_workers`` (the same batches as
``num_workers=0``), and an iterable dataset is read by every worker, their batches taken in
turn, so a dataset that does not shard itself by ``get_worker_info()`` repeats, as in PyTorch.
``get_worker_info()`` answers inside ``__getitem__``, ``__iter__``, ``collate_fn`` and
``worker_init_fn``. Differences: the workers run one after another in this process, their
``seed`` is not applied to any RNG (``worker_init_fn`` may use it), and ``prefetch_factor``,
``pin_memory``, ``timeout`` and ``multiprocessing_context`` are checked and kept but change
nothing.
"""

import copy
import multiprocessing
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from tinygen.creation import as_tensor, randint
from .collate import default_collate, default_convert
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` gives inside a worker (PyTorch's fields; ``dataset`` is the
    worker's own shallow copy)."""
    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """The ``WorkerInfo`` of the worker now loading (``num_workers > 0``), None otherwise."""
    return _worker_info


@contextmanager
def _as_worker(info):
    global _worker_info
    outer, _worker_info = _worker_info, info
    try:
        yield
    finally:
        _worker_info = outer


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Batches of ``dataset``: ``batch_size`` items per batch in ``sampler`` order (random with
    ``shuffle``, from ``generator`` or tinygen's seeded CPU generator), joined by ``collate_fn``
    (``default_collate``). ``batch_sampler`` gives whole index lists instead; ``batch_size=None``
    yields single items. ``len(loader)`` is the number of batches. Workers: module docstring."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
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
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None \
            else prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.persistent_workers = persistent_workers
        self._workers = None                # the persistent workers' (info, dataset) pairs
        self._initialized = True

    def __setattr__(self, name, value):
        if name in _FROZEN and self.__dict__.get("_initialized"):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        """Checked as PyTorch does; kept, but no process is started."""
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context "
                                f"object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self._multiprocessing_context = context

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.dataset if self.sampler is None else self.sampler)

    def __iter__(self):
        if self.num_workers > 0:
            return self._iter_workers()
        if self.batch_sampler is None:      # batch_size=None: single items, converted
            items = self.dataset if self.sampler is None else \
                (self.dataset[i] for i in self.sampler)
            return (self.collate_fn(item) for item in items)
        if isinstance(self.dataset, IterableDataset):
            return (self.collate_fn(batch) for batch in self.batch_sampler)
        return (self._fetch(self.dataset, indices) for indices in self.batch_sampler)

    def _fetch(self, dataset, indices):
        if isinstance(dataset, TensorDataset) and self.collate_fn is default_collate:
            index = np.asarray(indices, dtype=np.int64)   # one gather = the stacked rows
            return [as_tensor(t[index]) for t in dataset.tensors]
        return self.collate_fn([dataset[i] for i in indices])

    # The in-process workers (module docstring)

    def _start_workers(self):
        """One ``(WorkerInfo, dataset copy)`` per worker, ``worker_init_fn`` run in each."""
        base_seed = int(randint(0, 2 ** 62, (), generator=self.generator).item())
        workers = []
        for worker_id in range(self.num_workers):
            dataset = copy.copy(self.dataset)
            info = WorkerInfo(worker_id, self.num_workers, base_seed + worker_id, dataset)
            if self.worker_init_fn is not None:
                with _as_worker(info):
                    self.worker_init_fn(worker_id)
            workers.append((info, dataset))
        return workers

    def _iter_workers(self):
        workers = self._workers or self._start_workers()
        if self.persistent_workers:
            self._workers = workers
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream_workers(workers)
            return
        if self.batch_sampler is None:
            for k, index in enumerate(self.sampler):
                info, dataset = workers[k % len(workers)]
                with _as_worker(info):
                    yield self.collate_fn(dataset[index])
            return
        for k, indices in enumerate(self.batch_sampler):
            info, dataset = workers[k % len(workers)]
            with _as_worker(info):
                batch = self._fetch(dataset, indices)
            yield batch

    def _iter_stream_workers(self, workers):
        """Each worker streams its own copy, batched on its own; their batches in turn, an
        exhausted worker skipped (PyTorch's order with ``in_order=True``)."""
        streams = []
        for info, dataset in workers:
            with _as_worker(info):
                source = dataset if self.batch_size is None else \
                    BatchSampler(dataset, self.batch_size, self.drop_last)
                streams.append((info, iter(source)))
        while streams:
            for stream in list(streams):
                info, items = stream
                with _as_worker(info):
                    try:
                        batch = self.collate_fn(next(items))
                    except StopIteration:
                        streams.remove(stream)
                        continue
                yield batch


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers):
    """PyTorch's checks of the worker options, with its messages."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
