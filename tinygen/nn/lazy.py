"""Lazy modules: layers whose input size is read from the first batch they see, as in PyTorch
(``LazyLinear(10)`` instead of ``Linear(784, 10)``).

The mechanism is PyTorch's ``LazyModuleMixin``: a lazy layer starts with
``UninitializedParameter``s (and ``UninitializedBuffer``s), placeholders that refuse to take part
in any math. Its first call runs ``initialize_parameters(input)``, which reads in_features /
in_channels / num_features from the input, gives each placeholder its shape (``materialize``,
after which it *is* a ``Parameter``: the same object, so nothing holding it goes stale) and runs
``reset_parameters``; then the module's class becomes the ordinary one (``LazyLinear`` ->
``Linear``). Create the optimizer after that dry run, as PyTorch documents. ``load_state_dict``
into a lazy module materializes the placeholders from the loaded shapes.

Where tinygen differs: after ``load_state_dict``, the first call also reads in_features (and
the like) from the loaded weight, where PyTorch leaves them 0.
"""

from tinygen import creation, dtypes
from tinygen.autograd.grad_mode import no_grad
from tinygen.nn.conv import (
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
from tinygen.nn.linear import Linear
from tinygen.nn.module import Module
from tinygen.nn.normalization import (
    BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d)
from tinygen.nn.parameter import Parameter
from tinygen.tensor import Tensor

_ARRAY = Tensor.__dict__["array"]        # the slot itself, under the property that guards it


class _UninitializedMixin:
    """A placeholder tensor: holds a (0,)-shaped array for its dtype and device only."""
    __slots__ = ()
    cls_to_become = None

    @property
    def array(self):
        raise ValueError(
            f"Attempted to use an uninitialized parameter. This error happens when you are "
            f"using a `LazyModule` or explicitly manipulating `tinygen.nn."
            f"{type(self).__name__}` objects. When using LazyModules Call `forward` with a "
            f"dummy batch to initialize the parameters before calling tinygen functions")

    @array.setter
    def array(self, value):
        _ARRAY.__set__(self, value)

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. "
                           "This error usually happens in `load_state_dict` when trying to "
                           "load an uninitialized parameter into an initialized one. Call "
                           "`forward` to initialize the parameters before accessing their "
                           "attributes.")

    @property
    def dtype(self):
        return _ARRAY.__get__(self).dtype

    @property
    def device(self):
        return self._placeholder().device

    def _placeholder(self):
        return Tensor(_ARRAY.__get__(self))

    def to(self, *args, **kwargs):
        """The (0,)-shaped placeholder moved or cast: what ``Module.to`` keeps."""
        return self._placeholder().to(*args, **kwargs)

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def materialize(self, shape, device=None, dtype=None):
        """Give the placeholder an (uninitialized) array of ``shape``; it becomes a
        ``cls_to_become`` (Parameter or Tensor), keeping its identity."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        array = creation.empty(*shape, device=device or self.device,
                               dtype=dtype or self.dtype).array
        self.__class__ = self.cls_to_become
        self.array = array

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):
        copy = type(self)(self.requires_grad, device=self.device, dtype=self.dtype)
        memo[id(self)] = copy
        return copy


def _empty(device, dtype):
    return creation.empty(0, device=device, dtype=dtype)


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A parameter whose shape is not known yet (see the module docstring)."""
    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(_empty(device, dtype), requires_grad)


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer whose shape is not known yet (see the module docstring)."""
    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        super().__init__(_empty(device, dtype), requires_grad=requires_grad)


def _uninitialized(t):
    return isinstance(t, _UninitializedMixin)


class LazyModuleMixin:
    """Infers parameter shapes on the first call; subclasses give ``cls_to_become`` and
    ``initialize_parameters(*args, **kwargs)``."""
    cls_to_become = None

    def has_uninitialized_params(self):
        """Whether any parameter or buffer of this module (not its children) is a placeholder."""
        return any(_uninitialized(t) for t in
                   list(self._parameters.values()) + list(self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def __call__(self, *args, **kwargs):
        self._infer_parameters(args, kwargs)
        return Module.__call__(self, *args, **kwargs)    # self's class may have changed

    def _infer_parameters(self, args, kwargs):
        with no_grad():
            self.initialize_parameters(*args, **kwargs)
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Placeholders go in as they are (a detached copy would need their data)."""
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            if t is None or name in self._non_persistent_buffers_set:
                continue
            destination[prefix + name] = t if keep_vars or _uninitialized(t) else t.detach()

    def _load_from_state_dict(self, state_dict, prefix, *args):
        """Materialize each placeholder from the shape it is loaded with, then load."""
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            key = prefix + name
            if _uninitialized(t) and key in state_dict and not _uninitialized(state_dict[key]):
                t.materialize(tuple(state_dict[key].shape))
        super()._load_from_state_dict(state_dict, prefix, *args)


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` with in_features read from the first input's last dim."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            self.in_features = self.weight.shape[1]         # loaded from a state dict
            return
        self.in_features = input.shape[-1]
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    """Lazy convolutions: in_channels from dim 1 of a batched input, dim 0 of an unbatched."""

    def _lazy_init(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            self.in_channels = self.weight.shape[0 if self.transposed else 1] * (
                1 if self.transposed else self.groups)
            return
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise RuntimeError(f"{type(self).__name__}: expected {self.dims + 1}D (unbatched) "
                               f"or {self.dims + 2}D (batched) input, got shape "
                               f"{tuple(input.shape)}")
        self.in_channels = input.shape[1 if input.ndim == self.dims + 2 else 0]
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        k = self.kernel_size
        self.weight.materialize(
            (self.in_channels, self.out_channels // self.groups) + k if self.transposed
            else (self.out_channels, self.in_channels // self.groups) + k)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()


def _lazy_conv(base, transposed):
    """The lazy form of a convolution class (its constructor minus in_channels; the two
    signatures are PyTorch's, whose transposed form has output_padding and moves dilation)."""
    if not transposed:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                     groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
            base.__init__(self, 0, 0, kernel_size, stride, padding, dilation=dilation,
                          groups=groups, bias=False, padding_mode=padding_mode, device=device,
                          dtype=dtype)
            self._lazy_init(out_channels, bias, device, dtype)
    else:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                     dtype=None):
            base.__init__(self, 0, 0, kernel_size, stride, padding,
                          output_padding=output_padding, groups=groups, bias=False,
                          dilation=dilation, padding_mode=padding_mode, device=device,
                          dtype=dtype)
            self._lazy_init(out_channels, bias, device, dtype)
    doc = f"``{base.__name__}`` with in_channels read from the first input."
    return type("Lazy" + base.__name__, (_LazyConvMixin, base),
                {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                 "__module__": __name__})


LazyConv1d = _lazy_conv(Conv1d, False)
LazyConv2d = _lazy_conv(Conv2d, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, True)
LazyConv3d = _lazy_conv(Conv3d, False)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, True)


class _LazyNormMixin(LazyModuleMixin):
    """Lazy batch and instance norms: num_features from the input's channel dim."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = creation.tensor(0, dtype=dtypes.int64, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _channel_dim(self, input):
        return 1

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            loaded = self.weight if self.affine else self.running_mean
            self.num_features = (input.shape[self._channel_dim(input)] if loaded is None
                                 else loaded.shape[0])
            return
        self.num_features = input.shape[self._channel_dim(input)]
        for t in (self.weight, self.bias, self.running_mean, self.running_var):
            if t is not None:
                t.materialize((self.num_features,))
        self.reset_parameters()


class _LazyInstanceNormMixin(_LazyNormMixin):
    """PyTorch's lazy instance norms default to affine=True, track_running_stats=True, unlike
    InstanceNorm1d/2d; so do these."""

    def _channel_dim(self, input):
        return 0 if input.ndim == self.ranks[0] else 1


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    """``BatchNorm1d`` with num_features read from the first input."""
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    """``BatchNorm2d`` with num_features read from the first input."""
    cls_to_become = BatchNorm2d


class LazyInstanceNorm1d(_LazyInstanceNormMixin, InstanceNorm1d):
    """``InstanceNorm1d`` with num_features read from the first input."""
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNormMixin, InstanceNorm2d):
    """``InstanceNorm2d`` with num_features read from the first input."""
    cls_to_become = InstanceNorm2d


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    """``BatchNorm3d`` with num_features read from the first input."""
    cls_to_become = BatchNorm3d


class LazyInstanceNorm3d(_LazyInstanceNormMixin, InstanceNorm3d):
    """``InstanceNorm3d`` with num_features read from the first input."""
    cls_to_become = InstanceNorm3d
