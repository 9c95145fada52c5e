"""All parameters as one vector and back, as PyTorch's ``parameters_to_vector`` and
``vector_to_parameters``."""

from tinygen import ops
from tinygen.nn.utils.clip_grad import _tensors
from tinygen.tensor import Tensor


def parameters_to_vector(parameters):
    """All ``parameters`` flattened and concatenated into one 1-D tensor (differentiable)."""
    parameters = _tensors(parameters)
    _check_one_device(parameters)
    return ops.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (each one's ``.data``
    then shares ``vec``'s memory, as in PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    parameters = _tensors(parameters)
    _check_one_device(parameters + [vec])
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} should be "
                           f"1-D with {total} elements, the number in the parameters")
    start = 0
    for param in parameters:
        n = param.numel()
        param.data = vec.array[start:start + n].reshape(param.shape)
        start += n


def _check_one_device(tensors):
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise TypeError(f"Found two parameters on different devices, this is currently not "
                        f"supported: {sorted(str(d) for d in devices)}")
