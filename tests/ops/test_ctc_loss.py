"""ctc_loss: a brute-force sum over every alignment, the impossible-alignment cases, first and
second derivatives, argument errors, and values and gradients against PyTorch."""

import itertools

import numpy as np
import pytest

import tinygen as tg
import tinygen.nn.functional as F
from tinygen import nn
from tinygen.autograd import gradcheck, gradgradcheck


def log_softmax_np(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def random_log_probs(rng, t, n, c):
    return log_softmax_np(rng.standard_normal((t, n, c)))


def brute_force_nll(log_probs, target, blank=0):
    """-log of the summed probability of every path (T frames over C classes) that collapses
    (merge repeats, drop blanks) to ``target``."""
    t, c = log_probs.shape
    total = 0.0
    for path in itertools.product(range(c), repeat=t):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != blank] == list(target):
            total += np.exp(sum(log_probs[i, k] for i, k in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize("target", [[1], [1, 2], [2, 2], [1, 1, 2], []])
def test_matches_brute_force_sum_over_alignments(target):
    lp = random_log_probs(np.random.default_rng(len(target)), 4, 1, 3)
    got = F.ctc_loss(tg.tensor(lp), tg.tensor(np.array([target + [0] * (3 - len(target))])),
                     [4], [len(target)], reduction="none")
    np.testing.assert_allclose(got.numpy(), [brute_force_nll(lp[:, 0], target)], rtol=1e-10)


def test_blank_other_than_zero_and_unbatched_input():
    lp = random_log_probs(np.random.default_rng(1), 4, 1, 3)[:, 0]
    got = F.ctc_loss(tg.tensor(lp), tg.tensor([0, 1]), 4, 2, blank=2, reduction="sum")
    assert got.shape == ()
    np.testing.assert_allclose(got.item(), brute_force_nll(lp, [0, 1], blank=2), rtol=1e-10)


def test_reductions_and_concatenated_targets_agree_with_padded():
    rng = np.random.default_rng(2)
    lp = tg.tensor(random_log_probs(rng, 6, 3, 4))
    padded = np.array([[1, 2, 3], [3, 0, 0], [2, 2, 0]])
    lengths = np.array([3, 1, 2])
    per = F.ctc_loss(lp, tg.tensor(padded), [6, 5, 4], lengths, reduction="none").numpy()
    flat = tg.tensor(np.array([1, 2, 3, 3, 2, 2]))
    np.testing.assert_allclose(F.ctc_loss(lp, flat, [6, 5, 4], lengths, reduction="none")
                               .numpy(), per)
    np.testing.assert_allclose(nn.CTCLoss(reduction="sum")(lp, flat, [6, 5, 4], lengths)
                               .item(), per.sum())
    np.testing.assert_allclose(nn.CTCLoss()(lp, flat, [6, 5, 4], lengths).item(),
                               (per / lengths).mean())


def test_impossible_alignment_is_inf_or_zero_with_zero_infinity():
    lp = tg.tensor(random_log_probs(np.random.default_rng(3), 3, 2, 3), requires_grad=True)
    targets = tg.tensor(np.array([[1, 1], [1, 2]]))      # [1, 1] needs 3 frames, has 2
    loss = F.ctc_loss(lp, targets, [2, 2], [2, 2], reduction="none").detach().numpy()
    assert np.isinf(loss[0]) and np.isfinite(loss[1])
    loss = F.ctc_loss(lp, targets, [2, 2], [2, 2], reduction="sum", zero_infinity=True)
    loss.backward()
    assert np.all(lp.grad.numpy()[:, 0] == 0) and np.all(np.isfinite(lp.grad.numpy()))
    assert np.any(lp.grad.numpy()[:, 1] != 0)


def test_empty_input_and_target_has_zero_loss():
    lp = tg.tensor(random_log_probs(np.random.default_rng(4), 2, 2, 3))
    loss = F.ctc_loss(lp, tg.tensor(np.array([[1], [1]])), [0, 2], [0, 1], reduction="none")
    assert loss.numpy()[0] == 0 and loss.numpy()[1] > 0


def test_first_and_second_derivatives_float64():
    rng = np.random.default_rng(5)
    x = tg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    targets = tg.tensor(np.array([[1, 1], [2, 0]]))

    def fn(x):
        return F.ctc_loss(F.log_softmax(x, -1), targets, [4, 3], [2, 1])
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_bad_arguments_raise():
    lp = tg.tensor(random_log_probs(np.random.default_rng(6), 3, 2, 3))
    targets = tg.tensor(np.array([[1], [2]]))
    with pytest.raises(RuntimeError, match="exceeds the input's length"):
        F.ctc_loss(lp, targets, [4, 3], [1, 1])
    with pytest.raises(RuntimeError, match="blank must be in"):
        F.ctc_loss(lp, targets, [3, 3], [1, 1], blank=3)
    with pytest.raises(RuntimeError, match="2 entries"):
        F.ctc_loss(lp, targets, [3], [1, 1])
    with pytest.raises(RuntimeError, match="sum to"):
        F.ctc_loss(lp, tg.tensor([1, 2, 1]), [3, 3], [1, 1])
    with pytest.raises(RuntimeError, match="integers"):
        F.ctc_loss(lp, tg.tensor([[1.0], [2.0]]), [3, 3], [1, 1])
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, targets, [3, 3], [1, 1], reduction="avg")


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_values_and_gradients_against_torch(reduction, zero_infinity):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((7, 4, 5))
    targets = np.array([[1, 1, 2, 4], [3, 3, 3, 0], [4, 2, 0, 0], [2, 2, 1, 1]])
    input_lengths, target_lengths = [7, 6, 3, 4], [4, 3, 1, 4]     # the last is impossible
    if reduction != "none" and not zero_infinity:
        input_lengths[3] = 7
    xt = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.ctc_loss(
        xt.log_softmax(-1), torch.tensor(targets), torch.tensor(input_lengths),
        torch.tensor(target_lengths), reduction=reduction, zero_infinity=zero_infinity)
    xg = tg.tensor(x, requires_grad=True)
    got = nn.CTCLoss(reduction=reduction, zero_infinity=zero_infinity)(
        F.log_softmax(xg, -1), tg.tensor(targets), tg.tensor(input_lengths),
        tg.tensor(target_lengths))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)
    if reduction != "none":
        want.backward()
        got.backward()
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)
