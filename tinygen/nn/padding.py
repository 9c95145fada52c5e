"""Padding layers, ``F.pad`` as modules: ``ZeroPad1d/2d/3d``, ``ConstantPad1d/2d/3d``,
``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d`` and ``CircularPad1d/2d/3d``.

``padding`` is an int (the same width on every side) or F.pad's (left, right[, top, bottom[,
front, back]]);
it is kept as that full tuple, as PyTorch keeps it, so reprs match.
"""

from tinygen.nn.module import Module
from tinygen.ops.pad import pad


class _PadNd(Module):
    """Pads the last ``dims`` dims with F.pad's ``mode``."""

    dims = 2
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        sides = 2 * self.dims
        padding = (padding,) * sides if isinstance(padding, int) else tuple(padding)
        if len(padding) != sides or not all(isinstance(p, int) for p in padding):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"{sides} ints, got {padding!r}")
        self.padding = padding

    def forward(self, input):
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with a constant ``value``."""

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: padding (left, right)."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims with ``value``: padding (left, right, top, bottom)."""


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims with ``value``: padding (left, right, top, bottom, front,
    back)."""
    dims = 3


class _ZeroPad:
    """Constant padding with value 0 (mixed in before ConstantPad1d/2d/3d)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pads the last dim with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pads the last two dims with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pads the last three dims with zeros."""


class ReflectionPad1d(_PadNd):
    """Mirrors the last dim about its edges (the edge value not repeated)."""
    dims, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirrors the last two dims about their edges (the edge values not repeated)."""
    mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Repeats the edge values of the last dim."""
    dims, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeats the edge values of the last two dims."""
    mode = "replicate"


class _CircularPadNd(_PadNd):
    """Periodic padding; as in PyTorch the module (unlike F.pad) takes only inputs of
    ``dims + 1`` (unbatched) or ``dims + 2`` dims."""

    mode = "circular"

    def forward(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input "
                             f"(got {input.ndim}D input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Wraps the last dim around (periodic padding)."""
    dims = 1


class CircularPad2d(_CircularPadNd):
    """Wraps the last two dims around (periodic padding)."""


class ReflectionPad3d(_PadNd):
    """Mirrors the last three dims about their edges (the edge values not repeated)."""
    dims, mode = 3, "reflect"


class ReplicationPad3d(_PadNd):
    """Repeats the edge values of the last three dims."""
    dims, mode = 3, "replicate"


class CircularPad3d(_CircularPadNd):
    """Wraps the last three dims around (periodic padding)."""
    dims = 3
