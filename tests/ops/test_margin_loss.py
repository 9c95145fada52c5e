"""margin_ranking, hinge_embedding, soft_margin, multilabel_soft_margin, cosine_embedding and
triplet_margin losses: values against NumPy formulas, first and second derivatives (off the
hinges), extreme inputs, shape errors, and a table against PyTorch."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import check_functional_against_torch, host
from tinygen.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["none", "mean", "sum"]


def reduce_np(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def labels(rng, *shape):
    return np.where(rng.uniform(size=shape) > 0.5, 1.0, -1.0)


def cos_np(a, b):
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


def distance_np(a, b, p=2, eps=1e-6):
    return (np.abs(a - b + eps) ** p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking(reduction, device, rng):
    x2 = rng.standard_normal(8)
    y = labels(rng, 8)
    # keep -y (x1 - x2) + margin at least 0.1 from the hinge at 0
    gap = rng.uniform(0.1, 1.0, 8) * np.where(rng.uniform(size=8) > 0.5, 1, -1)
    x1 = x2 + y * (0.3 - gap)
    a, b = (tg.tensor(v, device=device, requires_grad=True) for v in (x1, x2))
    t = tg.tensor(y, device=device)
    f = lambda a, b: F.margin_ranking_loss(a, b, t, 0.3, reduction=reduction)  # noqa: E731
    expected = np.maximum(0, -y * (x1 - x2) + 0.3)
    np.testing.assert_allclose(host(f(a, b)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding(reduction, device, rng, leaf):
    x = leaf(rng, 4, 5, device=device, low=-1, high=3, away_from=(1.0,))
    y = labels(rng, 4, 5)
    t = tg.tensor(y, device=device)
    f = lambda x: F.hinge_embedding_loss(x, t, reduction=reduction)  # noqa: E731
    a = host(x)
    expected = np.where(y == 1, a, np.maximum(0, 1 - a))
    np.testing.assert_allclose(host(f(x)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin(reduction, device, rng, leaf):
    x = leaf(rng, 4, 5, device=device, low=-3, high=3)
    y = labels(rng, 4, 5)
    f = lambda x: F.soft_margin_loss(x, tg.tensor(y, device=device),  # noqa: E731
                                     reduction=reduction)
    expected = np.logaddexp(0, -y * host(x))
    np.testing.assert_allclose(host(f(x)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin(reduction, weighted, device, rng, leaf):
    x = leaf(rng, 4, 5, device=device, low=-3, high=3)
    y = (rng.uniform(size=(4, 5)) > 0.5).astype(np.float64)
    w = rng.uniform(0.5, 2, 5) if weighted else np.ones(5)
    weight = tg.tensor(w, device=device) if weighted else None
    f = lambda x: F.multilabel_soft_margin_loss(  # noqa: E731
        x, tg.tensor(y, device=device), weight, reduction=reduction)
    a = host(x)
    expected = (w * (y * np.logaddexp(0, -a) + (1 - y) * np.logaddexp(0, a))).mean(-1)
    np.testing.assert_allclose(host(f(x)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding(reduction, device, rng, leaf):
    a, b = leaf(rng, 6, 4, device=device), leaf(rng, 6, 4, device=device)
    y = labels(rng, 6)
    t = tg.tensor(y, device=device)
    cos = cos_np(host(a), host(b))
    margin = float(np.sort(cos)[2] + np.sort(cos)[3]) / 2      # some hinges active, none tied
    f = lambda a, b: F.cosine_embedding_loss(a, b, t, margin, reduction=reduction)  # noqa
    expected = np.where(y == 1, 1 - cos, np.maximum(0, cos - margin))
    np.testing.assert_allclose(host(f(a, b)), reduce_np(expected, reduction), rtol=1e-12)
    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))


def test_cosine_embedding_single_pair_and_zero_vectors():
    a = tg.tensor([0.0, 0.0, 0.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)
    loss = F.cosine_embedding_loss(a, b, tg.tensor(1.0, dtype=tg.float64))
    loss.backward()
    assert loss.item() == 1.0 and np.isfinite(host(a.grad)).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p, swap", [(2, False), (2, True), (1, False), (3, True)])
def test_triplet_margin(reduction, p, swap, device, rng, leaf):
    anchor, positive, negative = (leaf(rng, 6, 4, device=device, low=-2, high=2)
                                  for _ in range(3))
    a, pos, neg = host(anchor), host(positive), host(negative)
    d_pos, d_neg = distance_np(a, pos, p), distance_np(a, neg, p)
    if swap:
        d_neg = np.minimum(d_neg, distance_np(pos, neg, p))
    margin = max(float(np.median(d_neg - d_pos)), 0.0) + 0.05     # some hinges active
    f = lambda *t: F.triplet_margin_loss(*t, margin=margin, p=p, swap=swap,  # noqa: E731
                                         reduction=reduction)
    expected = np.maximum(0, margin + d_pos - d_neg)
    np.testing.assert_allclose(host(f(anchor, positive, negative)), reduce_np(expected, reduction),
                               rtol=1e-12)
    assert gradcheck(f, (anchor, positive, negative))
    assert gradgradcheck(f, (anchor, positive, negative))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(anchor, positive, negative, margin=0.0)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_extreme_inputs_stay_finite(dtype):
    x = tg.tensor([[-1e4, 1e4], [1e4, -1e4]], dtype=dtype, requires_grad=True)
    y = tg.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=dtype)
    binary = (y + 1) / 2
    for loss in (F.soft_margin_loss(x, y), F.multilabel_soft_margin_loss(x, binary),
                 F.hinge_embedding_loss(x, y), F.margin_ranking_loss(x, -x, y),
                 F.cosine_embedding_loss(x, -x, y[:, 0]), F.triplet_margin_loss(x, -x, x * 0.5)):
        (g,) = tg.autograd.grad(loss, [x])
        assert np.isfinite(loss.item()) and np.isfinite(host(g)).all()
    np.testing.assert_allclose(F.soft_margin_loss(x, y).item(), 1e4, rtol=1e-6)


def test_shape_errors():
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(tg.ones(3, 2), tg.ones(3, 2), tg.ones(3))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        F.cosine_embedding_loss(tg.ones(3), tg.ones(3), tg.ones(3))
    with pytest.raises(RuntimeError, match="multi-target"):
        F.cosine_embedding_loss(tg.ones(3, 2), tg.ones(3, 2), tg.ones(3, 1))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(tg.ones(3, 2), tg.ones(2), tg.ones(3, 2))
    with pytest.raises(ValueError, match="reduction"):
        F.hinge_embedding_loss(tg.ones(3), tg.ones(3), reduction="avg")


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    a, b, c = rng.standard_normal((3, 5, 4)) * 2
    y1, y2 = labels(rng, 5), labels(rng, 5, 4)
    binary = (rng.uniform(size=(5, 4)) > 0.5).astype(np.float64)
    cases = [("margin_ranking_loss", (a[:, 0], b[:, 0]), (y1,), {"margin": 0.2}),
             ("hinge_embedding_loss", (a,), (y2,), {"margin": 1.5}),
             ("soft_margin_loss", (a,), (y2,), {}),
             ("multilabel_soft_margin_loss", (a,), (binary,), {}),
             ("cosine_embedding_loss", (a, b), (y1,), {"margin": 0.1}),
             ("triplet_margin_loss", (a, b, c), (), {"margin": 2.0, "swap": True}),
             ("triplet_margin_loss", (a, b, c), (), {"p": 1, "eps": 1e-3})]
    for name, inputs, targets, kwargs in cases:
        for reduction in REDUCTIONS:
            check_functional_against_torch(torch, rng, name, inputs, targets,
                                           reduction=reduction, **kwargs)
