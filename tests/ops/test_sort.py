"""sort, argsort and topk: orders against NumPy (and PyTorch when installed), values'
gradients through gather, and the errors a user sees."""

import numpy as np
import pytest

import tinygen as tg
from tests.helpers import host
from tinygen.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_numpy(dim, descending, device, rng, leaf):
    x = leaf(rng, 3, 5, device=device)
    values, indices = x.sort(dim, descending=descending)
    order = np.argsort(-host(x) if descending else host(x), axis=dim)
    np.testing.assert_array_equal(host(indices), order)
    np.testing.assert_array_equal(host(values), np.take_along_axis(host(x), order, dim))
    assert indices.dtype == tg.int64
    np.testing.assert_array_equal(host(tg.argsort(x, dim, descending)), order)
    assert gradcheck(lambda x: tg.sort(x, dim, descending).values, (x,))
    assert gradgradcheck(lambda x: tg.sort(x, dim, descending).values, (x,))


def test_sort_gradient_goes_back_to_where_each_value_came_from(device):
    x = tg.tensor([3.0, 1.0, 2.0], dtype=tg.float64, device=device, requires_grad=True)
    values, indices = x.sort()
    assert indices.tolist() == [1, 2, 0]
    values.backward(tg.tensor([10.0, 20.0, 30.0], dtype=tg.float64, device=device))
    assert host(x.grad).tolist() == [30.0, 10.0, 20.0]


def test_stable_sort_keeps_the_order_of_ties():
    x = tg.tensor([1, 0, 1, 0, 1])
    assert x.sort(stable=True).indices.tolist() == [1, 3, 0, 2, 4]
    assert x.sort(descending=True, stable=True).indices.tolist() == [0, 2, 4, 1, 3]
    assert tg.tensor([True, False, True]).argsort(descending=True).tolist() == [0, 2, 1]


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_a_full_sort(k, largest, device, rng, leaf):
    x = leaf(rng, 4, 5, device=device)
    values, indices = x.topk(k, largest=largest)
    order = np.argsort(-host(x) if largest else host(x), axis=-1)[:, :k]
    np.testing.assert_array_equal(host(indices), order)
    np.testing.assert_array_equal(host(values), np.take_along_axis(host(x), order, -1))
    assert gradcheck(lambda x: tg.topk(x, k, -1, largest).values, (x,))
    assert gradgradcheck(lambda x: tg.topk(x, k, -1, largest).values, (x,))


def test_topk_keeps_the_other_dims_and_handles_k_0():
    x = tg.randn(2, 6, 3)
    assert x.topk(2, dim=1).values.shape == (2, 2, 3)
    assert x.topk(0).indices.shape == (2, 6, 0)


def test_topk_k_out_of_range():
    with pytest.raises(RuntimeError, match="out of range"):
        tg.ones(2, 3).topk(4)
    with pytest.raises(RuntimeError, match="out of range"):
        tg.ones(2, 3).topk(-1)


def test_zero_dim_inputs():
    x = tg.tensor(2.0)
    assert x.sort().values.item() == 2.0 and x.sort().indices.item() == 0
    assert x.topk(1).values.item() == 2.0 and x.argsort().item() == 0


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((3, 50))
    x, t = tg.tensor(a), torch.tensor(a)
    for ours, theirs in [(x.topk(7), t.topk(7)), (x.topk(2, 0, False), t.topk(2, 0, False)),
                         (x.sort(descending=True), t.sort(descending=True)),
                         (x.sort(0), t.sort(0))]:
        np.testing.assert_array_equal(host(ours.values), theirs.values.cpu().numpy())
        np.testing.assert_array_equal(host(ours.indices), theirs.indices.cpu().numpy())


def test_nan_sorts_as_the_largest_value():
    x = tg.tensor([1.0, float("nan"), -1.0, 2.0])
    assert x.argsort().tolist() == [2, 0, 3, 1]
    assert x.argsort(descending=True).tolist() == [1, 3, 0, 2]
