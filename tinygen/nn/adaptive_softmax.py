"""Less common layers with structure of their own: ``AdaptiveLogSoftmaxWithLoss`` (large
vocabularies), ``CTCLoss`` (unaligned sequences, the module over ``F.ctc_loss``) and
``FractionalMaxPool2d`` (the module over ``F.fractional_max_pool2d``).

Adaptive softmax (Grave et al. 2017, "Efficient softmax approximation for GPUs") splits the
classes at ``cutoffs``: a head scores the frequent classes [0, cutoffs[0]) plus one entry per
tail cluster, and cluster i scores its own classes through a low-rank projection of width
in_features // div_value ** (i + 1). log p(class) = log p_head(class) for a head class, else
log p_head(cluster) + log p_cluster(class). Parameter names and the forward's rules follow
PyTorch's module, so a state dict loads either way.
"""

from collections import namedtuple

from tinygen.backend import get_array_module
from tinygen.nn.containers import ModuleList, Sequential
from tinygen.nn.linear import Linear
from tinygen.nn.module import Module
from tinygen.ops.ctc_loss import ctc_loss
from tinygen.ops.fractional_pool import fractional_max_pool2d
from tinygen.ops.index_ops import index_add
from tinygen.ops.indexing import gather
from tinygen.ops.reduce import log_softmax
from tinygen.ops.shape import cat
from tinygen.tensor import Tensor

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class CTCLoss(Module):
    """Connectionist temporal classification loss (see ``F.ctc_loss``)."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        self.blank = blank
        self.reduction = reduction
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)


class FractionalMaxPool2d(Module):
    """Fractional max pooling to ``output_size``, or to ``output_ratio`` (in (0, 1)) of the
    input's size; ``_random_samples`` (N, C, 2) fixes the pseudo-random windows."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        pair = _pair_or_none                   # stored as pairs, as PyTorch does
        self.kernel_size = pair(kernel_size)
        self.output_size = pair(output_size)
        self.output_ratio = pair(output_ratio)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        if output_size is None and output_ratio is None:
            raise ValueError("FractionalMaxPool2d requires specifying either an output size, "
                             "or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if output_ratio is not None:
            ratios = (output_ratio,) * 2 if isinstance(output_ratio, (int, float)) else output_ratio
            if not all(0 < r < 1 for r in ratios):
                raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return fractional_max_pool2d(input, self.kernel_size, self.output_size,
                                     self.output_ratio, self.return_indices,
                                     self._random_samples)


def _pair_or_none(value):
    """None, or ``value`` as a 2-tuple (a scalar is repeated)."""
    if value is None:
        return None
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _check_cutoffs(cutoffs, n_classes):
    if len(cutoffs) == 0:
        raise ValueError("cutoffs should be a sequence of length larger than 0")
    if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
        raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in "
                         "an increasing order, where each value is between 1 and n_classes-1")


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax; ``forward(input, target)`` gives ``(output, loss)``: each row's log
    probability of its target, and the mean negative of those."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        _check_cutoffs(cutoffs, n_classes)
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        kw = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **kw),
                                        Linear(hidden, size, bias=False, **kw)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input, target):
        if target.ndim == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {tuple(input.shape)}")
        elif target.ndim == 0:
            if input.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {tuple(input.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target.ndim > 0
        if not batched:
            input, target = input.unsqueeze(0), target.reshape(1)
        labels = target.array
        xp = get_array_module(labels)
        head_index = xp.where(labels < self.shortlist_size, labels, 0)
        output = None
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            rows = xp.nonzero((labels >= low) & (labels < high))[0]
            head_index[rows] = self.shortlist_size + i
            if rows.size == 0:
                continue
            cluster = log_softmax(self.tail[i](input[rows]), 1)
            local = gather(cluster, 1, (labels[rows] - low)[:, None])[:, 0]
            placed = index_add(input.new_zeros(labels.shape[0]), 0, Tensor(rows), local)
            output = placed if output is None else output + placed
        if ((labels < 0) | (labels >= self.n_classes)).any():
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{labels.min()}, {labels.max()}] were found. ")
        head = log_softmax(self.head(input), 1)
        picked = gather(head, 1, head_index[:, None])[:, 0]
        output = picked if output is None else picked + output
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, input):
        head = log_softmax(self.head(input), 1)
        parts = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = log_softmax(self.tail[i](input), 1)
            parts.append(cluster + head[:, self.shortlist_size + i:self.shortlist_size + i + 1])
        return cat(parts, 1)

    def log_prob(self, input):
        """Log probabilities of every class: (N, n_classes), or (n_classes,) for 1-D input."""
        self._check_features(input, "log_prob")
        if input.ndim == 1:
            return self._full_log_prob(input.unsqueeze(0)).squeeze(0)
        return self._full_log_prob(input)

    def predict(self, input):
        """The most likely class of each row (the same as ``log_prob(input).argmax(1)``)."""
        return self.log_prob(input).argmax(-1)

    def _check_features(self, input, name):
        if input.ndim not in (1, 2) or input.shape[-1] != self.in_features:
            raise RuntimeError(f"{name}: expected input of shape (N, {self.in_features}) or "
                               f"({self.in_features},), got {tuple(input.shape)}")
