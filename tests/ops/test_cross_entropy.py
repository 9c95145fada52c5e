"""cross_entropy and nll_loss: values against a NumPy reference and PyTorch (class weights,
ignore_index, label smoothing, N-d inputs, probability targets), gradients and second
derivatives against finite differences, stability at huge logits, and bad targets."""

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tests.helpers import host
from tinygen import kernels
from tinygen.autograd import gradcheck, gradgradcheck

REDUCTIONS = ["none", "mean", "sum"]


def t64(values, device="cpu", requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), device=device,
                     requires_grad=requires_grad)


def log_softmax_np(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def cross_entropy_np(a, t, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """PyTorch's definition, written out on (N, C, ...) logits and (N, ...) indices."""
    C = a.shape[1]
    log_p = np.moveaxis(log_softmax_np(a, 1), 1, -1)          # (N, ..., C)
    w = np.ones(C) if weight is None else weight
    kept = t != ignore_index
    safe = np.where(kept, t, 0)
    w_t = w[safe] * kept
    nll = -np.take_along_axis(log_p, safe[..., None], -1)[..., 0] * w_t
    smooth = -(log_p * w).sum(-1) * kept
    loss = (1 - smoothing) * nll + smoothing / C * smooth
    if reduction == "none":
        return loss
    return loss.sum() / (w_t.sum() if reduction == "mean" else 1.0)


CONFIGS = [  # input shape, class weights?, ignore_index, label_smoothing
    ((6, 5), False, -100, 0.0),
    ((6, 5), True, 2, 0.0),
    ((6, 5), False, 1, 0.2),
    ((6, 5), True, -100, 0.3),
    ((2, 4, 3, 2), False, 0, 0.0),
    ((2, 4, 3, 2), True, 1, 0.1),
]


def make_case(rng, shape, weighted, ignore_index, device="cpu"):
    a = rng.standard_normal(shape) * 2
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    if ignore_index >= 0:
        t.reshape(-1)[:2] = ignore_index
    w = rng.uniform(0.5, 2.0, shape[1]) if weighted else None
    return a, t, w


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, ignore_index, smoothing", CONFIGS)
def test_cross_entropy_values_and_grads(device, rng, reduction, shape, weighted, ignore_index,
                                        smoothing):
    a, t, w = make_case(rng, shape, weighted, ignore_index)
    x = t64(a, device, True)
    target = tg.tensor(t, device=device)
    weight = None if w is None else t64(w, device)

    def f(x):
        return F.cross_entropy(x, target, weight=weight, ignore_index=ignore_index,
                               reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(host(f(x)), cross_entropy_np(a, t, w, ignore_index, reduction,
                                                            smoothing), rtol=1e-10)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("mode", ["fused", "reference"])
def test_cross_entropy_kernel_modes_agree(rng, mode):
    a, t, _ = make_case(rng, (7, 4), False, 3)
    x = t64(a, requires_grad=True)
    with kernels.use(mode):
        F.cross_entropy(x, tg.tensor(t), ignore_index=3).backward()
    probs = np.exp(log_softmax_np(a, 1))
    onehot = np.eye(4)[t] * (t != 3)[:, None]
    np.testing.assert_allclose(host(x.grad), (probs - onehot) * (t != 3)[:, None] / (t != 3).sum(),
                               rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(device, rng, reduction):
    a, t, w = make_case(rng, (2, 4, 3), True, 1)
    log_p = log_softmax_np(a, 1)
    x = t64(log_p, device, True)

    def f(x):
        return F.nll_loss(x, tg.tensor(t, device=device), weight=t64(w, device), ignore_index=1,
                          reduction=reduction)
    np.testing.assert_allclose(host(f(x)), cross_entropy_np(a, t, w, 1, reduction), rtol=1e-10)
    assert gradcheck(f, (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_probability_targets(device, rng, reduction, smoothing, weighted):
    a = rng.standard_normal((3, 4, 2))
    q = rng.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1)   # sums to 1 over axis 1
    w = rng.uniform(0.5, 2, 4) if weighted else np.ones(4)
    x = t64(a, device, True)

    def f(x):
        return F.cross_entropy(x, t64(q, device), weight=t64(w, device) if weighted else None,
                               reduction=reduction, label_smoothing=smoothing)
    q_s = q * (1 - smoothing) + smoothing / 4
    loss = -(log_softmax_np(a, 1) * q_s * w[:, None]).sum(1)
    expected = {"none": loss, "sum": loss.sum(), "mean": loss.sum() / 6}[reduction]
    np.testing.assert_allclose(host(f(x)), expected, rtol=1e-10)
    assert gradcheck(f, (x,))


def test_unbatched_input(rng):
    a = rng.standard_normal(5)
    loss = F.cross_entropy(t64(a), tg.tensor(3), reduction="none")
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), -log_softmax_np(a, 0)[3], rtol=1e-12)
    nll = F.nll_loss(t64(log_softmax_np(a, 0)), tg.tensor(3))
    np.testing.assert_allclose(nll.item(), loss.item(), rtol=1e-12)


@pytest.mark.parametrize("loss_fn, options", [
    (F.cross_entropy, {}), (F.cross_entropy, {"label_smoothing": 0.1}),
    (F.cross_entropy, {"weight": tg.ones(4)}), (F.nll_loss, {}),
])
def test_every_target_ignored_gives_nan_and_a_zero_gradient_as_pytorch(loss_fn, options):
    """A batch of padding only: one optimizer step on a nan gradient would ruin every weight."""
    x = tg.randn(3, 4, requires_grad=True)
    loss = loss_fn(x, tg.tensor([-100, -100, -100]), **options)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(host(x.grad), np.zeros((3, 4)))
    assert F.cross_entropy(x, tg.tensor([-100, -100, -100]), reduction="sum").item() == 0


def test_stable_at_huge_logits():
    x = tg.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([1, 0]), reduction="none")
    np.testing.assert_allclose(host(loss), [2e4, 2e4 + np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(host(x.grad), [[1, -1, 0], [-1, 0.5, 0.5]], atol=1e-6)
    assert np.isfinite(host(x.grad)).all()


def test_bad_targets_are_clear_errors():
    x = tg.zeros(4, 3)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, tg.tensor([0, 1, 2, 3])).item()
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.nll_loss(x, tg.tensor([0, 1, 2, -1])).item()
    with pytest.raises(RuntimeError, match=r"expected integer class indices.*\.long\(\)"):
        F.cross_entropy(x, tg.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"batch_size \(4\) to match target batch_size \(5\)"):
        F.cross_entropy(x, tg.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, tg.tensor([0, 1, 2, 1]), weight=tg.ones(4))
    with pytest.raises(ValueError, match="label_smoothing must be between"):
        F.cross_entropy(x, tg.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, tg.zeros(4, 3), ignore_index=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, ignore_index, smoothing", CONFIGS)
def test_against_torch(rng, reduction, shape, weighted, ignore_index, smoothing):
    torch = pytest.importorskip("torch")
    a, t, w = make_case(rng, shape, weighted, ignore_index)
    a.reshape(-1)[:3] = [1e4, -1e4, 50.0]
    mine_x, theirs_x = t64(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    kwargs = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    mine = F.cross_entropy(mine_x, tg.tensor(t), weight=None if w is None else t64(w), **kwargs)
    theirs = torch.nn.functional.cross_entropy(
        theirs_x, torch.tensor(t), weight=None if w is None else torch.tensor(w), **kwargs)
    np.testing.assert_allclose(host(mine), theirs.detach().cpu().numpy(), rtol=1e-10)
    upstream = rng.standard_normal(theirs.shape)
    mine.backward(t64(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(host(mine_x.grad), theirs_x.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_probability_targets_against_torch(rng):
    torch = pytest.importorskip("torch")
    a, q = rng.standard_normal((5, 3)), rng.dirichlet(np.ones(3), size=5)
    w = rng.uniform(0.5, 2, 3)
    for reduction in REDUCTIONS:
        mine = F.cross_entropy(t64(a), t64(q), weight=t64(w), reduction=reduction,
                               label_smoothing=0.1)
        theirs = torch.nn.functional.cross_entropy(
            torch.tensor(a), torch.tensor(q), weight=torch.tensor(w), reduction=reduction,
            label_smoothing=0.1)
        np.testing.assert_allclose(host(mine), theirs.cpu().numpy(), rtol=1e-10)


@pytest.mark.parametrize("shape, weighted, ignore_index, smoothing", CONFIGS[:2] + CONFIGS[4:5])
def test_create_graph_gradient_equals_fused(rng, shape, weighted, ignore_index, smoothing):
    """Under create_graph the backward switches from the kernel's gradient to tensor ops;
    gradgradcheck alone would not notice a wrong switch."""
    a, t, w = make_case(rng, shape, weighted, ignore_index)
    x = t64(a, requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor(t), weight=None if w is None else t64(w),
                           ignore_index=ignore_index, reduction="none")
    upstream = t64(rng.standard_normal(loss.shape))
    (fused,) = tg.autograd.grad([loss], [x], [upstream], retain_graph=True)
    (composite,) = tg.autograd.grad([loss], [x], [upstream], create_graph=True)
    assert composite.requires_grad
    np.testing.assert_allclose(host(composite), host(fused), rtol=1e-12, atol=1e-15)


def test_integer_input_is_not_implemented_as_in_torch():
    logits, target = tg.tensor([[1, 2, 3], [4, 5, 6]]), tg.tensor([0, 2])
    for loss_fn in (F.cross_entropy, F.nll_loss):
        with pytest.raises(NotImplementedError, match=r"not implemented for int64.*\.float\(\)"):
            loss_fn(logits, target)


@pytest.mark.parametrize("mode", ["fused", "reference"])
def test_float16_is_computed_in_float32(rng, mode, device):
    """As PyTorch: half logits give half losses and gradients, computed in float32 and rounded
    once, so each per-row loss is the float32 loss rounded to float16."""
    a = (rng.standard_normal((6, 50)) * 4).astype(np.float16)
    t = tg.tensor(rng.integers(0, 50, 6), device=device)
    x16 = tg.tensor(a, device=device, requires_grad=True)
    x32 = tg.tensor(a.astype(np.float32), device=device, requires_grad=True)
    with kernels.use(mode):
        loss16, loss32 = F.cross_entropy(x16, t, reduction="none"), F.cross_entropy(x32, t,
                                                                                  reduction="none")
        upstream = rng.uniform(0.5, 1.5, 6)
        loss16.backward(tg.tensor(upstream.astype(np.float16), device=device))
        loss32.backward(tg.tensor(upstream.astype(np.float32), device=device))
    assert loss16.dtype == x16.grad.dtype == tg.float16
    np.testing.assert_array_equal(host(loss16), host(loss32).astype(np.float16))
    np.testing.assert_allclose(host(loss16), cross_entropy_np(a.astype(np.float64), host(t),
                                                              reduction="none"), rtol=1e-3)
    np.testing.assert_allclose(host(x16.grad), host(x32.grad), rtol=2e-3, atol=1e-4)


def test_float16_against_torch(rng):
    torch = pytest.importorskip("torch")
    a = (rng.standard_normal((8, 30)) * 4).astype(np.float16)
    t = rng.integers(0, 30, 8)
    mine_x, theirs_x = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    mine = F.cross_entropy(mine_x, tg.tensor(t), reduction="none")
    theirs = torch.nn.functional.cross_entropy(theirs_x, torch.tensor(t), reduction="none")
    np.testing.assert_array_equal(host(mine), theirs.detach().numpy())
    mine.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(host(mine_x.grad), theirs_x.grad.numpy(), rtol=2e-3, atol=1e-4)
