"""WeightedRandomSampler, StackDataset and DistributedSampler against PyTorch's rules (and
PyTorch itself where the draws do not depend on its generator)."""

import collections

import numpy as np
import pytest

import tinygen as tg
from tinygen.utils.data import (
    DataLoader, DistributedSampler, StackDataset, TensorDataset, WeightedRandomSampler)


def test_weighted_sampler_frequencies_follow_weights():
    weights = [1.0, 0.0, 3.0, 4.0]
    sampler = WeightedRandomSampler(weights, 8000, generator=tg.Generator().manual_seed(1))
    draws = list(sampler)
    assert len(sampler) == len(draws) == 8000
    assert all(isinstance(i, int) for i in draws[:5])
    counts = collections.Counter(draws)
    assert counts[1] == 0
    np.testing.assert_allclose([counts[i] / 8000 for i in (0, 2, 3)], [0.125, 0.375, 0.5],
                               atol=0.03)
    assert sampler.weights.dtype == tg.float64


def test_weighted_sampler_generator_repeats_and_no_replacement_is_a_permutation():
    w = [0.9, 0.4, 0.05, 0.2, 0.3, 0.1]
    a = list(WeightedRandomSampler(w, 5, generator=tg.Generator().manual_seed(3)))
    b = list(WeightedRandomSampler(w, 5, generator=tg.Generator().manual_seed(3)))
    assert a == b
    tg.manual_seed(7)
    c = list(WeightedRandomSampler(w, 6, replacement=False))
    assert sorted(c) == list(range(6))
    tg.manual_seed(7)
    assert list(WeightedRandomSampler(w, 6, replacement=False)) == c


@pytest.mark.parametrize("args, message", [
    (([1.0, 2.0], 0), "num_samples should be a positive integer value"),
    (([1.0, 2.0], True), "num_samples should be a positive integer value"),
    (([1.0, 2.0], 2.0), "num_samples should be a positive integer value"),
    (([1.0, 2.0], 2, 1), "replacement should be a boolean value"),
    (([[1.0, 2.0]], 2), r"weights should be a 1d sequence .* shape \(1, 2\)")])
def test_weighted_sampler_argument_errors_match_torch(args, message):
    with pytest.raises(ValueError, match=message):
        WeightedRandomSampler(*args)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message):
        torch.utils.data.WeightedRandomSampler(*args)


@pytest.mark.parametrize("weights", [[1.0, -1.0], [0.0, 0.0], [1.0, float("nan")]])
def test_weighted_sampler_bad_weights_raise_runtime_error(weights):
    with pytest.raises(RuntimeError, match="multinomial"):
        list(WeightedRandomSampler(weights, 2))


def test_stack_dataset_tuple_and_dict_forms():
    a, b = TensorDataset(tg.arange(4.0)), [10, 11, 12, 13]
    stacked = StackDataset(a, b)
    assert len(stacked) == 4
    x, y = stacked[2]
    assert x[0].item() == 2.0 and y == 12
    named = StackDataset(img=a, label=b)
    item = named[1]
    assert list(item) == ["img", "label"] and item["label"] == 11
    batch = named.__getitems__([0, 3])
    assert [d["label"] for d in batch] == [10, 13]
    assert [t[1] for t in stacked.__getitems__([1, 2])] == [11, 12]
    loader = DataLoader(named, batch_size=2)
    first = next(iter(loader))
    np.testing.assert_array_equal(first["label"].numpy(), [10, 11])


@pytest.mark.parametrize("args, kwargs, message", [
    ((), {}, "At least one dataset should be passed"),
    (([1, 2], [1]), {}, "Size mismatch between datasets"),
    ((), {"a": [1, 2], "b": [1]}, "Size mismatch between datasets"),
    (([1],), {"b": [1]}, "both types are given")])
def test_stack_dataset_errors_match_torch(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        StackDataset(*args, **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message):
        torch.utils.data.StackDataset(*args, **kwargs)


def test_distributed_sampler_needs_replicas_and_rank():
    for kwargs in ({}, {"num_replicas": 2}, {"rank": 0}):
        with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
            DistributedSampler(range(5), **kwargs)
    for rank in (2, -1):
        with pytest.raises(ValueError, match=r"Invalid rank .*interval \[0, 1\]"):
            DistributedSampler(range(5), num_replicas=2, rank=rank)


@pytest.mark.parametrize("n, replicas, drop_last", [
    (10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False), (11, 4, True)])
def test_distributed_sampler_unshuffled_matches_torch(n, replicas, drop_last):
    ours = [list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
            for r in range(replicas)]
    lengths = {len(DistributedSampler(range(n), replicas, r, drop_last=drop_last))
               for r in range(replicas)}
    assert lengths == {len(ours[0])}
    if drop_last:
        assert sorted(sum(ours, [])) == list(range(len(ours[0]) * replicas))
    else:
        assert set(sum(ours, [])) == set(range(n))
    torch = pytest.importorskip("torch")
    theirs = [list(torch.utils.data.DistributedSampler(range(n), replicas, r, shuffle=False,
                                                       drop_last=drop_last))
              for r in range(replicas)]
    assert ours == theirs


def test_distributed_sampler_shuffle_partitions_and_follows_epoch():
    def epoch(e, seed=0, drop_last=False):
        parts = []
        for r in range(3):
            s = DistributedSampler(range(10), 3, r, seed=seed, drop_last=drop_last)
            s.set_epoch(e)
            parts.append(list(s))
        return parts

    parts = epoch(0)
    flat = sum(parts, [])
    assert all(len(p) == 4 for p in parts) and len(flat) == 12
    assert set(flat) == set(range(10))                      # every item, two repeated as padding
    assert sorted(collections.Counter(flat).values()) == [1] * 8 + [2] * 2
    assert epoch(0) == parts and epoch(1) != parts
    assert epoch(0, seed=5) == epoch(5, seed=0)             # the permutation's seed is seed+epoch
    dropped = sum(epoch(2, drop_last=True), [])
    assert len(dropped) == len(set(dropped)) == 9
