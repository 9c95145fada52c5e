"""The newer loss and distance modules: each equals its functional form with the constructor's
options, keeps PyTorch's constructor arguments, and matches PyTorch's module of the same name."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import nn


def cases(rng):
    """(module name, constructor kwargs, functional form, NumPy arguments)."""
    a, b, c = rng.standard_normal((3, 5, 4))
    var = rng.uniform(0.2, 2, (5, 4))
    counts = rng.poisson(2.0, (5, 4)).astype(np.float64)
    signs = np.where(rng.uniform(size=(5, 4)) > 0.5, 1.0, -1.0)
    binary = (signs + 1) / 2
    weight = rng.uniform(0.5, 2, 4)
    return [
        ("SmoothL1Loss", {"beta": 0.5}, F.smooth_l1_loss, (a, b)),
        ("HuberLoss", {"delta": 0.7, "reduction": "sum"}, F.huber_loss, (a, b)),
        ("GaussianNLLLoss", {"full": True, "eps": 1e-3}, F.gaussian_nll_loss, (a, b, var)),
        ("PoissonNLLLoss", {"full": True}, F.poisson_nll_loss, (a, counts)),
        ("PoissonNLLLoss", {"log_input": False, "eps": 1e-4}, F.poisson_nll_loss, (var, counts)),
        ("MarginRankingLoss", {"margin": 0.3}, F.margin_ranking_loss, (a, b, signs)),
        ("CosineEmbeddingLoss", {"margin": 0.1, "reduction": "none"}, F.cosine_embedding_loss,
         (a, b, signs[:, 0])),
        ("HingeEmbeddingLoss", {"margin": 2.0}, F.hinge_embedding_loss, (a, signs)),
        ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, F.triplet_margin_loss,
         (a, b, c)),
        ("SoftMarginLoss", {}, F.soft_margin_loss, (a, signs)),
        ("MultiLabelSoftMarginLoss", {"weight": weight}, F.multilabel_soft_margin_loss,
         (a, binary)),
        ("CosineSimilarity", {"dim": 0, "eps": 1e-4}, F.cosine_similarity, (a, b)),
        ("PairwiseDistance", {"p": 3.0, "keepdim": True}, F.pairwise_distance, (a, b)),
    ]


def build(module, name, kwargs):
    kwargs = {k: module.tensor(v) if isinstance(v, np.ndarray) else v
              for k, v in kwargs.items()}
    return getattr(module.nn, name)(**kwargs)


def test_modules_equal_functional_forms(rng):
    for name, kwargs, functional, args in cases(rng):
        module = build(tg, name, kwargs)
        tensors = [tg.tensor(v) for v in args]
        options = {k: tg.tensor(v) if isinstance(v, np.ndarray) else v
                   for k, v in kwargs.items()}
        np.testing.assert_allclose(host(module(*tensors)), host(functional(*tensors, **options)),
                                   rtol=1e-12, err_msg=name)
        assert list(module.parameters()) == []


def test_weight_is_a_buffer():
    loss = nn.MultiLabelSoftMarginLoss(weight=tg.ones(3))
    assert list(loss.state_dict()) == ["weight"]


def test_legacy_reduction_arguments():
    with pytest.warns(UserWarning, match="size_average"):
        assert nn.SoftMarginLoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match="size_average"):
        assert nn.TripletMarginLoss(size_average=False).reduction == "sum"
    with pytest.raises(ValueError, match="reduction"):
        nn.HuberLoss(reduction="avg")


def test_against_torch_modules(rng):
    torch = pytest.importorskip("torch")
    for name, kwargs, _, args in cases(rng):
        ours, theirs = build(tg, name, kwargs), build(torch, name, kwargs)
        if "reduction" not in kwargs:      # tinygen's repr also names a non-default reduction
            assert repr(ours) == repr(theirs)
        x, tx = tg.tensor(args[0], requires_grad=True), torch.tensor(args[0], requires_grad=True)
        rest = args[1:]
        y = ours(x, *(tg.tensor(v) for v in rest))
        ty = theirs(tx, *(torch.tensor(v) for v in rest))
        g = rng.standard_normal(y.shape)
        y.backward(tg.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
