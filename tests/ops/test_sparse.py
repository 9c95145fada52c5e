"""embedding: lookup values, gradients that add up for repeated ids, no gradient for
padding_idx, second derivatives, and clear errors for bad ids."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host, leaf64
from tinygen.autograd import gradcheck, gradgradcheck


def test_values_and_shape(device, rng):
    w = rng.standard_normal((7, 3))
    ids = np.array([[0, 6, 2], [2, 2, 5]])
    y = F.embedding(tg.tensor(ids, device=device), tg.tensor(w, device=device))
    assert y.shape == (2, 3, 3)
    np.testing.assert_array_equal(host(y), w[ids])


def test_gradients_add_up_for_repeated_ids(device, rng):
    w = leaf64(rng, 5, 2, device=device)
    ids = tg.tensor([[1, 3, 1], [1, 0, 4]], device=device)
    assert gradcheck(lambda w: F.embedding(ids, w), (w,))
    assert gradgradcheck(lambda w: F.embedding(ids, w), (w,))
    g = rng.standard_normal((2, 3, 2))
    F.embedding(ids, w).backward(tg.tensor(g, device=device))
    expected = np.zeros((5, 2))
    np.add.at(expected, host(ids), g)
    np.testing.assert_allclose(host(w.grad), expected, rtol=1e-12)


@pytest.mark.parametrize("padding_idx", [1, -4])
def test_padding_row_gets_no_gradient(padding_idx, rng):
    w = leaf64(rng, 5, 3)
    ids = tg.tensor([1, 2, 1, 0])
    y = F.embedding(ids, w, padding_idx=padding_idx)
    np.testing.assert_array_equal(host(y)[0], host(w)[1])     # the lookup itself is unchanged
    y.backward(tg.tensor(rng.standard_normal((4, 3))))
    grad = host(w.grad)
    np.testing.assert_array_equal(grad[1], 0.0)
    assert np.all(grad[[0, 2]] != 0)


def test_errors():
    w = tg.randn(4, 2)
    with pytest.raises(IndexError, match="id 4 is out of range for 4 embeddings"):
        host(F.embedding(tg.tensor([0, 4]), w))
    with pytest.raises(IndexError, match="id -1 is out of range"):
        host(F.embedding(tg.tensor([-1, 2]), w))
    with pytest.raises(TypeError, match="integer ids"):
        F.embedding(tg.tensor([0.0, 1.0]), w)
    with pytest.raises(ValueError, match="padding_idx 4"):
        F.embedding(tg.tensor([0]), w, padding_idx=4)


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    w = rng.standard_normal((6, 3)).astype(np.float32)
    ids = rng.integers(0, 6, size=(4, 5))
    g = rng.standard_normal((4, 5, 3)).astype(np.float32)
    ours, theirs = tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.embedding(tg.tensor(ids), ours, padding_idx=2).backward(tg.tensor(g))
    torch.nn.functional.embedding(torch.tensor(ids), theirs, padding_idx=2).backward(
        torch.tensor(g))
    np.testing.assert_allclose(host(ours.grad), theirs.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)
