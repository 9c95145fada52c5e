"""Parametrizations: a module's tensor computed from other tensors on every access, as PyTorch's
``torch.nn.utils.parametrize``.

``register_parametrization(module, "weight", p)`` moves the parameter to
``module.parametrizations.weight.original`` and makes ``module.weight`` a property returning
``p(original)``. Properties live on classes, so the module's class is swapped for a subclass
made for this one instance (``ParametrizedLinear``), and swapped back when the last
parametrization is removed; ``Module`` itself needs no hook. A parametrization with a
``right_inverse`` returning several tensors is stored as ``original0``, ``original1``, ...
State-dict keys are PyTorch's (``parametrizations.weight.original``).
"""

from contextlib import contextmanager

from tinygen.autograd.grad_mode import no_grad
from tinygen.nn.containers import ModuleDict, ModuleList
from tinygen.nn.module import Module
from tinygen.nn.parameter import Parameter
from tinygen.tensor import Tensor

_cache_enabled = 0
_cache = {}          # (id(module), tensor name) -> the tensor computed inside ``cached()``


@contextmanager
def cached():
    """Inside this context each parametrized tensor is computed once, on first access, and
    reused (e.g. a weight used at every step of an RNN)."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _register_parameter_or_buffer(module, name, tensor):
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_in_place(dest, src):
    """Make ``dest`` hold ``src``'s values, keeping the ``dest`` object (and the optimizers
    that hold it), as PyTorch's ``Tensor.set_``."""
    dest.data = src


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the ``original`` tensor (or
    ``original0``, ``original1``, ... when the first one's ``right_inverse`` returns several)."""

    __repr__ = Module.__repr__         # named ParametrizationList, as in PyTorch

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, list, tuple)):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                _set_in_place(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors. Got element {i} of type "
                                     f"{type(tensor).__name__}")
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor, original.requires_grad)
                tensor.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", tensor)
        if not self.unsafe:
            _check_like(self(), original, "the parametrization", "registering it")

    def right_inverse(self, value):
        """Set the originals so that this list's output is ``value`` (assigning to the
        parametrized attribute calls this)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       f"implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                _check_like(value, self.original, "right_inverse", "assigning to it")
                _set_in_place(self.original, value)
            else:
                if len(value) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of length "
                                     f"{self.ntensors}. Got a sequence of length {len(value)}")
                for i, tensor in enumerate(value):
                    _set_in_place(getattr(self, f"original{i}"), tensor)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _check_like(new, original, what, when):
    """``new`` must be a tensor with ``original``'s shape and dtype (unless ``unsafe=True``)."""
    if not isinstance(new, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(new).__name__}.")
    if new.dtype != original.dtype or tuple(new.shape) != tuple(original.shape):
        raise ValueError(f"{what} may not change the shape or dtype of the tensor when "
                         f"{when} (pass unsafe=True to allow it).\n"
                         f"original: shape {tuple(original.shape)}, dtype {original.dtype}\n"
                         f"parametrized: shape {tuple(new.shape)}, dtype {new.dtype}")


def _inject_new_class(module):
    """Give ``module`` a class of its own (a subclass of its class), to hold the properties."""
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})


def _inject_property(module, tensor_name):
    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        if _cache.get(key) is None:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` be ``parametrization(original)``, recomputed on every
    access. A second registration on the same name chains after the first. Unless
    ``unsafe=True`` the result must keep the tensor's shape and dtype. Returns ``module``."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            X = parametrization(getattr(module, tensor_name))
            _check_like(X, getattr(module, tensor_name), "the parametrization",
                        "registering it")
            if hasattr(parametrization, "right_inverse"):
                _check_like(parametrization.right_inverse(X), X, "right_inverse",
                            "registering it")
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has any parametrization (or one on ``tensor_name``)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrizations on ``tensor_name``: it becomes a plain parameter (or buffer)
    again, holding the current parametrized value (``leave_parametrized=True``) or the
    original. The original Parameter object is kept, so optimizers still hold it."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _set_in_place(original, getattr(module, tensor_name))
    elif leave_parametrized:
        t = getattr(module, tensor_name)      # with grad: does any original require it?
        original = Parameter(t.detach()) if t.requires_grad else t.detach()
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered."""
    cls = type(module)
    return cls.__bases__[0] if is_parametrized(module) else cls
