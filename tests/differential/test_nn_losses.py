"""Differential tests of tinygen.nn.functional against PyTorch, part 4: the losses (cross
entropy with class indices or probabilities, nll, binary cross entropy, the regression losses,
kl_div, the margin losses, ctc) on small random configurations: values, float64 gradients
(input and float targets) and PyTorch's error types."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import tinygen as tg
import tinygen.nn.functional as F
from tests.differential.nn_compare import compare

torch = pytest.importorskip("torch")
TF = torch.nn.functional
FAST = settings(max_examples=15, deadline=None, derandomize=True, phases=[Phase.generate])
REDUCTION = st.sampled_from(["none", "mean", "sum"])


def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**16)))


def _class_shape(data):
    """(input shape, class count): (C,), (N, C) or (N, C, d1[, d2])."""
    c = data.draw(st.integers(1, 4))
    extra = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2))))
    if not extra and data.draw(st.booleans()):
        return (c,), c
    return (data.draw(st.integers(1, 3)), c) + extra, c


def _call(name, **kw):
    """The pair (tinygen F.<name>, torch F.<name>) with fixed keyword arguments."""
    return (lambda *a: getattr(F, name)(*a, **kw)), (lambda *a: getattr(TF, name)(*a, **kw))


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@settings(max_examples=30, deadline=None, derandomize=True, phases=[Phase.generate])
@given(data=st.data())
def test_cross_entropy_and_nll(name, data):
    rng = _rng(data)
    shape, c = _class_shape(data)
    x = rng.standard_normal(shape)
    kw = dict(reduction=data.draw(REDUCTION), ignore_index=data.draw(st.sampled_from([-100, 0])))
    weight = rng.uniform(0.5, 2.0, c) if data.draw(st.booleans()) else None
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if name == "cross_entropy":
        kw["label_smoothing"] = data.draw(st.sampled_from([0.0, 0.0, 0.2]))
    if name == "cross_entropy" and data.draw(st.booleans()):
        target = rng.dirichlet(np.ones(c), size=target_shape).reshape(target_shape + (c,))
        target = np.moveaxis(target, -1, 1 if len(shape) > 1 else 0).copy()
    else:
        target = rng.integers(0, c, target_shape)
        if target.size and data.draw(st.integers(0, 7)) == 0:
            target.flat[0] = data.draw(st.sampled_from([c, -1]))     # out of range: raise
    ours, theirs = _call(name, **kw)
    compare(torch, ours, theirs, [x, target, weight], grad=[True, True, False])


@pytest.mark.parametrize("logits", [False, True])
@FAST
@given(data=st.data())
def test_binary_cross_entropy(logits, data):
    rng = _rng(data)
    shape = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(1, 3))))
    x = rng.standard_normal(shape) if logits else rng.uniform(0.05, 0.95, shape)
    target = rng.uniform(0, 1, shape)
    weight = rng.uniform(0.5, 2, shape[-1:]) if data.draw(st.booleans()) else None
    args = [x, target, weight]
    if logits:
        args.append(rng.uniform(0.5, 2, shape[-1:]) if data.draw(st.booleans()) else None)
        name = "binary_cross_entropy_with_logits"
    else:
        name = "binary_cross_entropy"
    ours, theirs = _call(name, reduction=data.draw(REDUCTION))
    if logits:                   # pos_weight is keyword-only in effect (size_average is 4th)
        ours, theirs = ((lambda f: lambda x, t, w, p: f(x, t, w, pos_weight=p))(f)
                        for f in (ours, theirs))
    # torch has no derivative of binary_cross_entropy for its target
    compare(torch, ours, theirs, args, grad=[True, logits, False, False])


@pytest.mark.parametrize("name, param", [("mse_loss", None), ("l1_loss", None),
                                         ("smooth_l1_loss", "beta"), ("huber_loss", "delta"),
                                         ("kl_div", "log_target"),
                                         ("soft_margin_loss", None),
                                         ("multilabel_soft_margin_loss", None)])
@FAST
@given(data=st.data())
def test_pointwise_losses(name, param, data):
    rng = _rng(data)
    shape = tuple(data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(1, 3))))
    if name == "multilabel_soft_margin_loss":
        shape = shape[:2]
    x, target = rng.standard_normal(shape), rng.standard_normal(shape)
    if name == "soft_margin_loss":
        target = rng.choice([-1.0, 1.0], shape)
    elif name == "multilabel_soft_margin_loss":
        target = rng.integers(0, 2, shape).astype(np.float64)
    kw = dict(reduction=data.draw(REDUCTION))
    if name == "kl_div":
        kw["reduction"] = data.draw(st.sampled_from(["none", "mean", "sum", "batchmean"]))
    if param == "log_target":
        kw[param] = data.draw(st.booleans())
        if not kw[param]:
            target = rng.uniform(0, 1, shape) * rng.integers(0, 2, shape)   # zeros included
    elif param:
        kw[param] = data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0] if param == "beta"
                                              else [0.5, 1.0, 2.0]))
    # torch has no target derivative for the soft margins, nor a finite one of kl_div at 0
    grad = [True, name not in ("soft_margin_loss", "multilabel_soft_margin_loss", "kl_div")
            or kw.get("log_target", False)]
    ours, theirs = _call(name, **kw)
    compare(torch, ours, theirs, [x, target], grad=grad)


@pytest.mark.parametrize("name", ["margin_ranking_loss", "hinge_embedding_loss",
                                  "cosine_embedding_loss", "triplet_margin_loss",
                                  "multi_margin_loss", "multilabel_margin_loss"])
@FAST
@given(data=st.data())
def test_margin_losses(name, data):
    rng = _rng(data)
    n, d = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    kw = dict(reduction=data.draw(REDUCTION))
    if name != "multilabel_margin_loss":
        kw["margin"] = data.draw(st.sampled_from([0.5, 1.0] if name == "triplet_margin_loss"
                                                 else [0.0, 0.5, 1.0]))
    sign = rng.choice([-1.0, 1.0], n)
    grad = True
    if name == "margin_ranking_loss":
        args = [rng.standard_normal(n), rng.standard_normal(n), sign]
    elif name == "hinge_embedding_loss":
        args = [rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], (n, d))]
    elif name == "cosine_embedding_loss":
        args = [rng.standard_normal((n, d)), rng.standard_normal((n, d)), sign]
    elif name == "triplet_margin_loss":
        kw.update(p=data.draw(st.sampled_from([1, 2, 3])), swap=data.draw(st.booleans()))
        args = [rng.standard_normal((n, d)) for _ in range(3)]
    elif name == "multi_margin_loss":
        kw["p"] = data.draw(st.sampled_from([1, 2]))
        weight = rng.uniform(0.5, 2, d) if data.draw(st.booleans()) else None
        args, grad = [rng.standard_normal((n, d)), rng.integers(0, d, n), None, weight], \
            [True, False, False, False]
    else:
        target = rng.integers(-1, d, (n, d))
        args = [rng.standard_normal((n, d)), target]
    ours, theirs = _call(name, **kw)
    # cosine's eps-regularised norms make it ill-conditioned for small vectors (d = 1)
    rtol = 1e-7 if name == "cosine_embedding_loss" else 1e-10
    compare(torch, ours, theirs, args, grad=grad, rtol=rtol)


@FAST
@given(data=st.data())
def test_ctc_loss(data):
    rng = _rng(data)
    t, n, c = data.draw(st.integers(2, 6)), data.draw(st.integers(1, 3)), data.draw(
        st.integers(2, 4))
    logp = np.log(rng.dirichlet(np.ones(c), size=(t, n)))
    s = data.draw(st.integers(1, 3))
    targets = rng.integers(1, c, (n, s))
    input_lengths = rng.integers(1, t + 1, n)
    target_lengths = rng.integers(0, s + 1, n)
    kw = dict(reduction=data.draw(REDUCTION), zero_infinity=data.draw(st.booleans()))
    # torch's ctc backward returns the gradient w.r.t. the logits of a log_softmax (its
    # documented input), so both take logits through log_softmax
    compare(torch, lambda x, *a: F.ctc_loss(F.log_softmax(x, -1), *a, **kw),
            lambda x, *a: TF.ctc_loss(TF.log_softmax(x, -1), *a, **kw),
            [logp, targets, input_lengths, target_lengths], rtol=1e-9)


def test_triplet_margin_loss_refuses_non_positive_margin():
    """PyTorch's triplet_margin_loss raises ValueError for margin <= 0 (as its
    with_distance twin, and tinygen's, do)."""
    a = np.ones((2, 3))
    for margin in (0.0, -1.0):
        with pytest.raises(ValueError):
            TF.triplet_margin_loss(*[torch.tensor(a)] * 3, margin=margin)
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            F.triplet_margin_loss(*[tg.tensor(a)] * 3, margin=margin)


def test_ctc_infinite_loss_has_nan_gradient():
    """Regression: without zero_infinity, PyTorch's gradient of a sample with no alignment is
    NaN over its input steps (0 after them); tinygen gave 0 everywhere."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 2, 3))
    compare(torch, lambda x, *a: F.ctc_loss(F.log_softmax(x, -1), *a, reduction="sum"),
            lambda x, *a: TF.ctc_loss(TF.log_softmax(x, -1), *a, reduction="sum"),
            [logits, np.array([[1, 1], [1, 2]]), np.array([2, 3]), np.array([2, 2])])
