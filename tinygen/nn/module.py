"""``Module``: the base of every layer, with PyTorch's registration rules.

Assigning a ``Parameter``, a ``Module`` or a registered buffer to a module attribute files it in
``_parameters``, ``_modules`` or ``_buffers``; everything else that walks a model (``parameters``,
``state_dict``, ``to``, ``repr``) reads those three dicts, in the order things were assigned.
State-dict keys are the dotted attribute paths (``encoder.0.weight``), so weights move between
tinygen and PyTorch by key (``state_dict.py``). ``Parameter`` lives in ``parameter.py`` and is
importable from here too.

Assigning an ``nn.Buffer`` registers a buffer (persistent or not, as the Buffer says).

Hooks (``register_forward_hook`` and the others, see ``hooks.py``) follow PyTorch's: they are
kept in one ordered dict, ``_module_hooks``, so calling a module without hooks costs one test.
"""

from collections import OrderedDict
from typing import TypeVar

from tinygen import compiler, creation, dtypes
from tinygen.autograd.grad_mode import no_grad
from tinygen.autograd.scope import module_scope
from tinygen.backend import Device
from tinygen.nn.hooks import Hook, add_hook, call_with_hooks, global_module_hooks
from tinygen.nn.module_hooks import ModuleExtrasMixin
from tinygen.nn.parameter import Parameter
from tinygen.nn.state_dict import StateDictMixin
from tinygen.tensor import Tensor
from tinygen.to_shortcuts import ToShortcuts


class Buffer(Tensor):
    """A tensor that registers as a buffer when assigned to a Module attribute, as PyTorch's
    ``nn.Buffer``: ``self.running_mean = nn.Buffer(t, persistent=True)`` is
    ``self.register_buffer("running_mean", t, persistent=True)``. Shares ``data``'s array."""

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = Tensor(creation.empty(0).array)
        if not isinstance(data, Tensor):
            raise TypeError(f"nn.Buffer: data must be a Tensor, got {type(data).__name__}")
        super().__init__(data.array, requires_grad=data.requires_grad)
        self.persistent = persistent


class Module(StateDictMixin, ModuleExtrasMixin, ToShortcuts):
    """Base class of all layers and models: subclass it, assign layers and parameters to
    attributes in ``__init__`` (after ``super().__init__()``), and define ``forward``."""

    dump_patches = False        # PyTorch's flag for old-checkpoint patches (unused, as there)
    call_super_init = False     # True: __init__ passes its arguments on to the next class
    T_destination = TypeVar("T_destination", bound=dict)     # state_dict's destination type

    def __init__(self, *args, **kwargs):
        if not self.call_super_init and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if not self.call_super_init and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_module_hooks", OrderedDict())    # handle id -> _Hook
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    def compile(self, *args, **kwargs):
        """PyTorch compiles ``__call__`` in place; tinygen runs eagerly (``tg.compile``), so the
        options are checked and the module is left as it was. Returns None, as PyTorch."""
        compiler.compile(self, *args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        if self._module_hooks or global_module_hooks:
            return call_with_hooks(self, args, kwargs)
        with module_scope(self):           # ops recorded inside remember this call (tg.viz)
            return self.forward(*args, **kwargs)

    # Hooks

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before every ``forward``; a returned value replaces
        ``args`` (one that is not a tuple becomes a 1-tuple). With ``with_kwargs=True`` it is
        ``hook(module, args, kwargs)``, returning None or ``(args, kwargs)``.

        Hooks of a kind run in the order registered; ``prepend=True`` puts this one first.
        Returns a ``RemovableHandle``: ``handle.remove()``, or leaving ``with handle:``,
        removes the hook.
        """
        return self._add_hook(Hook("forward_pre", hook, with_kwargs, False), prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, args, output)`` after every ``forward`` (``hook(module, args,
        kwargs, output)`` with ``with_kwargs=True``); a returned value replaces the output.
        With ``always_call=True`` it also runs, with output None, when ``forward`` raises.
        ``prepend`` and the returned handle are as in ``register_forward_pre_hook``."""
        return self._add_hook(Hook("forward", hook, with_kwargs, always_call), prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are
        known, before they flow into it; a returned tuple replaces ``grad_output``. It has one
        entry per output (a tensor or a tuple's items): None for one that is not a tensor or
        does not require grad or got no gradient."""
        return self._add_hook(Hook("backward_pre", hook, False, False), prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        positional inputs are computed; a returned tuple replaces ``grad_input``, and so changes
        what reaches earlier layers. Entries are None for arguments that are not tensors or do
        not require grad (PyTorch gives zeros for the latter when another input requires grad).
        Parameters' gradients are not in ``grad_input``; keyword arguments are left out. A call
        uses the hooks registered when its forward ran."""
        return self._add_hook(Hook("backward", hook, False, False), prepend)

    def _add_hook(self, hook, prepend):
        return add_hook(self._module_hooks, hook, prepend)

    # Registration

    def _check_name(self, name, kind):
        if "_modules" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter, or None for an absent one) under ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"cannot assign non-leaf Tensor to parameter '{name}'; make it a "
                             f"leaf with nn.Parameter(tensor.detach())")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not a parameter (e.g. BatchNorm's running mean).
        Persistent buffers are part of ``state_dict``."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under ``name``."""
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif isinstance(value, Buffer):
            if params is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._forget(name, keep=self._buffers)
            self.register_buffer(name, value, value.persistent)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove ``name`` from the places other than ``keep`` where it may be, before it is
        registered as a new kind (a reassignment of the same kind keeps its position)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):        # called only when normal lookup fails
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(
            self._modules)
        return sorted(key for key in keys if not key[0].isdigit())

    def get_submodule(self, target):
        """The module at dotted path ``target`` (``""`` is this module)."""
        module = self
        for part in target.split(".") if target else ():
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' "
                                     f"(looking up '{target}')")
            module = module._modules[part]
        return module

    # Walking the tree

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first; a module
        reachable by two paths is yielded once unless ``remove_duplicate=False``."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                                remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs; a shared parameter is yielded once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # Modes and gradients

    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default), or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                grad = param.grad.detach() if param.grad.grad_fn is not None else param.grad
                grad.requires_grad = False
                with no_grad():
                    grad.zero_()
                param.grad = grad

    # Devices and dtypes

    def _apply(self, fn):
        """Replace every parameter's array (and its grad's) by ``fn``'s, keeping the Parameter
        objects; buffers are replaced by ``fn(buffer)``."""
        with no_grad():
            for module in self.modules():
                for param in module._parameters.values():
                    if param is None:
                        continue
                    param.array = fn(param).array
                    if param.grad is not None:
                        param.grad.array = fn(param.grad).array
                for name, buf in module._buffers.items():
                    if buf is not None:
                        module._buffers[name] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)``, in place.
        A dtype applies to floating-point parameters and buffers only, as in PyTorch."""
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
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, got {dtype}")
        device = None if device is None else Device(device)

        def convert(t):
            return t.to(device=device, dtype=dtype if t.is_floating_point() else None)
        return self._apply(convert)

    # Printing

    def extra_repr(self):
        """The text inside this module's parentheses in ``repr`` (e.g. ``in_features=2``)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_indent(repr(module), 2)}"
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _indent(text, spaces):
    """Indent every line of ``text`` but the first (for nested module reprs)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])
