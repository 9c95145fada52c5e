"""``Dropout``: inverted dropout while training (see ops/dropout.py), the identity in eval."""

from tinygen.nn.module import Module
from tinygen.ops.dropout import _check_probability, dropout


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the survivors by
    1 / (1 - p); pass the input through unchanged in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_probability(p)
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
