"""``tg.Size``: the type of ``x.shape`` and ``x.size()``, as ``torch.Size``.

A tuple of ints (so ``x.shape == (2, 3)``, unpacking and NumPy calls work unchanged) that prints
as ``tinygen.Size([2, 3])``, counts its elements with ``numel()``, and stays a Size through
slicing, ``+`` and ``*``, as PyTorch's does.
"""

import math
import operator


class Size(tuple):
    """An immutable shape: ``Size([2, 3])``; ``Size()`` is the shape of a 0-dim tensor."""

    def __new__(cls, sizes=()):
        return super().__new__(cls, (_as_int(i, size) for i, size in enumerate(sizes)))

    @classmethod
    def of(cls, shape):
        """The Size of an array's shape, which holds ints already: no checks."""
        return tuple.__new__(cls, shape)

    def numel(self):
        """The number of elements a tensor of this shape holds (1 for ``Size([])``)."""
        return math.prod(self)

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other)) if isinstance(other, tuple) else NotImplemented

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, times):
        return Size(tuple(self) * times)

    __rmul__ = __mul__

    def __repr__(self):
        return f"tinygen.Size({list(self)})"

    __str__ = __repr__

    def __reduce__(self):
        return Size, (tuple(self),)


def _as_int(position, size):
    """``size`` as a Python int; anything but an integer (or a 0-dim integer tensor) is refused
    with PyTorch's message."""
    try:
        return operator.index(size)
    except TypeError:
        raise TypeError(f"tinygen.Size() takes an iterable of 'int' (item {position} is "
                        f"'{type(size).__name__}')") from None
