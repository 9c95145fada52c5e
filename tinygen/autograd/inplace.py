"""In-place ops (``x.add_(y)``, ``x[i] = v``, ``x.zero_()``) and the version counters behind them.

An in-place op computes its result out of place, writes it into the tensor's own array (so views
of that array see the change) and bumps the version counter the tensor shares with its views.
A node that saved the tensor for backward compares versions when it unpacks it, so a change
made after saving is reported instead of silently giving a wrong gradient.

While recording, the tensor takes the new op's place in the graph, as in PyTorch. Two cases are
refused, as PyTorch does: a leaf that requires grad (its ``.grad`` would be for a value that no
longer exists) and a view of another tensor (the base's graph would not see the change).
"""

import numpy as np

from tinygen.autograd.grad_mode import no_grad, state


def modify(tensor, name, op, *args):
    """Make ``op(tensor, *args)`` the new value of ``tensor``, in place."""
    recording = state.grad_enabled and (tensor.requires_grad or any(
        isinstance(a, Tensor) and a.requires_grad for a in args))
    if not recording:
        with no_grad():
            return _write(tensor, op(tensor, *args), name)
    _refuse_while_recording(tensor, name)
    # The op sees a snapshot of the old value, so the nodes it records keep the old value
    # even after the write below changes this tensor's array.
    old_node, old_index = tensor.grad_fn, tensor._output_nr
    before = Tensor._from_op(tensor.array.copy(), old_node, old_index)
    before.requires_grad = tensor.requires_grad
    result = op(before, *args)
    _write(tensor, result, name)
    tensor.grad_fn, tensor._output_nr = result.grad_fn, result._output_nr
    tensor.requires_grad = result.requires_grad
    _move_retain_grad(tensor, old_node, old_index)
    return tensor


def _move_retain_grad(tensor, node, index):
    """retain_grad() follows the tensor to the op that made its new value, as in PyTorch; the
    tensor's other hooks stay with the old value."""
    hooks = None if node is None or node.output_hooks is None else node.output_hooks.get(index)
    for hook in [hook for hook in hooks or () if getattr(hook, "runs_last", False)]:
        hooks.remove(hook)
        tensor.register_hook(hook)


def overwrite(tensor, value, name):
    """Set every element of ``tensor`` to ``value`` (an array or a number), in place."""
    if state.grad_enabled:
        _refuse_while_recording(tensor, name)
    tensor.array[...] = value
    tensor._shared_version()[0] += 1
    if state.grad_enabled and tensor.grad_fn is not None:
        tensor.grad_fn, tensor.requires_grad = None, False  # the old graph no longer applies
    return tensor


def _refuse_while_recording(tensor, name):
    if tensor.grad_fn is None and tensor.requires_grad:
        raise RuntimeError(f"a leaf tensor that requires grad is used in the in-place "
                           f"operation {name}; do it under `with tg.no_grad():` or use the "
                           f"out-of-place form")
    if tensor._is_view:
        raise RuntimeError(f"in-place operation {name} on a view of another tensor while "
                           f"recording gradients is not supported; use the out-of-place form "
                           f"or .clone() the view first")


def _write(tensor, result, name):
    """Copy ``result`` (computed out of place) into ``tensor``'s array and bump its version."""
    if result.dtype != tensor.dtype and not np.can_cast(result.dtype, tensor.dtype,
                                                        "same_kind"):
        raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired "
                           f"output type {tensor.dtype}")
    if result.shape != tensor.shape:
        raise RuntimeError(f"{name}: output with shape {tuple(tensor.shape)} doesn't match the "
                           f"broadcast shape {tuple(result.shape)}")
    tensor.array[...] = result.array
    tensor._shared_version()[0] += 1
    return tensor


from tinygen.tensor import Tensor  # noqa: E402  (tensor.py imports this module at its end)
