"""``Tensor``: one array of the active backend, plus what autograd needs to know about it.

A tensor holds a ``numpy.ndarray`` or a ``cupy.ndarray`` (``.array``) and, when it was computed
by a recorded op, the node of that op (``.grad_fn``). Leaves are tensors made by the user; a leaf
with ``requires_grad=True`` collects gradients in ``.grad``. Every method here is a thin call into
``tinygen.ops``, where the differentiable ops live.

In-place methods (``add_``, ``x[i] = v`` ...) are explained in ``autograd/inplace.py``.
"""

import weakref

import numpy as np

from tinygen import device_checks, dtypes
from tinygen.backend import Device, device_of
from tinygen.size import Size
from tinygen.tensor_str import tensor_repr
from tinygen.to_shortcuts import ToShortcuts


class Tensor(ToShortcuts):
    """A multi-dimensional array with automatic differentiation.

    ``Tensor(array)`` wraps an existing numpy/cupy array (or numpy scalar) without copying, and
    ``Tensor(tensor)`` shares that tensor's array: tinygen's extensions. As in PyTorch,
    ``Tensor(*sizes)`` (ints or one ``tg.Size``-like list) is a zero-filled tensor of the default
    dtype, ``Tensor(data)`` copies Python lists/tuples into the default dtype (``Tensor((2, 3))``
    is data, not a size) and ``Tensor(2.5)`` is a TypeError; ``tg.LongTensor`` ... fix the dtype
    (legacy_constructors.py). ``requires_grad`` is keyword-only. Prefer ``tg.tensor(data)``.
    """

    # _base, _view_version, _view_grad_mode: see _is_view; the last two are set for views only
    __slots__ = ("array", "_grad", "requires_grad", "_grad_fn", "_output_nr", "_version_box",
                 "_hooks", "_base", "_view_version", "_view_grad_mode", "__weakref__")
    __array_ufunc__ = None              # numpy defers to Tensor's reflected operators

    def __init__(self, *data, requires_grad=False):
        if len(data) == 1 and isinstance(data[0], Tensor):
            data = data[0].array
        elif len(data) == 1 and isinstance(data[0], np.generic):
            data = creation.array_from_data(data[0])
        elif len(data) == 1 and hasattr(data[0], "__array_namespace__"):
            data = data[0]
        else:
            data = legacy_constructors.constructor_array(data)
        if data.dtype.kind == "c":
            function.note_complex()         # from now on, ops check their complex support
        self.array = data
        self._grad = self._grad_fn = self._version_box = self._hooks = self._base = None
        self._output_nr = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_()

    @classmethod
    def _wrap(cls, array):
        """A tensor outside the graph around ``array`` (fast path: no argument checking)."""
        t = cls.__new__(cls)
        t.array = array
        t._grad = t._grad_fn = t._hooks = t._version_box = t._base = None
        t._output_nr = 0
        t.requires_grad = False
        return t

    @classmethod
    def _from_op(cls, array, node, index, version_box=None):
        """An output of a recorded op (fast path: no argument checking)."""
        t = cls.__new__(cls)
        t.array = array
        t._grad = t._hooks = t._base = None
        t._grad_fn = node
        t._output_nr = index
        t._version_box = version_box
        t.requires_grad = True
        return t

    # What a tensor is

    @property
    def shape(self):
        return Size.of(self.array.shape)

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        return device_of(self.array)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad_fn(self):
        """The node of the op that computed this tensor (None for a leaf). A view whose memory
        was changed in place since is first re-derived from its base (autograd/inplace.py)."""
        if self._base is not None and self._view_version != self._version_box[0]:
            inplace.refresh_view(self)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._grad_fn = node

    @property
    def grad(self):
        """The gradient that ``backward()`` accumulated into this tensor, or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            tensor_queries.check_assigned_grad(self, value)
        self._grad = value

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def _is_view(self):
        """Whether a view op (reshape, x[1:], ...) made this tensor from another, sharing its
        memory. ``_base`` is then that other tensor's base: the tensor that is no view, which an
        in-place change to this one rewrites; ``_view_version`` the version of the memory when
        ``_grad_fn`` was made and ``_view_grad_mode`` whether grad mode was on then."""
        return self._base is not None

    @property
    def _version(self):
        return 0 if self._version_box is None else self._version_box[0]

    def _shared_version(self):
        """The version counter (a one-item list) this tensor shares with its views. Made on first
        use: most tensors are never saved for backward nor changed in place, and a list per
        tensor would give Python's cycle collector much more to scan."""
        if self._version_box is None:
            self._version_box = [0]
        return self._version_box

    @property
    def data(self):
        """The same array as a tensor outside the graph (and, as in PyTorch, outside version
        counting: ``p.data.add_(...)`` changes ``p`` without tripping saved-tensor checks)."""
        return Tensor(self.array)

    @data.setter
    def data(self, other):
        self.array = other.array if isinstance(other, Tensor) else other

    def size(self, dim=None):
        if dim is None:
            return self.shape
        try:
            return self.shape[dim]
        except IndexError:
            n = self.ndim
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {dim})") from None

    def dim(self):
        return self.array.ndim

    def numel(self):
        return int(self.array.size)

    def element_size(self):
        return self.array.itemsize

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    __hash__ = object.__hash__

    def __format__(self, spec):
        """A 0-d tensor formats as its number (``f"{loss:.3f}"``), as in PyTorch; others as
        their repr, and only with an empty spec (else TypeError, as in PyTorch)."""
        if self.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self):
        """As PyTorch prints it (tensor_str.py), with ``tg.`` dtypes; ``str(t)`` is the same."""
        return tensor_repr(self)

    # To and from the host

    def _host_array(self):
        device_checks.flush()
        return self.array if isinstance(self.array, np.ndarray) else self.array.get()

    def numpy(self):
        """The array as numpy.ndarray (shared, not copied). CPU tensors outside the graph only."""
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        if not isinstance(self.array, np.ndarray):
            raise TypeError(f"can't convert a {self.device} tensor to numpy; "
                            f"use tensor.cpu().numpy() to copy it to the host first")
        device_checks.flush()
        return self.array

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a tensor with {self.numel()} elements cannot be converted to "
                               f"a Python number; item() needs exactly one element")
        device_checks.flush()
        return self.array.item()

    def tolist(self):
        return self._host_array().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.numel()} elements is "
                               f"ambiguous; use .any() or .all()")
        return bool(self.item())

    # Autograd

    def requires_grad_(self, requires_grad=True):
        """Mark a leaf tensor as one whose gradient ``backward()`` should compute."""
        if not self.is_leaf:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                                   "use .detach() for a non-leaf tensor")
            return self
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got "
                               f"{self.dtype}; convert with .float() first")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Add d(self)/d(leaf), weighted by ``gradient``, into each leaf's ``.grad`` (or, with
        ``inputs``, into those tensors' ``.grad`` only)."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self):
        """The same data outside the graph (shares memory and version counter)."""
        t = Tensor(self.array)
        t._version_box = self._shared_version()
        return t

    def detach_(self):
        if self._is_view:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self.requires_grad = False
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.grad_fn.output_hooks is None:
                self.grad_fn.output_hooks = {}
            hooks = self.grad_fn.output_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward: once however often
        it is called, after the tensor's other hooks, as in PyTorch."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
            return
        hooks = (self.grad_fn.output_hooks or {}).get(self._output_nr, ())
        if not any(isinstance(hook, _RetainGrad) for hook in hooks):
            self.register_hook(_RetainGrad(self))

    # In place (see autograd/inplace.py)

    def add_(self, other, alpha=1):
        return inplace.modify(self, "add_", ops.add, other * alpha if alpha != 1 else other)

    def sub_(self, other, alpha=1):
        return inplace.modify(self, "sub_", ops.sub, other * alpha if alpha != 1 else other)

    def mul_(self, other):
        return inplace.modify(self, "mul_", ops.mul, other)

    def div_(self, other, *, rounding_mode=None):
        return inplace.modify(self, "div_", ops.div, other, rounding_mode)

    def pow_(self, exponent):
        return inplace.modify(self, "pow_", ops.pow, exponent)

    def clamp_(self, min=None, max=None):
        return inplace.modify(self, "clamp_", ops.clamp, min, max)

    def masked_fill_(self, mask, value):
        return inplace.modify(self, "masked_fill_", ops.masked_fill, mask, value)

    def copy_(self, src):
        """Copy ``src`` (broadcast, cast and moved as needed) into this tensor."""
        src = src if isinstance(src, Tensor) else Tensor(src)
        return inplace.modify(self, "copy_", _copied, src)

    def zero_(self):
        return inplace.overwrite(self, 0, "zero_")

    def fill_(self, value):
        """Set every element to ``value``: a number or a 0-d tensor (which, if it requires
        grad, gets the sum of this tensor's gradient, as in PyTorch)."""
        if isinstance(value, Tensor) and value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions")
        return inplace.overwrite(self, value, "fill_")

    def bernoulli_(self, p=0.5, generator=None):
        """Fill with 1 (probability ``p``, a number or a tensor) or 0."""
        return inplace.overwrite(self, ops.bernoulli(self, p, generator).array, "bernoulli_")

    def __setitem__(self, index, value):
        if isinstance(value, Tensor) and value.dtype != self.dtype:
            ops.indexing.check_setitem_dtype(self, index, value)
        inplace.modify(self, "__setitem__", ops.index_put, index, value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # Moving and casting

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        result = self
        if dtype is not None and dtypes.as_dtype(dtype) != self.dtype:
            result = ops.cast(result, dtypes.as_dtype(dtype))
        if device is not None and Device(device) != self.device:
            result = ops.to_device(result, Device(device))
        return result

    def type_as(self, other):
        return self.to(other.dtype)

    def _made_like(self, make, *args, dtype=None, device=None, requires_grad=False,
                   layout=None, pin_memory=False):
        """``make(*args)`` in this tensor's dtype and on its device unless told otherwise
        (layout and pin_memory are accepted, as PyTorch's, and have no effect)."""
        return make(*args, dtype=self.dtype if dtype is None else dtype,
                    device=self.device if device is None else device,
                    requires_grad=requires_grad)

    def new_tensor(self, data, **kwargs):
        return self._made_like(creation.tensor, data, **kwargs)

    def new_zeros(self, *shape, **kwargs):
        return self._made_like(creation.zeros, *shape, **kwargs)

    def new_ones(self, *shape, **kwargs):
        return self._made_like(creation.ones, *shape, **kwargs)

    def new_full(self, size, fill_value, **kwargs):
        return self._made_like(creation.full, size, fill_value, **kwargs)

    def is_contiguous(self):
        """Whether the array is laid out in C (row-major) order without gaps."""
        return bool(self.array.flags.c_contiguous)

    def contiguous(self):
        """This tensor if its array is C-contiguous, else a contiguous copy (in the graph)."""
        return self if self.is_contiguous() else ops.clone(self)

    # Methods whose signature differs from the op of the same name (the rest: tensor_methods.py)

    def where(self, condition, other):
        return ops.where(condition, self, other)

    def view_as(self, other):
        return ops.view(self, other.shape)

    def reshape_as(self, other):
        return ops.reshape(self, other.shape)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dims, got {self.ndim}")
        return self.T

    def __pos__(self):
        return self

    @property
    def T(self):
        return ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return ops.transpose(self, -2, -1)


def _copied(t, src):
    """``src`` cast and broadcast to ``t``: copy_'s new value. Where the old value is in a graph
    it stays there with gradient zero (where(True, src, t)), as PyTorch's CopyBackwards."""
    value = ops.expand(src.to(t.device, t.dtype), t.shape)
    return inplace._filled(t, value) if t.requires_grad else value


class _RetainGrad:
    """The hook ``retain_grad`` adds: it keeps a copy of the gradient in the tensor's ``.grad``
    (a copy, as PyTorch's, so the user may change it in place). The engine runs it last."""
    runs_last = True

    def __init__(self, tensor):
        self.tensor = weakref.ref(tensor)  # a strong reference would make a cycle via grad_fn

    def __call__(self, grad):
        tensor = self.tensor()
        if tensor is not None:
            tensor.grad = grad.clone() if tensor.grad is None else tensor.grad + grad


class _HookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


from tinygen import creation, ops  # noqa: E402  (these modules import Tensor from here)
from tinygen.autograd import engine, function, inplace  # noqa: E402

from tinygen import tensor_methods  # noqa: E402,F401  (attaches the ops as methods)
from tinygen import legacy_constructors, tensor_queries  # noqa: E402  (more methods)
from tinygen.ops import shape_inplace  # noqa: E402,F401  (squeeze_, t_, resize_ ...)
