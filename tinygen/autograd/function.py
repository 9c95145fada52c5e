"""``Function``: one differentiable op, and ``Node``: the record it leaves in the graph.

A Function's ``forward(ctx, *args)`` computes the op's outputs from its inputs; its
``backward(ctx, *grad_outputs)`` sees Tensors and returns Tensors, one per forward argument.
Backward is written in tensor ops, so with ``create_graph=True`` it records itself, and
gradients can be differentiated again.

``Function.apply`` runs forward and, when some input requires grad, links a ``Node`` (also the
``ctx``) into the graph: each node knows the nodes (or leaf tensors) its inputs came from.

Adding an op takes one class, written as in PyTorch::

    class Cube(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):               # x: the input Tensor (nothing inside is recorded)
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_y):         # grad_y: Tensor
            (x,) = ctx.saved_tensors       # x comes back as the input Tensor
            return grad_y * 3 * x ** 2

    y = Cube.apply(x)

tinygen's own ops subclass ``ArrayFunction`` instead, whose forward sees the raw arrays (NumPy
or CuPy) and returns arrays, with no Tensor made for anything inside: the place for fused
kernels. Your op may do the same, for speed.

Save forward's inputs and outputs with ``save_for_backward``: they come back as Tensors linked
to the graph (through the pack and unpack functions of ``tg.autograd.graph.saved_tensors_hooks``
where those are open). Anything else saved is a constant to backward: right for masks, wrong
for second derivatives of anything computed from the inputs.

The rest of PyTorch's ``ctx`` works too: ``ctx.mark_non_differentiable(indices)`` for outputs
that are no function of the inputs' values, ``ctx.set_materialize_grads(False)``, and the
``once_differentiable`` decorator for a backward that cannot be differentiated. Keyword arguments
of ``apply`` fill forward's parameters by name, in order, as in PyTorch
(``Scale.apply(x, factor=2.0)``).
"""

import functools
import inspect
import os
import traceback

import numpy as np

from tinygen import errors
from tinygen.autograd.grad_mode import no_grad, state
from tinygen.backend import get_array_module

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (or to use tensors saved by {op} after "
    "they were freed). Saved tensors are freed after backward() to save memory; pass "
    "retain_graph=True to the first backward() or grad() call if you need to backward twice.")

_SAVED_INPUT, _SAVED_OUTPUT, _SAVED_CONSTANT, _SAVED_PACKED = 0, 1, 2, 3

_profiler = None            # the running tg.autograd.profile(), set by autograd/profiler.py
_saved_hooks_open = 0       # saved_tensors_hooks blocks open in any thread (graph.py)
_scope = ()                 # the open nn.Module calls, set by autograd/scope.py
_complex_seen = False       # set by note_complex() once any complex tensor was made
_forward_ad = None          # forward_ad.apply while a dual level is live (forward_ad.py)


class Node:
    """The context of one op call and its node in the backward graph.

    Attributes the engine reads: ``fn`` (the Function class), ``next_edges`` (for each forward
    argument, ``(node_or_leaf_tensor, output_index)`` or None), ``input_meta`` (shape and dtype of
    each tensor argument), ``n_outputs`` and, for ops with several outputs, ``output_meta`` and
    ``materialize_grads``.
    """

    __slots__ = ("fn", "needs_input_grad", "next_edges", "input_meta", "n_outputs", "saved",
                 "to_save", "__dict__")    # __dict__ (made only when used) for ctx.anything = ...

    # Rarely set, so class-level defaults: an instance overrides them in its __dict__.
    output_meta = None                     # shapes and dtypes, for ops with several outputs
    output_hooks = None                    # {output index: [hook, ...]} from register_hook
    creation_site = None                   # "file:line: code", recorded in anomaly mode
    materialize_grads = True               # False: backward gets None for an unused output
    non_differentiable = ()                # forward's outputs marked so, until they are linked
    scope = None                           # the nn.Module calls it ran in (autograd/scope.py)

    def __init__(self, fn, needs_input_grad):
        self.fn = fn
        self.needs_input_grad = needs_input_grad
        self.to_save = ()
        self.saved = None                  # a list of entries; _FREED after release()

    def __repr__(self):
        return f"<{self.name()} node>"

    def name(self):
        return self.fn.__name__ + "Backward"

    def save_for_backward(self, *items):
        """Keep arrays (or Tensors) for backward; inputs and outputs come back in the graph."""
        self.to_save = items

    def mark_non_differentiable(self, *outputs):
        """Forward's outputs (arrays) that are no function of the inputs' values, such as the
        indices of a sort: they do not require grad, and backward gets zeros for them."""
        self.non_differentiable = outputs

    def set_materialize_grads(self, value):
        """With False, backward gets None instead of zeros for an output that received no
        gradient (it may then skip work, and must handle None)."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """The saved items as Tensors, after checking none was changed in place since saving."""
        if self.saved is None:
            return ()
        if self.saved is _FREED:
            raise RuntimeError(FREED_GRAPH_MESSAGE.format(op=self.name()))
        return tuple([entry[1] if entry[0] != _SAVED_OUTPUT and (
                          entry[2] is None or entry[2][0] == entry[3])   # unchanged: as saved
                      else self._unpack(i, entry) for i, entry in enumerate(self.saved)])

    def _unpack(self, position, entry):
        kind, item, version_box, version = entry
        if kind == _SAVED_PACKED:                       # went through a saved-tensor hook
            return graph.unpack_saved(self, item)
        if version_box is not None and version_box[0] != version:
            where = f" (created at {self.creation_site})" if self.creation_site else ""
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified by an "
                f"in-place operation: saved tensor {position} of {self.name()}{where} has "
                f"version {version_box[0]}, expected version {version}. Use an out-of-place op "
                f"(e.g. x = x + y instead of x += y) or .clone() the tensor before changing it.")
        array, index = item                # an output: linked to this node again
        return Tensor._from_op(array, self, index, version_box)

    # The Node API of torch.autograd.graph (autograd/graph.py)

    @property
    def next_functions(self):
        """``(node or AccumulateGrad or None, output index)`` for each tensor argument."""
        return graph.next_functions(self)

    @property
    def metadata(self):
        """A dict for your own notes about this node."""
        return self.__dict__.setdefault("_metadata", {})

    def register_prehook(self, hook):
        """Call ``hook(grad_outputs)`` before this node's backward; a returned tuple replaces
        the gradients. Returns a handle whose ``remove()`` unregisters it."""
        return graph.add_node_hook(self, hook, "_prehooks")

    def register_hook(self, hook):
        """Call ``hook(grad_inputs, grad_outputs)`` after this node's backward (one gradient
        per tensor argument); a returned tuple replaces ``grad_inputs``."""
        return graph.add_node_hook(self, hook, "_posthooks")

    def release(self):
        """Drop what was saved for backward; a later backward through this node is an error."""
        if self.saved is not None:
            self.saved = _FREED


_FREED = object()                        # what `saved` becomes once released


class Function:
    """Base class of differentiable ops: subclass it with static ``forward`` and ``backward``.
    forward gets the input Tensors, as in PyTorch (``ArrayFunction``'s gets their arrays)."""

    forward_takes_arrays = False
    is_view = False                # outputs share memory and version counter with input 0
    # ... and are plain windows onto it (reshape, x[1:]): an in-place change to one, recorded,
    # is replayed on input 0 (autograd/inplace.py). Recording one on the views of any other
    # op, which has a backward of its own, is refused, as in PyTorch.
    is_plain_view = False
    # backward follows PyTorch's convention for complex inputs (conj(f'(z)) * grad); ops
    # without it refuse to record a graph through a complex input (ops/complex_support.py)
    supports_complex = False

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the arrays of ``args``; record a node when some input requires grad."""
        if _forward_ad is not None:                 # hook: inside forward_ad.dual_level()
            return _forward_ad(cls, args, kwargs)   # hook: the op, then its tangents
        if kwargs:
            args = _bind_keywords(cls, args, kwargs)
        if _profiler is not None:                   # hook: inside tg.autograd.profile()
            return _profiler.forward(cls, args)     # hook: timed, then run as below
        arrays = []
        record = False
        first = None
        for arg in args:
            if isinstance(arg, Tensor):
                if arg._base is not None and arg._view_version != arg._version_box[0]:
                    refresh_view(arg)               # its memory was changed in place since
                array = arg.array
                if first is None:
                    first, array_type = arg, type(array)
                elif type(array) is not array_type or (
                        array_type is not np.ndarray and arg.device != first.device):
                    _raise_device_mismatch(cls, first, arg)
                if arg.requires_grad:
                    record = True
                arrays.append(array)
            else:
                arrays.append(arg)
        if record and state.grad_enabled:
            if _complex_seen and not cls.supports_complex:
                _refuse_complex(cls, arrays)
            needs, edges, meta = _edges_and_meta(args)
            ctx = Node(cls, tuple(needs))
            ctx.next_edges, ctx.input_meta = edges, meta
            if _scope:                              # hook: inside an nn.Module call (for viz)
                ctx.scope = _scope                  # hook
        else:
            record = False
            n = len(args)
            ctx = Node(cls, _NO_GRADS[n] if n < len(_NO_GRADS) else (False,) * n)
        try:
            outputs = (cls.forward(ctx, *arrays) if cls.forward_takes_arrays
                       else _forward_on_tensors(cls, ctx, args))
        except (IndexError, ValueError, TypeError) as error:      # name the op and the shapes
            shapes = [tuple(a.shape) for a in args if isinstance(a, Tensor)]
            clash = "broadcast" in str(error) and errors.broadcast_error(cls.__name__, shapes)
            raise clash or errors.reraised(error, f"{cls.__name__}: {error} (input shapes: "
                                                  f"{', '.join(map(str, shapes))})") from error
        if not record and type(outputs) is np.ndarray:
            result = Tensor._wrap(outputs)                        # the fast, common case
            if cls.is_view:
                _mark_view(cls, result, args[0])
            return result
        multiple = type(outputs) is tuple
        raw_outputs = outputs if multiple else (outputs,)
        outputs = raw_outputs if type(outputs) is np.ndarray else tuple(map(_as_array,
                                                                            raw_outputs))
        if record:
            if state.anomaly_enabled:               # so that backward's errors can name it
                ctx.creation_site = _user_call_site()
            results = _link(cls, ctx, args, outputs, raw_outputs)
        else:
            results = tuple(map(Tensor._wrap, outputs))
            if cls.is_view:
                for result in results:
                    _mark_view(cls, result, args[0])
        return results if multiple else results[0]


_NO_GRADS = [(False,) * n for n in range(8)]


class ArrayFunction(Function):
    """A Function whose forward sees the arrays (numpy or cupy) of its Tensor arguments and
    returns arrays: how tinygen's own ops are written, with no Tensor made inside forward."""

    forward_takes_arrays = True


def _forward_on_tensors(cls, ctx, args):
    """PyTorch's way: forward gets the input Tensors themselves and records nothing (its ops
    are this op); the Tensors it returns become the outputs."""
    enabled, state.grad_enabled = state.grad_enabled, False
    try:
        return cls.forward(ctx, *args)
    finally:
        state.grad_enabled = enabled


def _bind_keywords(cls, args, kwargs):
    """``args`` with the keyword arguments of ``apply`` placed as PyTorch places them: each at
    its forward parameter's position, so it is an input like the others (a Tensor there can get
    a gradient, and backward returns a gradient for it)."""
    bound = inspect.signature(cls.forward).bind(None, *args, **kwargs)    # None: the ctx
    if bound.kwargs:
        raise TypeError(f"{cls.__name__}.apply: cannot pass {', '.join(bound.kwargs)} by "
                        f"keyword without every parameter of forward before it (as in "
                        f"PyTorch, keywords fill forward's parameters in order)")
    return bound.args[1:]


def _edges_and_meta(args):
    """For each argument: whether it needs a gradient, where that gradient goes (the node that
    made the argument, the argument itself if it is a leaf, or None), and the shape and dtype
    the gradient must have."""
    needs, edges, meta = [], [], []
    for arg in args:
        if isinstance(arg, Tensor):
            needs.append(arg.requires_grad)
            meta.append((arg.array.shape, arg.array.dtype))
            if arg._grad_fn is not None:
                edges.append((arg._grad_fn, arg._output_nr))
            else:
                edges.append((arg, 0) if arg.requires_grad else None)
        else:
            needs.append(False)
            meta.append(None)
            edges.append(None)
    return needs, edges, meta


def _link(cls, ctx, args, outputs, raw_outputs):
    """Wire ``ctx``'s outputs into the graph and resolve what forward saved."""
    ctx.n_outputs = len(outputs)
    if cls.is_view:
        results = tuple([Tensor._from_op(out, ctx, i) for i, out in enumerate(outputs)])
        for result in results:
            _mark_view(cls, result, args[0])
    elif len(outputs) == 1:
        results = (Tensor._from_op(outputs[0], ctx, 0),)
    else:
        results = tuple([Tensor._from_op(out, ctx, i) for i, out in enumerate(outputs)])
    if len(outputs) > 1:
        ctx.output_meta = [(out.shape, out.dtype) for out in outputs]   # to fill unused grads
    if ctx.non_differentiable:
        results = _detach_marked(ctx, results, raw_outputs)
    if outputs[0].dtype.kind not in "fc" or len(outputs) > 1 and any(
            out.dtype.kind not in "fc" for out in outputs):
        # integer and bool outputs have no gradient: out of the graph, as PyTorch makes them
        results = tuple([r.detach() if r.array.dtype.kind not in "fc" else r for r in results])
    if ctx.to_save:
        saved = []
        for item in ctx.to_save:
            if not hasattr(item, "shape"):      # None, Python numbers, dtypes: kept as they are
                saved.append((_SAVED_CONSTANT, item, None, None))
                continue
            for arg in args:                    # most saved arrays are inputs: check them first
                if isinstance(arg, Tensor) and arg.array is item:
                    box = arg._version_box or arg._shared_version()
                    saved.append((_SAVED_INPUT, arg, box, box[0]))
                    break
            else:
                saved.append(_saved_entry(item, outputs, raw_outputs, results))
        ctx.saved = saved
        ctx.to_save = ()
        if _saved_hooks_open:                   # inside saved_tensors_hooks (graph.py)
            graph.pack_saved(ctx, results)
    return results


def _detach_marked(ctx, results, raw_outputs):
    """``results`` with the outputs forward marked non-differentiable taken out of the graph."""
    marked = ctx.non_differentiable
    ctx.non_differentiable = ()
    return tuple([result.detach() if any(m is result.array or m is raw for m in marked)
                  else result for result, raw in zip(results, raw_outputs)])


def _mark_view(cls, result, source):
    """Make ``result`` a view of ``source`` when it shares its memory: it then shares the
    version counter, so in-place changes to either are noticed, and a plain view remembers the
    base (the tensor that is no view) that an in-place change to it rewrites
    (autograd/inplace.py). A view op's result that is a copy (a reshape of a transposed array)
    stays a tensor of its own."""
    owner, source_array = result.array.base, source.array      # memory_owner, inlined
    if owner is not None and owner is (source_array.base if source_array.base is not None
                                       else source_array):
        result._version_box = box = source._shared_version()
        if cls.is_plain_view:
            result._base = source if source._base is None else source._base
            result._view_version = box[0]
            result._view_grad_mode = state.grad_enabled


def memory_owner(array):
    """The object that owns ``array``'s memory (NumPy and CuPy point a view's ``base`` straight
    at it, not at the view it was taken from)."""
    return array if array.base is None else array.base


def _saved_entry(item, outputs, raw_outputs, results):
    """How a saved array or tensor that is not an input's array comes back: an output (its
    array, or the Tensor a Function's forward returned) as the linked output, another Tensor as
    it is."""
    for index, (out, raw) in enumerate(zip(outputs, raw_outputs)):
        if item is out or item is raw:          # raw: a NumPy scalar before it became 0-d
            result = results[index]
            box = result._shared_version()
            if result._grad_fn is None:         # marked non-differentiable: kept as it is
                return (_SAVED_INPUT, result, box, box[0])
            return (_SAVED_OUTPUT, (out, index), box, box[0])
    if isinstance(item, Tensor):
        box = item._shared_version()
        return (_SAVED_INPUT, item, box, box[0])
    return (_SAVED_CONSTANT, Tensor(item), None, None)   # e.g. a mask: a constant to backward


def _as_array(out):
    """Forward's output as an array: a Tensor's array (a Function's forward returns Tensors),
    and NumPy reductions return NumPy scalars, not 0-d arrays."""
    if type(out) is not np.ndarray:
        if isinstance(out, Tensor):
            return out.array
        if isinstance(out, (np.generic, int, float, bool)):
            return np.asarray(out)
    return out


def note_complex():
    """A complex tensor exists: from now on ``apply`` checks complex inputs' ops support them."""
    global _complex_seen
    _complex_seen = True


def _refuse_complex(cls, arrays):
    for array in arrays:
        if getattr(getattr(array, "dtype", None), "kind", None) == "c":
            raise NotImplementedError(
                f"{cls.__name__}: the derivative for complex inputs ({array.dtype}) is not "
                f"implemented in tinygen; compute it on .real/.imag or detach() the input")


def _raise_device_mismatch(cls, a, b):
    raise RuntimeError(f"{cls.__name__}: expected all tensors on the same device, got {a.device} "
                       f"(shape {tuple(a.shape)}) and {b.device} (shape {tuple(b.shape)}); "
                       f"move one with .to(device)")


def _user_call_site():
    """'file:line: code' of the innermost stack frame outside the tinygen package."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    return "inside tinygen"


def _check_nan(node, position, array):
    """Anomaly mode: raise if the gradient ``node``'s backward returned for input ``position``
    holds NaN. Only NaN, as in PyTorch: inf is a legitimate gradient (sqrt's at 0)."""
    if state.anomaly_check_nan and _has_nan(array):
        raise RuntimeError(f"Function '{node.name()}' returned nan values in its {position}th "
                           f"output. Its forward op was created at {_place(node.creation_site)}")


def _place(site):
    return site or "an unknown place (run the forward pass inside detect_anomaly to record it)"


def _has_nan(array):
    return array.dtype.kind == "f" and bool(get_array_module(array).isnan(array).any())


def once_differentiable(backward):
    """Decorate a Function's ``backward`` that cannot itself be differentiated (raw array math).

    It runs with recording off. Under ``create_graph=True`` its gradients still come back linked
    to a node, whose backward raises a clear error, so a second derivative through it fails
    loudly instead of silently missing a term. PyTorch links them only when an incoming
    gradient requires grad; tinygen always does, so ``grad(create_graph=True)`` followed by a
    second backward (a gradient penalty) fails too.
    """
    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            grads = backward(ctx, *grad_outputs)
        single = type(grads) is not tuple
        grads = (grads,) if single else grads
        present = [i for i, g in enumerate(grads) if g is not None]
        if not (state.grad_enabled and present):    # create_graph=False: nothing to guard
            return grads[0] if single else grads
        guarded = _DifferentiatedTwice.apply(
            ctx.name(), *[Tensor(grads[i], requires_grad=True) for i in present])
        grads = list(grads)
        for i, g in zip(present, guarded):
            grads[i] = g
        return grads[0] if single else tuple(grads)
    return wrapper


class _DifferentiatedTwice(Function):
    """Passes gradients through unchanged; differentiating it raises (once_differentiable)."""

    @staticmethod
    def forward(ctx, name, *grads):
        ctx.op = name
        return grads

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(f"trying to differentiate twice a function that was marked with "
                           f"@once_differentiable: {ctx.op}. Write its backward in tensor ops "
                           f"to get higher derivatives")


from tinygen.autograd.inplace import refresh_view  # noqa: E402
from tinygen.tensor import Tensor  # noqa: E402  (tensor.py imports this module at its end)
from tinygen.autograd import graph  # noqa: E402
