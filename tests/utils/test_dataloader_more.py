"""DataLoader's worker options and in-process workers (get_worker_info, worker_init_fn) against
PyTorch's rules, and its batches against PyTorch's DataLoader where it is installed."""

import dataclasses
import multiprocessing

import numpy as np
import pytest

import tinygen as tg
from tinygen.utils.data import (
    BatchSampler, DataLoader, Dataset, IterableDataset, SequentialSampler, TensorDataset,
    get_worker_info)
from tinygen.utils.data.dataloader import WorkerInfo


class Pairs(Dataset):
    """Item i is (i, id of the worker that read it, or -1 outside workers)."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        info = get_worker_info()
        return (i, -1 if info is None else info.id)


class Shards(IterableDataset):
    """Streams range(n); a worker reads every num_workers-th item from its id on, and past n
    by 3 * id (so that workers end at different times)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n + 3 * info.id, info.num_workers))


def _lists(loader):
    return [b.tolist() if hasattr(b, "tolist") else [x.tolist() for x in b] for b in loader]


def test_worker_option_checks_as_torch():
    data = Pairs()
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(data, prefetch_factor=2)
    with pytest.raises(ValueError, match="prefetch_factor option should be non-negative"):
        DataLoader(data, num_workers=1, prefetch_factor=-1)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(data, timeout=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(data, persistent_workers=True)
    with pytest.raises(ValueError, match=r"multiprocessing_context can only be used .*=0"):
        DataLoader(data, multiprocessing_context="fork")
    with pytest.raises(ValueError, match="valid start method"):
        DataLoader(data, num_workers=1, multiprocessing_context="warp")
    with pytest.raises(TypeError, match="valid context object"):
        DataLoader(data, num_workers=1, multiprocessing_context=3)
    loader = DataLoader(data, num_workers=2, multiprocessing_context="spawn", timeout=5,
                        pin_memory_device="cpu", in_order=False, persistent_workers=True)
    assert loader.prefetch_factor == 2 and DataLoader(data).prefetch_factor is None
    assert isinstance(loader.multiprocessing_context, multiprocessing.context.BaseContext)
    assert (loader.timeout, loader.pin_memory_device, loader.in_order) == (5, "cpu", False)
    assert loader.persistent_workers
    with pytest.raises(ValueError, match="batch_size attribute should not be set after"):
        loader.batch_size = 3
    loader.num_workers = 1          # not frozen in PyTorch either


def test_map_style_workers_take_batches_in_turn():
    # The lists are PyTorch 2.13's, with real worker processes (same code, torch imports).
    assert _lists(DataLoader(Pairs(), batch_size=2, num_workers=3)) == [
        [[0, 1], [0, 0]], [[2, 3], [1, 1]], [[4, 5], [2, 2]], [[6], [0]]]
    assert [tuple(int(x) for x in b) for b in DataLoader(Pairs(), batch_size=None,
                                                         num_workers=3)] == [
        (0, 0), (1, 1), (2, 2), (3, 0), (4, 1), (5, 2), (6, 0)]
    assert _lists(DataLoader(Pairs(), batch_size=4)) == [[[0, 1, 2, 3], [-1] * 4],
                                                        [[4, 5, 6], [-1] * 3]]
    assert get_worker_info() is None


def test_iterable_workers_stream_their_copies_in_turn():
    # PyTorch 2.13's batches, with real worker processes.
    assert _lists(DataLoader(Shards(7), batch_size=2, num_workers=2)) == [
        [0, 2], [1, 3], [4, 6], [5, 7], [9]]
    assert _lists(DataLoader(Shards(7), batch_size=2, num_workers=2, drop_last=True)) == [
        [0, 2], [1, 3], [4, 6], [5, 7]]
    assert [int(x) for x in DataLoader(Shards(7), batch_size=None, num_workers=3)] == [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 11]
    assert _lists(DataLoader(Shards(5), batch_size=2)) == [[0, 1], [2, 3], [4]]


def test_worker_init_fn_sees_its_worker_and_copy():
    calls = []

    def init(worker_id):
        info = get_worker_info()
        calls.append((worker_id, info.id, info.num_workers, info.seed - worker_id))
        info.dataset.n = 5 + worker_id      # the worker's copy: the loader's dataset keeps 7

    dataset = Shards(7)
    loader = DataLoader(dataset, batch_size=2, num_workers=2, worker_init_fn=init,
                        generator=tg.Generator().manual_seed(0))
    assert _lists(loader) == [[0, 2], [1, 3], [4], [5, 7]]      # PyTorch 2.13's
    assert dataset.n == 7 and [c[:3] for c in calls] == [(0, 0, 2), (1, 1, 2)]
    assert calls[0][3] == calls[1][3]           # one base seed, plus the worker id
    _lists(loader)
    assert len(calls) == 4                      # once per epoch ...
    calls.clear()
    loader = DataLoader(Pairs(), batch_size=3, num_workers=2, worker_init_fn=init,
                        persistent_workers=True)
    assert _lists(loader) == _lists(loader)
    assert len(calls) == 2                      # ... or once with persistent workers
    with pytest.raises(dataclasses.FrozenInstanceError):
        WorkerInfo(0, 1, 0, None).id = 2        # frozen, as PyTorch's


def _torch_and_ours(torch, make):
    """The batches of make(torch.utils.data, torch) and make(tinygen.utils.data, tinygen)."""
    import tinygen.utils.data as ours
    return [[np.asarray(x).tolist() for x in (b if isinstance(b, (list, tuple)) else [b])]
            for b in make(torch.utils.data, torch)], \
        [[np.asarray(x.numpy() if hasattr(x, "numpy") else x).tolist()
          for x in (b if isinstance(b, (list, tuple)) else [b])] for b in make(ours, tg)]


@pytest.mark.parametrize("case", ["batch", "drop_last", "sampler", "batch_sampler", "none",
                                  "collate", "workers"])
def test_batches_match_torch(case):
    torch = pytest.importorskip("torch")
    x, y = np.arange(14.0).reshape(7, 2), np.arange(7) * 3

    def make(data, lib):
        ds = data.TensorDataset(lib.tensor(x), lib.tensor(y))
        if case == "batch":
            return data.DataLoader(ds, batch_size=3)
        if case == "drop_last":
            return data.DataLoader(ds, batch_size=3, drop_last=True)
        if case == "sampler":
            return data.DataLoader(ds, batch_size=2, sampler=[6, 0, 3, 3, 1])
        if case == "batch_sampler":
            return data.DataLoader(ds, batch_sampler=data.BatchSampler(
                data.SequentialSampler(range(5)), 2, True))
        if case == "none":
            return data.DataLoader(ds, batch_size=None, sampler=[4, 2])
        if case == "collate":
            return data.DataLoader(ds, batch_size=4, collate_fn=lambda items: [
                sum(float(a.sum()) for a, _ in items), len(items)])
        return data.DataLoader(ds, batch_size=3, num_workers=0 if lib is torch else 2)

    theirs, ours = _torch_and_ours(torch, make)
    assert theirs == ours and len(ours) > 0


def test_tensor_dataset_workers_equal_no_workers():
    ds = TensorDataset(tg.arange(10))
    sampler = BatchSampler(SequentialSampler(range(9)), 4, False)
    assert _lists(DataLoader(ds, batch_sampler=sampler, num_workers=3)) == \
        _lists(DataLoader(ds, batch_sampler=sampler)) == [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[8]]]
