"""tinygen.utils.data: datasets, random_split, samplers, default_collate and the DataLoader,
against PyTorch's rules (and PyTorch itself when it is installed)."""

import collections

import numpy as np
import pytest

import tinygen as tg
from tinygen.utils.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
    SequentialSampler, Subset, TensorDataset, default_collate, default_convert, random_split)


class Squares(Dataset):
    """A map-style dataset of dicts, read item by item."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "y": i * i, "name": f"s{i}"}


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def _ids(loader):
    return [b[1].numpy().tolist() for b in loader]


def test_concat_subset_and_add():
    a, b = TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 14))
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert [int(both[i][0]) for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert int(both[-1][0]) == 13
    with pytest.raises(ValueError, match="absolute value"):
        both[-8]
    sub = Subset(both, [6, 0])
    assert len(sub) == 2 and int(sub[0][0]) == 13 and int(sub[1][0]) == 0


@pytest.mark.parametrize("n, lengths, sizes", [
    (10, [3, 7], [3, 7]), (10, [0.3, 0.7], [3, 7]), (11, [0.5, 0.5], [6, 5]),
    (10, [0.33, 0.33, 0.34], [4, 3, 3]), (30, [0.3, 0.3, 0.4], [9, 9, 12]),
])
def test_random_split_lengths_and_disjoint(n, lengths, sizes):
    tg.manual_seed(0)
    parts = random_split(range(n), lengths)
    assert [len(p) for p in parts] == sizes
    items = sum(([p[i] for i in range(len(p))] for p in parts), [])
    assert sorted(items) == list(range(n))
    tg.manual_seed(0)
    assert [p.indices for p in random_split(range(n), lengths)] == [p.indices for p in parts]


def test_random_split_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for n, fractions in [(11, [0.5, 0.5]), (10, [0.33, 0.33, 0.34]), (7, [0.1, 0.2, 0.7])]:
        ours = [len(p) for p in random_split(range(n), fractions)]
        assert ours == [len(p) for p in torch.utils.data.random_split(range(n), fractions)]


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(5), [2, 2])
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(range(1), [0.5, 0.5])


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    tg.manual_seed(1)
    order = list(RandomSampler(range(10)))
    assert sorted(order) == list(range(10))
    tg.manual_seed(1)
    assert list(RandomSampler(range(10))) == order
    draws = list(RandomSampler(range(3), replacement=True, num_samples=20))
    assert len(draws) == 20 and set(draws) <= {0, 1, 2}
    counts = collections.Counter(RandomSampler(range(3), num_samples=7))   # 2 passes + 1
    assert sum(counts.values()) == 7 and sorted(counts.values()) == [2, 2, 3]
    batches = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    assert list(batches) == [[0, 1, 2], [3, 4, 5], [6]] and len(batches) == 3
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="batch_size=0"):
        BatchSampler(range(7), 0, False)


def test_default_collate_structures():
    Point = collections.namedtuple("Point", "a b")
    batch = default_collate([{"t": (tg.ones(2), 1.5), "p": Point(1, np.float32(2))},
                             {"t": (tg.zeros(2), 2.5), "p": Point(3, np.float32(4))}])
    t, p = batch["t"], batch["p"]
    assert isinstance(t, list) and t[0].shape == (2, 2) and t[1].dtype == tg.float64
    assert isinstance(p, Point) and p.a.dtype == tg.int64 and p.b.dtype == tg.float32
    assert default_collate([True, False]).dtype == tg.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([np.zeros((2, 3), np.int32)] * 4).shape == (4, 2, 3)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found <class 'NoneType'>"):
        default_collate([None])
    assert isinstance(default_convert((np.zeros(2), "s")), list)
    assert isinstance(default_convert((np.zeros(2), "s"))[0], tg.Tensor)


def test_default_collate_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    samples = [{"x": np.arange(3, dtype=np.int32) + i, "f": 0.5 * i, "i": i} for i in range(4)]
    ours, theirs = default_collate(samples), torch_collate(samples)
    for key in ours:
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
        assert str(ours[key].dtype).split(".")[-1] == str(theirs[key].dtype).split(".")[-1]


def test_loader_dicts_len_and_drop_last():
    loader = DataLoader(Squares(7), batch_size=3)
    batches = list(loader)
    assert len(loader) == 3 and [len(b["name"]) for b in batches] == [3, 3, 1]
    assert batches[0]["y"].numpy().tolist() == [0, 1, 4] and batches[0]["x"].shape == (3, 2)
    assert len(DataLoader(Squares(7), batch_size=3, drop_last=True)) == 2
    assert len(list(DataLoader(Squares(7), batch_size=3, drop_last=True))) == 2


def test_shuffle_repeats_under_manual_seed():
    dataset = TensorDataset(tg.arange(20).float(), tg.arange(20))
    tg.manual_seed(5)
    first = _ids(DataLoader(dataset, batch_size=6, shuffle=True))
    tg.manual_seed(5)
    loader = DataLoader(dataset, batch_size=6, shuffle=True)
    assert _ids(loader) == first and _ids(loader) != first      # each epoch a new order
    assert sorted(sum(first, [])) == list(range(20))
    generator = np.random.default_rng(3)
    assert _ids(DataLoader(dataset, batch_size=6, shuffle=True, generator=generator)) == \
        _ids(DataLoader(dataset, batch_size=6, shuffle=True,
                        generator=np.random.default_rng(3)))


def test_tensor_dataset_gather_equals_item_path():
    x, y = np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6, dtype=np.int32)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=4))
    slow = list(DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=default_collate))
    for a, b in zip(fast, slow):
        assert isinstance(a, list) and len(a) == 2
        for ta, tb in zip(a, b):
            assert ta.dtype == tb.dtype
            np.testing.assert_array_equal(ta.numpy(), tb.numpy())


def test_samplers_batch_sampler_and_no_batching():
    loader = DataLoader(Squares(5), batch_sampler=[[4, 0], [2]])
    assert [b["y"].numpy().tolist() for b in loader] == [[16, 0], [4]] and len(loader) == 2
    items = list(DataLoader(Squares(3), batch_size=None))
    assert len(items) == 3 and isinstance(items[1]["x"], tg.Tensor) and items[1]["y"] == 1
    picked = DataLoader(Squares(5), sampler=[3, 1], batch_size=2, collate_fn=lambda b: b)
    assert [[s["y"] for s in b] for b in picked] == [[9, 1]]


def test_iterable_dataset():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.numpy().tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3 and len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert [b.numpy().tolist() for b in DataLoader(Stream(7), batch_size=3,
                                                   drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert [int(b) for b in DataLoader(Stream(2), batch_size=None)] == [0, 1]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_num_workers_run_in_process():
    dataset = TensorDataset(tg.arange(10))
    ours = [b[0].numpy().tolist() for b in DataLoader(dataset, batch_size=4, num_workers=2,
                                                      pin_memory=True, persistent_workers=True)]
    assert ours == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_loader_errors():
    dataset = Squares(4)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(dataset, num_workers=-1)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(dataset, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(dataset, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(dataset, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(dataset, persistent_workers=True)
    with pytest.raises(ValueError, match="batch_size=0"):
        DataLoader(dataset, batch_size=0)


def test_a_tg_generator_orders_shuffles_samplers_and_splits():
    """generator= takes a tg.Generator (as PyTorch's torch.Generator): the same seed gives the
    same order, and the default generator is left alone."""
    dataset = TensorDataset(tg.arange(20).float(), tg.arange(20))
    tg.manual_seed(0)
    expected_default = tg.rand(2).tolist()
    tg.manual_seed(0)

    def orders(seed):
        g = tg.Generator().manual_seed(seed)
        return (_ids(DataLoader(dataset, batch_size=6, shuffle=True, generator=g)),
                list(RandomSampler(range(10), generator=g)),
                list(RandomSampler(range(10), replacement=True, num_samples=5, generator=g)),
                [s.indices for s in random_split(range(10), [0.5, 0.5], generator=g)])
    first = orders(4)
    assert orders(4) == first and orders(5) != first
    assert sorted(first[1]) == list(range(10))
    assert tg.rand(2).tolist() == expected_default
