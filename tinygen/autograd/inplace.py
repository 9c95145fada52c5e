"""In-place ops (``x.add_(y)``, ``x[i] = v``, ``x.zero_()``) and the version counters behind them.

An in-place op computes its result out of place, writes it into the tensor's own array (so views
of that array see the change) and bumps the version counter the tensor shares with its views.
A node that saved the tensor for backward compares versions when it unpacks it, so a change
made after saving is reported instead of silently giving a wrong gradient.

While recording, the tensor takes the new op's place in the graph, as in PyTorch. A view takes
its base along: for ``v = h[0]``, ``v.mul_(3)`` is at the graph level the out-of-place
``h = CopySlices(h, positions of v in h, h[0] * 3)`` (PyTorch's name), after which ``v`` is
re-derived from the new ``h`` (``AsStrided``). So gradients reach what ``h`` was computed from
through the changed elements and the untouched rest alike. Every other view of ``h`` sees the
change in the version counter it shares, and is re-derived from ``h`` when next used
(``refresh_view``).

Refused, as in PyTorch: an in-place op on a leaf that requires grad or on a view of one (the
leaf's ``.grad`` would be for a value that no longer exists); and, while recording, one on a view
made under no_grad (whether its base's graph should see the change is ambiguous) or by an op
with a backward of its own (a custom Function: replaying the change on the base would bypass it).
"""

import numpy as np

from tinygen.autograd import function
from tinygen.autograd.function import memory_owner
from tinygen.autograd.grad_mode import enable_grad, no_grad, state
from tinygen.backend import get_array_module


def modify(tensor, name, op, *args):
    """Make ``op(tensor, *args)`` the new value of ``tensor``, in place."""
    if function._forward_ad is not None:
        _refuse_dual(tensor, args, name)
    if not _recording(tensor, args):
        with no_grad():
            return _write(tensor, op(tensor, *args), name)
    _refuse_while_recording(tensor, name)
    # The op sees a snapshot of the old value, so the nodes it records keep the old value
    # even after the write below changes this tensor's array.
    before = Tensor._from_op(tensor.array.copy(), tensor.grad_fn, tensor._output_nr)
    before.requires_grad = tensor.requires_grad
    result = op(before, *args)
    _write(tensor, result, name)
    _tie_saved_output(tensor, result)
    base = _base_of(tensor)
    if base is None:
        _take_place(tensor, result)
        return tensor
    positions = ops.indexing.view_positions(base.array, tensor.array)
    _take_place(base, ops.indexing.CopySlices.apply(base, positions, result))
    _take_place(tensor, ops.indexing.AsStrided.apply(base, positions))
    tensor._view_version = tensor._version_box[0]
    return tensor


def overwrite(tensor, value, name):
    """Set every element of ``tensor`` to ``value`` (a number, an array of its shape or a 0-d
    tensor), in place. Recorded, the old value gets gradient zero and a ``value`` that requires
    grad the sum of the gradient, as in PyTorch."""
    if function._forward_ad is not None:
        _refuse_dual(tensor, (value,), name)
    if _recording(tensor, (value,)):
        return modify(tensor, name, _filled, value)
    if tensor.array.size:           # an empty expanded view is read-only, with nothing to write
        _writeable(tensor.array)[...] = value.array if isinstance(value, Tensor) else value
    tensor._shared_version()[0] += 1
    return tensor


def _refuse_dual(tensor, args, name):
    """Inside a forward AD level, refuse an in-place op that involves a dual tensor: tinygen's
    forward AD does not carry tangents through in-place ops, and the result would silently
    lose its tangent."""
    from tinygen.autograd import forward_ad         # loaded already: a level is live
    if any(isinstance(t, Tensor) and forward_ad.tangent_of(t) is not None
           for t in (tensor, *args)):
        raise RuntimeError(f"{name}: an in-place op on or with a dual tensor inside "
                           f"forward_ad.dual_level(); tinygen's forward AD does not follow "
                           f"in-place ops: use the out-of-place op (x = x + y, not x += y)")


def _writeable(array):
    """``array``, or where it is a read-only NumPy broadcast (an expanded view, one element at
    several places), a writeable view of the same memory: filling it with one value is well
    defined, and PyTorch allows it."""
    if not isinstance(array, np.ndarray) or array.flags.writeable or not any(
            s == 0 and n > 1 for s, n in zip(array.strides, array.shape)):
        return array
    owner = memory_owner(array)
    if not isinstance(owner, np.ndarray) or not owner.flags.writeable:
        return array
    return ops.shape.strided_view(array, array.shape, array.strides)


def _filled(tensor, value):
    """``value`` in ``tensor``'s shape and in the graph: where(True, value, tensor)."""
    everywhere = Tensor(get_array_module(tensor.array).ones((1,) * tensor.ndim, dtype=bool))
    if not isinstance(value, (Tensor, int, float)):
        value = Tensor(value)
    return ops.where(everywhere, value, tensor)


def refresh_view(view):
    """Re-derive ``view`` from its base after the memory they share was changed in place: its
    node described the old base (PyTorch regenerates a view's grad_fn the same way)."""
    base = _base_of(view)
    view._view_version = view._version_box[0]
    if base is not None and view._view_grad_mode and base.requires_grad:
        with enable_grad():
            positions = ops.indexing.view_positions(base.array, view.array)
            _take_place(view, ops.indexing.AsStrided.apply(base, positions))


def _base_of(view):
    """``view._base``, unless the two no longer share memory (``.data = ...`` gave one new
    memory): then ``view`` is a view no more."""
    base = view._base
    if base is not None and memory_owner(base.array) is not memory_owner(view.array):
        view._base = base = None
    return base


def _recording(tensor, args):
    """Whether the in-place op joins the graph: grad mode is on and the tensor, its base or an
    argument requires grad."""
    base = tensor._base
    return state.grad_enabled and (
        tensor.requires_grad or base is not None and base.requires_grad
        or any(isinstance(a, Tensor) and a.requires_grad for a in args))


def _take_place(tensor, result):
    """``tensor`` becomes ``result`` in the graph (its array stays its own)."""
    old_node, old_index = tensor._grad_fn, tensor._output_nr
    tensor._grad_fn, tensor._output_nr = result._grad_fn, result._output_nr
    tensor.requires_grad = result.requires_grad
    _move_retain_grad(tensor, old_node, old_index)


def _move_retain_grad(tensor, node, index):
    """retain_grad() follows the tensor to the op that made its new value, as in PyTorch; the
    tensor's other hooks stay with the old value."""
    hooks = None if node is None or node.output_hooks is None else node.output_hooks.get(index)
    for hook in [hook for hook in hooks or () if getattr(hook, "runs_last", False)]:
        hooks.remove(hook)
        tensor.register_hook(hook)


def _refuse_while_recording(tensor, name):
    base, node = tensor._base, tensor.grad_fn
    hint = f"({name}: do it under `with tg.no_grad():` or use the out-of-place form)"
    leaf = tensor.requires_grad and node is None
    if base is None and leaf:
        raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place "
                           f"operation. {hint}")
    if base is not None and (leaf or base.requires_grad and base.grad_fn is None):
        raise RuntimeError(f"a view of a leaf Variable that requires grad is being used in an "
                           f"in-place operation. {hint}")
    if base is not None and not tensor._view_grad_mode:
        raise RuntimeError(f"A view was created in no_grad mode and is being modified inplace "
                           f"with grad mode enabled ({name}). Given that this use case is "
                           f"ambiguous and error-prone, it is forbidden. Make the view and "
                           f"change it both inside the no_grad block or both outside.")
    if node is not None and node.fn.is_view and not node.fn.is_plain_view:
        raise RuntimeError(f"Output {tensor._output_nr} of {node.name()} is a view and is being "
                           f"modified inplace ({name}). This view was created inside a custom "
                           f"Function and the autograd logic to handle view+inplace would "
                           f"override its custom backward, leading to incorrect gradients. "
                           f"This behavior is forbidden. You can fix this by cloning the "
                           f"output of the custom Function.")


def _tie_saved_output(tensor, result):
    """An op that saved its output (``tanh_``, ``sigmoid_``, ``exp_``) saved ``result``, whose
    value now lives in ``tensor``: a later change to ``tensor`` must make backward refuse, as in
    PyTorch, so the saved entry takes ``tensor``'s version counter."""
    node, box = result._grad_fn, result._version_box
    if node is None or box is None or not isinstance(node.saved, list):
        return
    shared = tensor._shared_version()
    node.saved = [(kind, item, shared, shared[0]) if entry_box is box
                  else (kind, item, entry_box, version)
                  for kind, item, entry_box, version in node.saved]


def _write(tensor, result, name):
    """Copy ``result`` (computed out of place) into ``tensor``'s array and bump its version."""
    if result.dtype != tensor.dtype and not np.can_cast(result.dtype, tensor.dtype,
                                                        "same_kind"):
        raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired "
                           f"output type {tensor.dtype}")
    if result.shape != tensor.shape:
        raise RuntimeError(f"{name}: output with shape {tuple(tensor.shape)} doesn't match the "
                           f"broadcast shape {tuple(result.shape)}")
    if tensor.array.size and not getattr(getattr(tensor.array, "flags", None), "writeable",
                                         True):
        raise RuntimeError(f"{name}: unsupported operation: more than one element of the "
                           f"written-to tensor (shape {tuple(tensor.shape)}) refers to a single "
                           f"memory location (an expanded view?). Please clone() the tensor "
                           f"before performing the operation.")
    if tensor.array.size:           # an empty expanded view is read-only, with nothing to write
        tensor.array[...] = result.array
    tensor._shared_version()[0] += 1
    return tensor


from tinygen import ops  # noqa: E402  (ops, tensor.py and function.py import this module)
from tinygen.tensor import Tensor  # noqa: E402
