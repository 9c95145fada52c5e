"""pairwise_distance, cosine_similarity, normalize and one_hot: values against NumPy, first and
second derivatives, zero vectors, extreme inputs, errors, and a table against PyTorch."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import check_functional_against_torch, host
from tinygen.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim, device, rng, leaf):
    x1, x2 = leaf(rng, 5, 4, device=device), leaf(rng, 4, device=device)
    diff = host(x1) - host(x2) + 1e-6
    expected = np.linalg.norm(diff, ord=p, axis=-1, keepdims=keepdim)
    f = lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim)  # noqa: E731
    np.testing.assert_allclose(host(f(x1, x2)), expected, rtol=1e-12)
    assert gradcheck(f, (x1, x2))
    if p != float("inf"):
        assert gradgradcheck(f, (x1, x2))


@pytest.mark.parametrize("dim, shapes", [(1, ((4, 3), (4, 3))), (-1, ((2, 5, 3), (3,))),
                                         (0, ((3, 4), (3, 1)))])
def test_cosine_similarity(dim, shapes, device, rng, leaf):
    x1, x2 = (leaf(rng, *s, device=device) for s in shapes)
    a, b = np.broadcast_arrays(host(x1), host(x2))
    expected = (a * b).sum(dim) / (np.linalg.norm(a, axis=dim) * np.linalg.norm(b, axis=dim))
    f = lambda a, b: F.cosine_similarity(a, b, dim)  # noqa: E731
    np.testing.assert_allclose(host(f(x1, x2)), expected, rtol=1e-12)
    assert gradcheck(f, (x1, x2))
    assert gradgradcheck(f, (x1, x2))


@pytest.mark.parametrize("p, dim", [(2, 1), (1, 0), (3, -1)])
def test_normalize(p, dim, device, rng, leaf):
    x = leaf(rng, 4, 5, device=device)
    a = host(x)
    expected = a / np.linalg.norm(a, ord=p, axis=dim, keepdims=True)
    f = lambda x: F.normalize(x, p, dim)  # noqa: E731
    np.testing.assert_allclose(host(f(x)), expected, rtol=1e-12)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_zero_vectors_give_finite_values_and_gradients():
    z = tg.zeros(2, 3, dtype=tg.float64, requires_grad=True)
    other = tg.ones(2, 3, dtype=tg.float64)
    for out in (F.normalize(z), F.cosine_similarity(z, other), F.pairwise_distance(z, z)):
        (g,) = tg.autograd.grad(out.sum(), [z])
        assert np.isfinite(host(out)).all() and np.isfinite(host(g)).all()
    np.testing.assert_array_equal(host(F.normalize(z)), np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_extreme_inputs_stay_finite(dtype):
    x = tg.tensor([[1e4, -1e4, 3.0], [-1e4, 2.0, 1e4]], dtype=dtype, requires_grad=True)
    y = tg.tensor([[-1e4, 1e4, 1.0], [1.0, 1e4, -1e4]], dtype=dtype)
    cos = F.cosine_similarity(x, y)
    for out in (F.normalize(x), cos, F.pairwise_distance(x, y)):
        (g,) = tg.autograd.grad(out.sum(), [x])
        assert np.isfinite(host(out)).all() and np.isfinite(host(g)).all()
    assert (np.abs(host(cos)) <= 1 + 1e-6).all()


def test_one_hot():
    labels = tg.tensor([[0, 2], [1, 2]])
    out = F.one_hot(labels)
    assert out.dtype == tg.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(host(out), np.eye(3, dtype=np.int64)[host(labels)])
    assert F.one_hot(labels, 5).shape == (2, 2, 5)
    assert F.one_hot(tg.tensor([], dtype=tg.int64), 4).shape == (0, 4)
    assert not out.requires_grad


@pytest.mark.parametrize("values, dtype, num_classes, match", [
    ([1.0, 2.0], tg.float32, -1, "LongTensor"), ([-1, 2], tg.int64, -1, "non-negative"),
    ([1, 5], tg.int64, 3, "smaller than num_classes"), ([], tg.int64, -1, "empty tensor")])
def test_one_hot_errors(values, dtype, num_classes, match):
    with pytest.raises(RuntimeError, match=match):
        F.one_hot(tg.tensor(values, dtype=dtype), num_classes)


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    a, b = rng.standard_normal((2, 5, 4))
    cases = [("pairwise_distance", 2, {}), ("pairwise_distance", 2, {"p": 1, "keepdim": True}),
             ("pairwise_distance", 2, {"p": 3.5, "eps": 1e-3}),
             ("cosine_similarity", 2, {}), ("cosine_similarity", 2, {"dim": 0, "eps": 1e-3}),
             ("normalize", 1, {}), ("normalize", 1, {"p": 1, "dim": 0})]
    for name, arity, kwargs in cases:
        check_functional_against_torch(torch, rng, name, (a, b)[:arity], **kwargs)
    labels = rng.integers(0, 4, (3, 5))
    np.testing.assert_array_equal(host(F.one_hot(tg.tensor(labels), 6)),
                                  tf.one_hot(torch.tensor(labels), 6).numpy())
