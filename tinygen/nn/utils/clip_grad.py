"""Gradient clipping, as PyTorch's ``nn.utils.clip_grad_norm_`` and its relatives.

Clipping works on the ``.grad`` of each parameter in place, outside the graph. The total norm
of many gradients is the norm of their norms: ||concat(g_1, ..., g_n)||_p = ||(||g_1||_p, ...,
||g_n||_p)||_p for every p > 0 (and for p = inf, a max of maxes).
"""

import math

import numpy as np

from tinygen import ops
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend import get_array_module, to_device
from tinygen.tensor import Tensor


def _tensors(parameters):
    """A list of tensors from one tensor or an iterable of them."""
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated (a 0-d Tensor on
    the first tensor's device; 0 when there are none). ``foreach`` is accepted and ignored."""
    tensors = _tensors(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    first = tensors[0]
    xp = get_array_module(first.array)
    norms = [to_device(_norm(t.array, norm_type), first.device) for t in tensors]
    total = xp.linalg.norm(xp.stack(norms), ord=norm_type)
    total = total.astype(first.dtype if first.is_floating_point() else "float32")
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False`")
    return Tensor(xp.asarray(total))


def _norm(array, norm_type):
    """The norm of ``array`` flattened, as a 0-d array on the array's own device."""
    xp = get_array_module(array)
    return xp.asarray(xp.linalg.norm(array.reshape(-1), ord=norm_type))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place. The factor is
    worked out on the norm's device, as PyTorch does: reading the norm on the host would stall
    a GPU step. A NaN norm makes every gradient NaN."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    if not isinstance(total_norm, Tensor):
        total_norm = Tensor(to_device(np.asarray(total_norm, grads[0].dtype), grads[0].device))
    with no_grad():
        coef = ops.clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for grad in grads:
            grad.mul_(coef.to(grad.device))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescale the gradients of ``parameters`` so that their total ``norm_type``-norm is at
    most ``max_norm`` (``inf`` for the max norm). Returns the total norm before clipping.

    With ``error_if_nonfinite=True`` a NaN or infinite total norm raises instead of turning
    every gradient into NaN.
    """
    parameters = _tensors(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for param in _tensors(parameters):
            if param.grad is not None:
                param.grad.clamp_(-clip_value, clip_value)
