"""MultiMarginLoss, MultiLabelMarginLoss and TripletMarginWithDistanceLoss: NumPy loop
references, PyTorch values and gradients, float64 gradchecks (off the hinges) and errors."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def multi_margin_np(x, y, p, margin, w):
    out = np.zeros(len(x))
    for n in range(len(x)):
        for i in range(x.shape[1]):
            if i != y[n]:
                out[n] += (w[y[n]] if w is not None else 1) * max(0, margin - x[n, y[n]]
                                                                  + x[n, i]) ** p
    return out / x.shape[1]


def multilabel_margin_np(x, y):
    out = np.zeros(len(x))
    for n in range(len(x)):
        targets = []
        for label in y[n]:
            if label < 0:
                break
            targets.append(label)
        for j in targets:
            for i in set(range(x.shape[1])) - set(targets):
                out[n] += max(0, 1 - (x[n, j] - x[n, i]))
    return out / x.shape[1]


def test_multi_margin_against_loops(rng):
    x, y, w = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2]), rng.uniform(size=4)
    for p, weight in [(1, None), (2, None), (1, w), (2, w)]:
        loss = nn.MultiMarginLoss(p=p, margin=0.8, weight=None if weight is None else
                                  tg.tensor(weight), reduction="none")
        np.testing.assert_allclose(host(loss(tg.tensor(x), tg.tensor(y))),
                                   multi_margin_np(x, y, p, 0.8, weight))
    np.testing.assert_allclose(host(F.multi_margin_loss(tg.tensor(x[0]), tg.tensor(np.int64(0)))),
                               multi_margin_np(x[:1], y[:1], 1, 1.0, None)[0])


def test_multilabel_margin_against_loops(rng):
    x = rng.standard_normal((3, 4))
    y = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 1, 1]])
    np.testing.assert_allclose(host(nn.MultiLabelMarginLoss(reduction="none")(
        tg.tensor(x), tg.tensor(y))), multilabel_margin_np(x, y))
    np.testing.assert_allclose(host(F.multilabel_margin_loss(tg.tensor(x), tg.tensor(y))),
                               multilabel_margin_np(x, y).mean())


def hinge_free(rng, shape, scale=3.0):
    """Values spread on a grid, so no hinge margin - x_y + x_i sits at 0 exactly."""
    return tg.tensor(rng.permutation(np.prod(shape)).reshape(shape) * 0.37 / scale + 0.013,
                     requires_grad=True)


def test_gradchecks(rng):
    x = hinge_free(rng, (3, 4))
    y = tg.tensor(np.array([0, 3, 1]))
    w = tg.tensor(rng.uniform(size=4), requires_grad=True)
    assert gradcheck(lambda a, b: F.multi_margin_loss(a, y, p=2, weight=b), (x, w))
    assert gradgradcheck(lambda a: F.multi_margin_loss(a, y, p=2), (x,))
    assert gradcheck(lambda a: F.multi_margin_loss(a, y, margin=0.5, reduction="sum"), (x,))
    labels = tg.tensor(np.array([[3, 0, -1, 1], [1, -1, 3, 0], [2, 1, 0, -1]]))
    assert gradcheck(lambda a: F.multilabel_margin_loss(a, labels), (x,))
    anchor, pos, neg = (tg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
                        for _ in range(3))
    cosine = lambda a, b: 1 - F.cosine_similarity(a, b, dim=-1)  # noqa: E731
    assert gradcheck(lambda a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, distance_function=cosine, margin=5.0, swap=True), (anchor, pos, neg))
    assert gradgradcheck(lambda a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, margin=5.0, reduction="none"), (anchor, pos, neg))


def test_triplet_with_distance_values(rng):
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    dist = lambda u, v: np.abs(u - v).sum(-1)  # noqa: E731
    l1 = lambda u, v: (u - v).abs().sum(-1)  # noqa: E731
    loss = nn.TripletMarginWithDistanceLoss(distance_function=l1, margin=0.5, swap=True,
                                            reduction="none")
    expected = np.maximum(0, dist(a, p) - np.minimum(dist(a, n), dist(p, n)) + 0.5)
    np.testing.assert_allclose(host(loss(*(tg.tensor(v) for v in (a, p, n)))), expected)
    default = F.triplet_margin_with_distance_loss(*(tg.tensor(v) for v in (a, p, n)))
    np.testing.assert_allclose(host(default), host(F.triplet_margin_loss(
        *(tg.tensor(v) for v in (a, p, n)))))


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    x, w = rng.standard_normal((5, 4)), rng.uniform(size=4)
    y = np.array([0, 3, 1, 1, 2])
    labels = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 1, 1], [2, -1, 0, 0], [0, 1, 2, 3]])
    cases = [("multi_margin_loss", (y,), dict(p=2, margin=0.7, weight=w)),
             ("multi_margin_loss", (y,), dict(reduction="sum")),
             ("multilabel_margin_loss", (labels,), dict(reduction="none"))]
    for name, targets, kwargs in cases:
        ours = tg.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        ours_kwargs = {k: tg.tensor(v) if isinstance(v, np.ndarray) else v
                       for k, v in kwargs.items()}
        their_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                        for k, v in kwargs.items()}
        out = getattr(F, name)(ours, *(tg.tensor(t) for t in targets), **ours_kwargs)
        expected = getattr(torch.nn.functional, name)(theirs, *(torch.tensor(t) for t in targets),
                                                      **their_kwargs)
        np.testing.assert_allclose(host(out), expected.detach().numpy(), atol=1e-12)
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), atol=1e-12)
    assert repr(nn.MultiMarginLoss(p=2)) == repr(torch.nn.MultiMarginLoss(p=2))


def test_errors():
    x = tg.zeros(2, 3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, tg.tensor([0, 1]), p=3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, tg.tensor([0, 5]))
    with pytest.raises(RuntimeError, match="input"):
        F.multi_margin_loss(x, tg.tensor([[0, 1]]))
    with pytest.raises(RuntimeError, match="weight"):
        F.multi_margin_loss(x, tg.tensor([0, 1]), weight=tg.ones(4))
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(x, tg.zeros(2, 4, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="integer"):
        F.multilabel_margin_loss(x, tg.zeros(2, 3))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=-1)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(x, x, tg.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        nn.MultiLabelMarginLoss(reduction="avg")


def test_margin_losses_of_one_row_take_0d_and_one_element_targets():
    # PyTorch: a 0-d input is one class; a single row's target may be 0-d or of shape (1,)
    x = tg.tensor([0.3, -1.2, 0.8, 0.1, 2.0], dtype=tg.float64, requires_grad=True)
    rows = x.reshape(1, 5)
    for target in (tg.tensor(2), tg.tensor([2])):
        loss = F.multi_margin_loss(x, target, p=2, reduction="none")
        assert loss.shape == target.shape
        np.testing.assert_allclose(host(loss).reshape(1),
                                   host(F.multi_margin_loss(rows, tg.tensor([2]), p=2)))
    assert gradcheck(lambda t: F.multi_margin_loss(t, tg.tensor([2]), p=2), (x,))
    scalar = tg.tensor(0.7, dtype=tg.float64, requires_grad=True)
    for loss in (F.multi_margin_loss(scalar, tg.tensor(0)),
                 F.multilabel_margin_loss(scalar, tg.tensor(0), reduction="none")):
        assert loss.shape == () and float(loss) == 0.0
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multi_margin_loss(x, tg.tensor([2, 1]))


@pytest.mark.parametrize("shape", [(), (5, 4)])
def test_multi_margin_loss_weight_must_be_a_vector(shape):
    with pytest.raises(ValueError, match="one-dimensional"):
        F.multi_margin_loss(tg.zeros(5, 4), tg.zeros(5, dtype=tg.int64), weight=tg.ones(*shape))
