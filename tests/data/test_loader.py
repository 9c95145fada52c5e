"""TensorDataset and DataLoader: PyTorch's batching rules, seeded per-epoch order, exact resume,
dtypes and devices."""

import itertools

import numpy as np
import pytest

import tinygen as tg
from tinygen.data import DataLoader, TensorDataset


def _loader(n=10, **kwargs):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.uint8)
    return DataLoader(TensorDataset(x, y), **kwargs)


def _ids(batches):
    return [b[1].cpu().numpy().tolist() for b in batches]


@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (9, 3, True, [3, 3, 3]),
    (2, 3, False, [2]), (2, 3, True, []), (10, 1, False, [1] * 10),
])
def test_batch_sizes_as_pytorch(n, batch_size, drop_last, sizes):
    loader = _loader(n, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [len(ids) for ids in _ids(loader)] == sizes


def test_no_shuffle_keeps_order_and_pairs_rows():
    x, y = next(iter(_loader(10, batch_size=4)))
    assert y.cpu().numpy().tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(x.cpu().numpy(), [[0, 1], [2, 3], [4, 5], [6, 7]])


def test_dtypes_floats_kept_ints_int64():
    x = np.zeros((4, 3), np.float64)
    loader = DataLoader(TensorDataset(x, np.zeros(4, np.int32), np.zeros(4, bool),
                                      tg.zeros(4, 2)), batch_size=2)
    dtypes = [t.dtype for t in next(iter(loader))]
    assert dtypes == [tg.float64, tg.int64, tg.bool, tg.float32]
    assert all(isinstance(t, tg.Tensor) and not t.requires_grad for t in next(iter(loader)))


def test_shuffle_is_a_pure_function_of_seed_and_epoch():
    a, b = _loader(50, batch_size=7, shuffle=True, seed=3), _loader(50, batch_size=7,
                                                                    shuffle=True, seed=3)
    first, second = _ids(a), _ids(a)                    # each iter() is the next epoch
    assert first == _ids(b) and second == _ids(b)
    assert first != second
    assert sorted(sum(first, [])) == list(range(50))     # a permutation: every sample once
    assert _ids(_loader(50, batch_size=7, shuffle=True, seed=4)) != first
    a.set_epoch(1)
    assert _ids(a) == second


def test_shuffle_with_drop_last_drops_different_samples_each_epoch():
    loader = _loader(10, batch_size=4, shuffle=True, drop_last=True)
    kept = [sorted(sum(_ids(loader), [])) for _ in range(5)]
    assert all(len(k) == 8 for k in kept) and len({tuple(k) for k in kept}) > 1


@pytest.mark.parametrize("shuffle, drop_last", [(True, False), (True, True), (False, False)])
@pytest.mark.parametrize("start", [0, 1, 3, 4, 9])
def test_batches_resume_equals_uninterrupted(shuffle, drop_last, start):
    loader = _loader(10, batch_size=3, shuffle=shuffle, drop_last=drop_last, seed=7)
    uninterrupted = _ids(itertools.islice(loader.batches(), start + 6))
    resumed = _ids(itertools.islice(loader.batches(start), 6))
    assert resumed == uninterrupted[start:]
    epochs = sum((_ids(loader) for _ in range(6)), [])   # batches() follows the epochs
    assert epochs[:start + 6] == uninterrupted


def test_device(device):
    x, y = next(iter(_loader(6, batch_size=4, device=device)))
    assert x.device == tg.device(device) and y.device == tg.device(device)
    assert y.cpu().numpy().tolist() == [0, 1, 2, 3]


def test_errors():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"Size mismatch.*\(4, 2\), \(3,\)"):
        TensorDataset(x, np.zeros(3))
    with pytest.raises(ValueError, match="first .*dimension"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"batch_size={bad!r}"):
            DataLoader(TensorDataset(x), batch_size=bad)
    with pytest.raises(ValueError, match="seed"):
        DataLoader(TensorDataset(x), seed=-1)
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader(x)
    with pytest.raises(TypeError, match="dtype complex128"):
        DataLoader(TensorDataset(np.zeros(3, complex)))
    with pytest.raises(ValueError, match="no batches"):
        DataLoader(TensorDataset(x), batch_size=5, drop_last=True).batches()


def test_dataset_indexing():
    x, y = np.arange(6).reshape(3, 2), np.arange(3)
    dataset = TensorDataset(x, y)
    assert len(dataset) == 3
    row, label = dataset[1]
    assert row.tolist() == [2, 3] and label == 1


def test_one_tensor_dataset_for_both_loaders():
    import tinygen.utils.data as data
    assert TensorDataset is data.TensorDataset and isinstance(TensorDataset(np.zeros(2)),
                                                              data.Dataset)
    with pytest.raises(TypeError, match="tinygen.utils.data.DataLoader"):
        DataLoader(data.Subset(TensorDataset(np.zeros(2)), [0]))
