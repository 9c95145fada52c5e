"""Containers that register the modules they hold: ``Sequential``, ``ModuleList``,
``ModuleDict``; and the parameters they hold: ``ParameterList``, ``ParameterDict``.

A plain Python list of layers would hide them from ``parameters()``, ``state_dict()`` and
``to()``; these keep them in ``_modules`` under the names ``"0"``, ``"1"``, ... (or the dict's
keys), which is also where the ``0.weight`` state-dict keys come from.
"""

import operator
from collections import OrderedDict

from tinygen.nn.module import Module, Parameter, _indent
from tinygen.tensor import Tensor


def _index(index, length, kind):
    """``index`` (negative counts from the end) as 0 .. length-1, or an IndexError."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a {kind} of length {length}")
    return index % length


class _Indexed(Module):
    """What Sequential and ModuleList share: modules stored under "0", "1", ... in order."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        return list(self._modules.values())[_index(index, len(self), type(self).__name__)]

    def __setitem__(self, index, module):
        setattr(self, list(self._modules)[_index(index, len(self), type(self).__name__)], module)

    def __delitem__(self, index):
        keys = list(self._modules)
        if isinstance(index, slice):
            for key in keys[index]:
                del self._modules[key]
        else:
            del self._modules[keys[_index(index, len(keys), type(self).__name__)]]
        self._renumber()

    def _renumber(self):
        modules = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (clamped to the ends, like list.insert)."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_Indexed):
    """Calls its modules in order, each on the previous one's output.

    ``Sequential(m0, m1, ...)`` names them "0", "1", ...; ``Sequential(OrderedDict(name=m))``
    keeps the given names. Slicing gives a Sequential of the same module objects.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    @staticmethod
    def _from_items(items):
        return Sequential(OrderedDict(items))

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_Indexed):
    """A list of modules, registered so that their parameters belong to the owner. It has no
    ``forward``: the owner decides how to call them."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @staticmethod
    def _from_items(items):
        return ModuleList(module for _, module in items)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def __repr__(self):
        """Runs of identical-looking modules are shown once: ``(0-2): 3 x Linear(...)``."""
        if not self._modules:
            return "ModuleList()"
        groups = []                                   # [first index, last index, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if groups and groups[-1][2] == text:
                groups[-1][1] = i
            else:
                groups.append([i, i, text])
        lines = []
        for first, last, text in groups:
            if first == last:
                lines.append(f"({first}): {_indent(text, 2)}")
            else:
                lines.append(f"({first}-{last}): {last - first + 1} x {_indent(text, 2)}")
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules (insertion ordered), registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add the (key, module) pairs of a mapping, a ModuleDict or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for pair in pairs:
            key, module = pair
            self[key] = module


def _as_parameter(value):
    """A plain tensor is wrapped as a Parameter on the way in, as PyTorch does."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(param):
    size = "x".join(str(n) for n in param.shape)
    where = "" if param.device.type == "cpu" else f" ({param.device})"
    return f"Parameter containing: [{param.dtype} of size {size}{where}]"


class ParameterList(Module):
    """A list of parameters, registered under "0", "1", ... (state-dict keys ``0``, ``1``)."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self)[index])
        return self._parameters[str(_index(index, len(self), "ParameterList"))]

    def __setitem__(self, index, param):
        index = _index(index, len(self), "ParameterList")
        self.register_parameter(str(index), _as_parameter(param))

    def append(self, value):
        """Add ``value`` (a tensor becomes a Parameter) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def extra_repr(self):
        return "\n".join(f"({i}): {_describe(p)}" for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters (insertion ordered), registered under their keys."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def clear(self):
        self._parameters.clear()

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def update(self, parameters):
        """Add the (key, parameter) pairs of a mapping or an iterable of pairs. As in PyTorch, a
        plain (unordered) mapping is added in sorted key order; an OrderedDict or a
        ParameterDict keeps its own order."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        if hasattr(parameters, "items") and not isinstance(parameters,
                                                           (OrderedDict, ParameterDict)):
            pairs = sorted(pairs)
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({key}): {_describe(p)}" for key, p in self.items())
