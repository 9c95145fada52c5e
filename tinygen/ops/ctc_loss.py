"""Connectionist temporal classification loss: ``F.ctc_loss`` (``nn.CTCLoss``).

The loss is -log p(l | x), summed over every alignment of the target l to the T input frames,
computed with the forward (alpha) recursion of Graves et al. 2006, "Connectionist Temporal
Classification", eq. 6-8, in log space. The target is extended with blanks, l' = (b, l1, b, l2,
..., b), |l'| = 2|l| + 1, and

    alpha_1(s) = y_1(l'_s)                                  for s = 1, 2;  0 otherwise (eq. 6)
    alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)]) y_t(l'_s)     (eq. 7)
    p(l | x) = alpha_T(|l'|) + alpha_T(|l'| - 1)                                         (eq. 8)

where the bracketed term counts only when l'_s is a label different from l'_{s-2}. Each step is
a logsumexp over three shifted copies of the previous alpha, for the whole batch and every s at
once; only time is a Python loop. The recursion is built from differentiable ops, so backward
(and second derivatives) come from autograd instead of a hand-written alpha-beta pass.

"log 0" is the finite NEG rather than -inf, so the gradients of unreachable states are 0 and
never inf * 0 = nan. Whether any alignment exists depends only on the lengths: T must cover the
labels plus one blank between each pair of equal neighbours. Losses without one are inf, their
gradient NaN over the sample's input steps (or 0 with ``zero_infinity``, their gradient 0), as in
PyTorch.
"""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.compare import where
from tinygen.ops.indexing import gather
from tinygen.ops.pad import pad
from tinygen.ops.reduce import logsumexp
from tinygen.ops.shape import stack
from tinygen.tensor import Tensor

NEG = -1e30      # log 0, kept finite so autograd never multiplies inf by 0


def _host_ints(x, name):
    """Lengths or targets as a host int64 array (from a Tensor, a list, a number or an array)."""
    if isinstance(x, Tensor):
        x = x.array
    if hasattr(x, "get"):                     # a CuPy array
        x = x.get()
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: {name} must be integers, got dtype {x.dtype}")
    return x.astype(np.int64)


def _padded_targets(targets, target_lengths, batch):
    """Targets as a (N, S) array, from the padded (N, S) form or the concatenated 1-D one."""
    if targets.ndim == 2:
        if targets.shape[0] != batch:
            raise RuntimeError(f"ctc_loss: targets of shape {targets.shape} do not match the "
                               f"batch size {batch}")
        if target_lengths.size and target_lengths.max() > targets.shape[1]:
            raise RuntimeError(f"ctc_loss: a target length {target_lengths.max()} exceeds the "
                               f"padded targets' length {targets.shape[1]}")
        return targets
    if targets.ndim != 1:
        raise RuntimeError(f"ctc_loss: targets must be 1-D (concatenated) or 2-D (N, S), got "
                           f"shape {targets.shape}")
    if target_lengths.sum() != targets.shape[0]:
        raise RuntimeError(f"ctc_loss: concatenated targets have {targets.shape[0]} labels but "
                           f"target_lengths sum to {target_lengths.sum()}")
    out = np.zeros((batch, max(int(target_lengths.max(initial=0)), 1)), np.int64)
    starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
    for n, (start, length) in enumerate(zip(starts, target_lengths)):
        out[n, :length] = targets[start:start + length]
    return out


def _extended(targets, target_lengths, blank):
    """l' per sample, (N, 2S + 1), blanks beyond each length; and where the skip s-2 -> s is
    allowed (s a label position whose label differs from the one two back)."""
    batch, s = targets.shape
    ext = np.full((batch, 2 * s + 1), blank, np.int64)
    ext[:, 1::2] = np.where(np.arange(s) < target_lengths[:, None], targets, blank)
    skip = np.zeros(ext.shape, bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    return ext, skip


def _feasible(targets, input_lengths, target_lengths):
    """Whether some alignment exists: T >= |l| + number of equal neighbours in l."""
    repeats = np.zeros(len(targets), np.int64)
    for n, length in enumerate(target_lengths):
        l_n = targets[n, :length]
        repeats[n] = int(np.sum(l_n[1:] == l_n[:-1]))
    return input_lengths >= target_lengths + repeats


def _check(log_probs, input_lengths, target_lengths, blank, batch):
    t_max, n_classes = log_probs.shape[0], log_probs.shape[-1]
    if not 0 <= blank < n_classes:
        raise RuntimeError(f"ctc_loss: blank must be in the label range [0, {n_classes}), got "
                           f"{blank}")
    for name, lengths in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if lengths.shape != (batch,):
            raise RuntimeError(f"ctc_loss: {name} must have {batch} entries (the batch size), "
                               f"got shape {lengths.shape}")
        if (lengths < 0).any():
            raise RuntimeError(f"ctc_loss: {name} must be non-negative, got {lengths.tolist()}")
    if (input_lengths > t_max).any():
        raise RuntimeError(f"ctc_loss: an input length ({input_lengths.max()}) exceeds the "
                           f"input's length T = {t_max}")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of ``log_probs`` (T, N, C) or unbatched (T, C), log-softmax outputs, against
    ``targets``: padded (N, S) or all concatenated 1-D; ``input_lengths`` and
    ``target_lengths`` give each sample's lengths. 'mean' divides each loss by its target length
    (at least 1) and averages over the batch, as PyTorch does."""
    if not isinstance(log_probs, Tensor) or log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be a (T, N, C) or (T, C) tensor, got "
                           f"{getattr(log_probs, 'shape', type(log_probs).__name__)}")
    if log_probs.dtype.kind != "f":
        raise RuntimeError(f"ctc_loss: log_probs must be floating point, got {log_probs.dtype}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    targets = _host_ints(targets, "targets")
    input_lengths = _host_ints(input_lengths, "input_lengths").reshape(-1)
    target_lengths = _host_ints(target_lengths, "target_lengths").reshape(-1)
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.reshape(1, -1)
    batch = log_probs.shape[1]
    _check(log_probs, input_lengths, target_lengths, blank, batch)
    targets = _padded_targets(targets, target_lengths, batch)
    loss = _forward_loss(log_probs, targets, input_lengths, target_lengths, blank)
    xp = get_array_module(log_probs.array)
    bad = xp.asarray(~_feasible(targets, input_lengths, target_lengths))
    if not zero_infinity and bad.any():
        loss = loss + InfeasibleGrad.apply(log_probs, _infeasible_mask(xp, log_probs, bad,
                                                                        input_lengths))
    loss = where(Tensor(bad), 0.0 if zero_infinity else float("inf"), loss)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    divisor = xp.asarray(np.maximum(target_lengths, 1), log_probs.dtype)
    return (loss / Tensor(divisor)).mean()


class InfeasibleGrad(ArrayFunction):
    """Adds 0 to each sample's loss; backward gives PyTorch's gradient of an infinite loss:
    NaN at every (t < input length, class) of the samples ``mask`` marks NaN, 0 elsewhere."""
    @staticmethod
    def forward(ctx, log_probs, mask):
        ctx.mask = mask
        return get_array_module(log_probs).zeros(log_probs.shape[1], log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(1, -1, 1) * Tensor(ctx.mask), None


def _infeasible_mask(xp, log_probs, bad, input_lengths):
    """(T, N, C): NaN over the input steps of the samples without an alignment, else 0."""
    steps = xp.arange(log_probs.shape[0])[:, None] < xp.asarray(input_lengths)[None, :]
    nan = xp.where(steps & bad[None, :], xp.nan, 0.0).astype(log_probs.dtype)
    return xp.broadcast_to(nan[:, :, None], log_probs.shape).copy()


def _forward_loss(log_probs, targets, input_lengths, target_lengths, blank):
    """-log p(l | x) per sample by the alpha recursion (eq. 6-8), shape (N,)."""
    xp = get_array_module(log_probs.array)
    t_max, batch, _ = log_probs.shape
    ext, skip = _extended(targets, target_lengths, blank)
    width = ext.shape[1]
    index = xp.broadcast_to(xp.asarray(ext)[None], (t_max, batch, width))
    lp = gather(log_probs, 2, index)                            # y_t(l'_s): (T, N, 2S + 1)
    lp = where(lp > NEG, lp, NEG)                               # log 0 inputs stay finite
    skip = Tensor(xp.asarray(skip))
    start = Tensor(xp.asarray(np.arange(width) < 2))
    alpha = where(start, lp[0], NEG)                            # eq. 6
    for t in range(1, t_max):
        stay = alpha
        step = pad(alpha, (1, 0), value=NEG)[:, :-1]
        jump = where(skip, pad(alpha, (2, 0), value=NEG)[:, :-2], NEG)
        new = logsumexp(stack([stay, step, jump], -1), -1) + lp[t]    # eq. 7
        running = Tensor(xp.asarray((t < input_lengths)[:, None]))
        alpha = where(running, new, alpha)                      # frozen after each length
    last = 2 * target_lengths                                   # 0-based |l'| - 1
    rows, last_idx = xp.arange(batch), xp.asarray(last)
    ends = stack([alpha[rows, last_idx], alpha[rows, xp.maximum(last_idx - 1, 0)]], -1)
    ends = where(Tensor(xp.asarray(np.stack([last >= 0, last >= 1], -1))), ends, NEG)
    loss = -logsumexp(ends, -1)                                 # eq. 8
    return where(Tensor(xp.asarray((input_lengths == 0) & (target_lengths == 0))), 0.0, loss)
