"""``Parameter``: the tensor a ``Module`` registers as one of its learned weights."""

import numpy as np

from tinygen import dtypes
from tinygen.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a ``Module`` registers as one of its parameters (requires grad).

    ``Parameter(t)`` shares ``t``'s array, as in PyTorch; ``Parameter()`` is an empty one.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), dtypes.get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __format__(self, spec):
        """Always the repr, 0-d too (PyTorch formats only plain 0-d tensors as numbers)."""
        return object.__format__(self, spec)

    def __deepcopy__(self, memo):
        copy = Parameter(self.array.copy(), self.requires_grad)
        if self.grad is not None:
            copy.grad = Tensor(self.grad.array.copy())
        memo[id(self)] = copy
        return copy
