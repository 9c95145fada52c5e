"""Loss modules: thin Modules over the functional losses (``tinygen/ops/loss.py`` and
``ops/cross_entropy.py``), with PyTorch's constructor arguments. Class and element weights
(``weight``, ``pos_weight``) are buffers, so they follow ``.to(device)`` and appear in
``state_dict`` as in PyTorch.

    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    loss = criterion(logits, labels)

The Gaussian KL term of a VAE is the function ``F.gaussian_kl(mu, logvar)``: it has no options
worth a module.
"""

from tinygen.nn.module import Module
from tinygen.ops.cross_entropy import cross_entropy, nll_loss
from tinygen.ops.loss import (
    REDUCTIONS, binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, l1_loss,
    legacy_reduction, mse_loss)


class _Loss(Module):
    """Holds ``reduction``, taken from PyTorch's deprecated (size_average, reduce) when given."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", allowed=REDUCTIONS):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction, allowed)

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` tensor, kept as a buffer."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error: mean((input - target)^2)."""

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: mean(|input - target|)."""

    def forward(self, input, target):
        return l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities in [0, 1] (logs clamped at -100)."""

    def forward(self, input, target):
        return binary_cross_entropy(input, target, weight=self.weight,
                                    reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits, stable for any logit; ``pos_weight`` weighs positives."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities (the output of log_softmax)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits against class indices or class probabilities."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class KLDivLoss(_Loss):
    """KL divergence of a target distribution from the model's log-probabilities ``input``;
    use reduction='batchmean' for the true KL (PyTorch's 'mean' divides by every element)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction, REDUCTIONS + ("batchmean",))
        self.log_target = log_target

    def forward(self, input, target):
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
