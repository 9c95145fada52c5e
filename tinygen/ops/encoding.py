"""``one_hot``: class indices to one-hot rows of int64, with PyTorch's errors."""

from tinygen import device_checks, dtypes
from tinygen.backend import get_array_module
from tinygen.tensor import Tensor


def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape ``tensor.shape + (num_classes,)`` holding 1 at each index.
    ``num_classes=-1`` takes one more than the largest index (a device-to-host read on a GPU,
    as in PyTorch)."""
    if tensor.dtype != dtypes.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                           f"(int64), got {tensor.dtype}.")
    x = tensor.array
    xp = get_array_module(x)
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    if x.size:
        device_checks.check(x.min() < 0, lambda: RuntimeError(
            "Class values must be non-negative."), op="one_hot")
        device_checks.check(x.max() >= num_classes, lambda: RuntimeError(
            f"Class values must be smaller than num_classes ({num_classes})."), op="one_hot")
    elif num_classes < 0:
        raise RuntimeError(f"one_hot: num_classes must be -1 or non-negative, got {num_classes}")
    return Tensor((x[..., None] == xp.arange(num_classes)).astype(xp.int64))
