"""The Embedding module: N(0, 1) initialisation with a zero padding row, lookups and gradients,
from_pretrained, PyTorch's state-dict key and repr."""

import numpy as np
import pytest

import tinygen as tg
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
