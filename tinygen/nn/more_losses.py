"""The class-index margin losses as layers: ``MultiMarginLoss``, ``MultiLabelMarginLoss`` and
``TripletMarginWithDistanceLoss``, each holding its options and calling the functional form in
``tinygen/ops/margin_loss.py`` (the other losses are in ``loss.py``)."""

from tinygen.nn.distance import PairwiseDistance
from tinygen.nn.loss import _Loss, _WeightedLoss
from tinygen.ops.margin_loss import (
    multi_margin_loss, multilabel_margin_loss, triplet_margin_with_distance_loss)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.ndim}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """The multi-label hinge loss; each target row lists class ids, ended by the first -1."""

    def forward(self, input, target):
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """max(0, d(anchor, positive) - d(anchor, negative) + margin) for any ``distance_function``
    (default: the Euclidean ``pairwise_distance``)."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        # As in PyTorch, the default is a PairwiseDistance submodule (it shows in the repr).
        self.distance_function = (PairwiseDistance() if distance_function is None
                                  else distance_function)
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)
