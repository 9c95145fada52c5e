"""``tinygen.autograd.graph``, as ``torch.autograd.graph``: hooks on what the graph saves, and
the Node API of ``grad_fn`` objects.

Saved-tensor hooks. Inside ``saved_tensors_hooks(pack, unpack)`` every tensor a recorded op
saves for backward goes through ``pack`` when it is saved, and what ``pack`` returned (anything)
is kept instead of the tensor; backward gets ``unpack(packed)`` back. This is how activations
can be offloaded (``save_on_cpu``), compressed, or dropped and recomputed (non-reentrant
``tinygen.utils.checkpoint``). The unpacked tensor is linked to the graph where the saved one
was, so ``create_graph=True`` still works through it.

Node API. Each ``grad_fn`` has ``name()``, ``next_functions`` (where each tensor input's
gradient goes: a node, an ``AccumulateGrad`` for a leaf, or None), a ``metadata`` dict, and
``register_prehook(fn(grad_outputs))`` / ``register_hook(fn(grad_inputs, grad_outputs))``.
A node's hooks cost nothing to nodes without any: registering one swaps the node's Function
for a subclass whose backward runs them around the original.
"""

import abc
import collections
import contextlib
import threading

from tinygen.autograd import function
from tinygen.autograd.function import (
    _SAVED_INPUT, _SAVED_OUTPUT, _SAVED_PACKED, ArrayFunction)
from tinygen.autograd.grad_mode import no_grad, state

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "increment_version", "register_multi_grad_hook"]

_ALWAYS_UNPACK = [object()]     # a version box no saved version equals: sends it to _unpack
_OUT, _NODE, _LEAF = 0, 1, 2    # how an unpacked tensor is linked to the graph again
# What a packed entry keeps of the tensor; first in it, so that readers of entries (viz) that
# take item[0].shape, as for a saved output's (array, index), see the saved shape.
_Meta = collections.namedtuple("_Meta", "shape dtype")
_lock = threading.Lock()


class _PerThread(threading.local):
    """As in PyTorch, hooks apply to the thread that opened their block."""
    def __init__(self):
        self.hooks = []                 # (pack, unpack) of the open saved_tensors_hooks blocks
        self.disabled = []              # messages of the open disable_saved_tensors_hooks


_this_thread = _PerThread()


# Saved-tensor hooks

class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor)`` runs on each tensor an op saves for backward (its
    result is kept instead), ``unpack_hook(packed)`` when backward reads it, and must return a
    tensor of the saved one's shape and dtype. Blocks nest; the innermost pair applies."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _this_thread.disabled:
            raise RuntimeError(_this_thread.disabled[-1])
        _this_thread.hooks.append((self.pack_hook, self.unpack_hook))
        with _lock:
            function._saved_hooks_open += 1
        return self

    def __exit__(self, *exc):
        _this_thread.hooks.pop()
        with _lock:
            function._saved_hooks_open -= 1


class save_on_cpu(saved_tensors_hooks):
    """Keep saved tensors in host memory: a CuPy array is copied to the host when saved and
    back to its device when backward needs it. CPU tensors are kept as they are (PyTorch copies
    them), and an in-place change to one before backward is an error, never silently used.
    ``pin_memory`` and ``device_type`` are accepted for PyTorch's signature."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(_pack_on_cpu, _unpack_from_cpu)


def _pack_on_cpu(tensor):
    if tensor.device.type == "cpu":
        box = tensor._shared_version()
        return None, tensor, box, box[0]
    return tensor.device, tensor.to("cpu"), None, None


def _unpack_from_cpu(packed):
    device, tensor, box, version = packed
    if device is not None:
        return tensor.to(device)
    if box[0] != version:
        raise RuntimeError(f"one of the tensors needed for gradient computation has been "
                           f"modified by an in-place operation: a tensor of shape "
                           f"{tuple(tensor.shape)} saved under save_on_cpu has version {box[0]}, "
                           f"expected version {version}")
    return tensor


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside the block, using saved-tensor hooks (entering ``saved_tensors_hooks``) raises
    ``RuntimeError(error_message)``; so does entering it while hooks are in use."""
    if _this_thread.hooks:
        raise RuntimeError(error_message)
    _this_thread.disabled.append(error_message)
    try:
        yield
    finally:
        _this_thread.disabled.pop()


def pack_saved(node, results):
    """Run the pack hook on each tensor ``node`` saved (``function._link`` calls this while a
    hook block is open); keep what it returns, with what unpacking needs to relink the tensor."""
    if not _this_thread.hooks:
        return                          # the open blocks are other threads'
    pack, unpack = _this_thread.hooks[-1]
    saved = node.saved
    with no_grad():                     # the hook's own ops are no part of the graph
        for i, (kind, item, _, _) in enumerate(saved):
            if kind == _SAVED_OUTPUT:
                tensor, link = results[item[1]], (_OUT, item[1])
            elif isinstance(item, Tensor):
                tensor = item
                link = _link_of(item) if kind == _SAVED_INPUT else None
            else:
                continue                # None, numbers: no tensor to pack
            meta = _Meta(tensor.array.shape, tensor.array.dtype)
            saved[i] = (_SAVED_PACKED, (meta, pack(tensor), unpack, link), _ALWAYS_UNPACK, None)


def _link_of(tensor):
    if tensor._grad_fn is not None:
        return (_NODE, tensor._grad_fn, tensor._output_nr)
    return (_LEAF, tensor) if tensor.requires_grad else None


def unpack_saved(node, record):
    """The tensor backward sees for a packed entry: ``unpack(packed)``, checked, and linked to
    the graph as the saved tensor was."""
    (shape, dtype), packed, unpack, link = record
    t = unpack(packed)
    if not isinstance(t, Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {type(t).__name__}")
    if t.array.shape != shape or t.array.dtype != dtype:
        raise RuntimeError(f"saved tensor unpack_hook of {node.name()} returned a tensor of "
                           f"shape {tuple(t.shape)} and dtype {t.dtype}, but the saved tensor "
                           f"had shape {tuple(shape)} and dtype {dtype}")
    if link is None:
        return t if t._grad_fn is None and not t.requires_grad else Tensor._wrap(t.array)
    if link[0] == _OUT:
        return Tensor._from_op(t.array, node, link[1])
    if link[0] == _NODE:
        if t._grad_fn is link[1] and t._output_nr == link[2]:
            return t
        return Tensor._from_op(t.array, link[1], link[2])
    leaf = link[1]
    if t is leaf:
        return t
    return _LinkedTo.apply(leaf, t) if state.grad_enabled else Tensor._wrap(t.array)


class _LinkedTo(ArrayFunction):
    """y = values of ``array``, its gradient sent to ``leaf``: an unpacked copy of a saved leaf,
    for backward passes that are recorded (create_graph)."""
    @staticmethod
    def forward(ctx, leaf, array):
        return array

    @staticmethod
    def backward(ctx, grad):
        return grad, None


# The Node API

class Node(abc.ABC):
    """Base class of the graph's nodes, for ``isinstance(t.grad_fn, Node)``."""

    @abc.abstractmethod
    def name(self):
        """The node's name, e.g. ``'MulBackward'``."""

    @property
    @abc.abstractmethod
    def next_functions(self):
        """``(node or None, output index)`` for each tensor input."""


Node.register(function.Node)


class AccumulateGrad(Node):
    """Where a leaf's gradient goes: ``next_functions`` shows one per leaf input."""

    def __init__(self, variable):
        self.variable = variable
        self.metadata = {}

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)

    def register_hook(self, fn):
        raise NotImplementedError("AccumulateGrad.register_hook: use the leaf's register_hook "
                                  "or register_post_accumulate_grad_hook")

    register_prehook = register_hook


def next_functions(node):
    """``node.next_functions``: one entry per tensor argument (others are left out)."""
    entries = []
    for edge, meta in zip(node.next_edges, node.input_meta):
        if meta is None:
            continue
        if edge is None:
            entries.append((None, 0))
        elif type(edge[0]) is function.Node:
            entries.append(edge)
        else:
            entries.append((AccumulateGrad(edge[0]), 0))
    return tuple(entries)


def add_node_hook(node, hook, kind):
    """Register ``hook`` as ``kind`` ('_prehooks' or '_posthooks') of ``node``."""
    hooks = node.__dict__.setdefault(kind, [])
    hooks.append(hook)
    if not getattr(node.fn, "_runs_node_hooks", False):
        node.fn = _hooked(node.fn)
    return _HookHandle(hooks, hook)


_hooked_classes = {}


def _hooked(fn):
    """``fn`` with a backward that runs the node's hooks around ``fn.backward``."""
    cls = _hooked_classes.get(fn)
    if cls is None:
        def backward(ctx, *grad_outputs):
            return _backward_with_hooks(fn, ctx, grad_outputs)
        cls = type(fn.__name__, (fn,), {"backward": staticmethod(backward),
                                        "_runs_node_hooks": True, "__module__": fn.__module__})
        _hooked_classes[fn] = cls
    return cls


def _backward_with_hooks(fn, ctx, grad_outputs):
    for hook in ctx.__dict__.get("_prehooks", ()):
        result = hook(tuple(grad_outputs))
        if result is not None:
            grad_outputs = _same_length(result, grad_outputs, "prehook")
    grad_inputs = fn.backward(ctx, *grad_outputs)
    posthooks = ctx.__dict__.get("_posthooks")
    if not posthooks:
        return grad_inputs
    from tinygen.autograd.engine import _fit_to_input
    grad_inputs = grad_inputs if type(grad_inputs) is tuple else (grad_inputs,)
    n = len(ctx.next_edges)
    positions = [i for i in range(n) if ctx.input_meta[i] is not None]
    shown = tuple([_fit_to_input(ctx, i, grad_inputs[i]) if i < len(grad_inputs) and
                   grad_inputs[i] is not None and ctx.next_edges[i] is not None else None
                   for i in positions])
    for hook in posthooks:
        result = hook(shown, tuple(grad_outputs))
        if result is not None:
            shown = _same_length(result, shown, "hook")
    full = [None] * n
    for i, g in zip(positions, shown):
        full[i] = g
    return tuple(full)


def _same_length(result, previous, kind):
    result = tuple(result)
    if len(result) != len(previous):
        raise RuntimeError(f"{kind} returned {len(result)} gradients, expected "
                           f"{len(previous)}")
    return result


def increment_version(tensor):
    """Mark ``tensor`` (or each tensor of an iterable) as changed in place, as an op that writes
    it behind autograd's back should: backward then refuses stale saved copies of it."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._shared_version()[0] += 1


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once per backward pass that reaches ``tensors``. ``mode="all"``: when the
    pass ends, with the gradient of each tensor (None for those it gave none); PyTorch calls it
    as soon as the last of them is computed, with the same gradients. ``mode="any"``: with the
    first of their gradients computed. Returns a handle whose ``remove()`` unregisters it."""
    if mode not in ("all", "any"):
        raise ValueError(f"register_multi_grad_hook: expected mode 'all' or 'any', got {mode!r}")
    from tinygen.autograd import engine
    tensors = tuple(tensors)
    current = {"pass": None, "grads": None}

    def hook_for(i):
        def hook(grad):
            run = engine.current_pass()
            if current["pass"] is not run:                  # the first gradient of this pass
                current["pass"], current["grads"] = run, [None] * len(tensors)
                if mode == "any":
                    fn(grad)
                else:
                    grads = current["grads"]
                    engine.queue_callback(lambda: fn(tuple(grads)))
            current["grads"][i] = grad
        return hook

    return _Handles([t.register_hook(hook_for(i)) for i, t in enumerate(tensors)
                     if t.requires_grad])


class _Handles:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for handle in self.handles:
            handle.remove()


from tinygen.tensor import Tensor, _HookHandle  # noqa: E402
