"""The Embedding module and F.embedding: N(0, 1) initialisation with a zero padding row,
lookups and gradients, max_norm (rows rescaled in place), scale_grad_by_freq, from_pretrained,
PyTorch's state-dict key and repr, and values and gradients against PyTorch."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import nn


def test_init_and_padding_row():
    tg.manual_seed(0)
    emb = nn.Embedding(2000, 16, padding_idx=3)
    w = host(emb.weight.detach())
    np.testing.assert_array_equal(w[3], 0.0)
    others = np.delete(w, 3, axis=0)
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1.0) < 0.02   # N(0, 1)
    assert list(emb.state_dict()) == ["weight"]
    assert repr(emb) == "Embedding(2000, 16, padding_idx=3)"


def test_forward_and_padding_gradient():
    emb = nn.Embedding(5, 3, padding_idx=0)
    ids = tg.tensor([[0, 1, 1], [4, 0, 2]])
    y = emb(ids)
    assert y.shape == (2, 3, 3)
    y.backward(tg.ones(2, 3, 3))
    grad = host(emb.weight.grad)
    np.testing.assert_array_equal(grad[:, 0], [0, 2, 1, 0, 1])


def test_from_pretrained():
    table = tg.tensor(np.arange(6.0).reshape(3, 2))
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(host(emb(tg.tensor([2, 0]))), [[4, 5], [0, 1]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="2-D"):
        nn.Embedding.from_pretrained(tg.ones(3))


def test_errors():
    with pytest.raises(ValueError, match="padding_idx 5"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(IndexError, match="out of range"):
        host(nn.Embedding(5, 2)(tg.tensor([5])))


def test_loads_torch_weights(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding(7, 4, padding_idx=2)
    ours = nn.Embedding(7, 4, padding_idx=2)
    ours.load_state_dict({k: tg.tensor(v.cpu().numpy()) for k, v in theirs.state_dict().items()})
    ids = rng.integers(0, 7, size=(3, 5))
    np.testing.assert_array_equal(host(ours(tg.tensor(ids))),
                                  theirs(torch.tensor(ids)).detach().cpu().numpy())
    assert repr(ours) == repr(theirs)


def test_max_norm_rescales_looked_up_rows_in_place():
    """Rows looked up with norm > max_norm become row * max_norm / (norm + 1e-7); the others,
    and rows not looked up, keep their values; the lookup sees the rescaled rows."""
    table = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]])
    weight = tg.tensor(table, requires_grad=True)
    version = weight._version
    y = F.embedding(tg.tensor([[0, 1], [0, 3]]), weight, max_norm=2.0)
    expected = table.copy()
    expected[0] *= 2.0 / (5.0 + 1e-7)
    np.testing.assert_allclose(host(weight), expected, rtol=1e-15)
    np.testing.assert_allclose(host(y), expected[[[0, 1], [0, 3]]], rtol=1e-15)
    assert weight._version > version and weight.is_leaf and weight.requires_grad
    y.backward(tg.ones(2, 2, 2, dtype=tg.float64))          # the lookup's gradient, unscaled
    np.testing.assert_array_equal(host(weight.grad), [[2, 2], [1, 1], [0, 0], [1, 1]])
    F.embedding(tg.tensor([2]), weight, max_norm=1.0, norm_type=1.0)
    np.testing.assert_allclose(host(weight)[2], table[2] / (14.0 + 1e-7), rtol=1e-15)


def test_max_norm_in_the_module_and_from_pretrained():
    table = tg.tensor(np.array([[3.0, 4.0], [0.6, 0.8]]))
    emb = nn.Embedding.from_pretrained(table, max_norm=1.0)
    np.testing.assert_allclose(host(emb(tg.tensor([0, 1]))), [[0.6, 0.8], [0.6, 0.8]],
                               rtol=1e-6)
    np.testing.assert_allclose(host(table)[0], [0.6, 0.8], rtol=1e-6)  # shared, as PyTorch
    assert repr(emb) == "Embedding(2, 2, max_norm=1.0)"
    emb = nn.Embedding(4, 3, padding_idx=0, max_norm=0.5, norm_type=1.0)
    emb(tg.tensor([1, 2, 3]))
    assert (np.abs(host(emb.weight)).sum(1) <= 0.5 + 1e-6).all()


def test_scale_grad_by_freq_averages_each_rows_gradients():
    """Each row's gradient is the sum of its positions' gradients over its number of positions;
    the padding row still gets none."""
    emb = nn.Embedding(5, 2, padding_idx=1, scale_grad_by_freq=True)
    ids = tg.tensor([[0, 0, 1, 2], [2, 2, 1, 4]])
    emb(ids).backward(tg.arange(16.0).reshape(2, 4, 2))
    np.testing.assert_array_equal(host(emb.weight.grad),
                                  [[1, 2], [0, 0], [8, 9], [0, 0], [14, 15]])
    assert repr(emb) == "Embedding(5, 2, padding_idx=1, scale_grad_by_freq=True)"


def test_scale_grad_by_freq_second_derivative_matches_torch(rng):
    """PyTorch's double backward of the scaled gradient is a plain (unscaled) gather: for the
    elementwise loss sum(y^2) its gradient 2 w is then differentiated exactly, to 2."""
    weight = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    ids = tg.tensor([[0, 0, 0, 2], [1, 0, 2, 2]])
    y = F.embedding(ids, weight, scale_grad_by_freq=True)
    (grad,) = tg.autograd.grad((y * y).sum(), weight, create_graph=True)
    np.testing.assert_allclose(host(grad)[[0, 1, 2]], 2 * host(weight)[[0, 1, 2]], rtol=1e-12)
    (grad_of_grad,) = tg.autograd.grad(grad.sum(), weight)
    np.testing.assert_allclose(host(grad_of_grad), [[2] * 3, [2] * 3, [2] * 3, [0] * 3])
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tg, torch):
        w = lib.tensor(host(weight), requires_grad=True)
        y = lib.nn.functional.embedding(lib.tensor(host(ids)), w, scale_grad_by_freq=True)
        loss = (y.sum(0) ** 3).sum() + (y * y.flip(1)).sum()          # mixes the positions
        (grad,) = lib.autograd.grad(loss, w, create_graph=True)
        (grad_of_grad,) = lib.autograd.grad((grad * grad).sum(), w)
        results.append([host(grad), host(grad_of_grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_sparse_is_refused():
    with pytest.raises(NotImplementedError, match="sparse=True"):
        nn.Embedding(5, 2, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding(tg.tensor([0]), tg.ones(5, 2), sparse=True)


def test_max_norm_with_bad_ids_gives_the_lookup_errors():
    with pytest.raises(IndexError, match="out of range"):
        host(F.embedding(tg.tensor([-1, 7]), tg.ones(5, 2), max_norm=1.0))
    with pytest.raises(TypeError, match="integer ids"):
        F.embedding(tg.tensor([0.0]), tg.ones(5, 2), max_norm=1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), 0.5])
def test_options_match_torch(rng, dtype, norm_type):
    torch = pytest.importorskip("torch")
    table = (rng.standard_normal((10, 4)) * 2).astype(dtype)
    ids = rng.integers(0, 10, size=(3, 5))
    grad = rng.standard_normal((3, 5, 4)).astype(dtype)
    results = []
    for lib in (tg, torch):
        weight = lib.tensor(table, requires_grad=True)
        y = lib.nn.functional.embedding(lib.tensor(ids), weight, padding_idx=1, max_norm=1.5,
                                        norm_type=norm_type, scale_grad_by_freq=True)
        y.backward(lib.tensor(grad))
        results.append([t.detach().cpu().numpy() for t in (y, weight, weight.grad)])
    (y, weight, weight_grad), (y_torch, weight_torch, weight_grad_torch) = results
    np.testing.assert_array_equal(y, y_torch)
    np.testing.assert_array_equal(weight, weight_torch)
    np.testing.assert_allclose(weight_grad, weight_grad_torch, rtol=1e-6, atol=1e-7)


def test_module_options_match_torch_repr():
    torch = pytest.importorskip("torch")
    args = dict(padding_idx=2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)
    assert repr(nn.Embedding(7, 3, **args)) == repr(torch.nn.Embedding(7, 3, **args))
    table = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    ours = nn.Embedding.from_pretrained(tg.tensor(table), freeze=False, max_norm=2.0)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=False, max_norm=2.0)
    assert repr(ours) == repr(theirs) and ours.weight.requires_grad
    np.testing.assert_array_equal(host(ours(tg.tensor([2, 1]))),
                                  theirs(torch.tensor([2, 1])).detach().numpy())
