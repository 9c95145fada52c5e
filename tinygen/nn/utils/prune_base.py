"""The machinery of ``nn.utils.prune``: ``BasePruningMethod`` (a method is also the forward
pre-hook that recomputes the pruned tensor) and ``PruningContainer``, which composes methods
when a tensor is pruned again. The concrete methods and functions are in ``prune.py``."""

from abc import ABC, abstractmethod

from tinygen.backend import get_array_module
from tinygen.creation import ones_like
from tinygen.tensor import Tensor


class BasePruningMethod(ABC):
    """The base of pruning methods: ``compute_mask`` says what to keep; the instance is the
    forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig`` and ``<name>_mask``."""

    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for ``t`` given the current one (``default_mask``)."""

    def apply_mask(self, module):
        """``<name>_orig * <name>_mask`` of ``module``: the pruned tensor."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask.to(dtype=orig.dtype)

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` in place with ``cls(*args, **kwargs)``; returns the method
        (a PruningContainer when ``name`` was already pruned)."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise ValueError(f"importance_scores should have the same shape as parameter "
                                 f"{name} of {module}")
        else:
            importance_scores = orig
        fresh = not isinstance(method, PruningContainer)
        if fresh:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if fresh:
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times the mask computed from ``importance_scores`` (default ``t``)."""
        scores = t if importance_scores is None else importance_scores
        mask = self.compute_mask(scores, ones_like(t) if default_mask is None else default_mask)
        return t * mask.to(dtype=t.dtype)

    def remove(self, module):
        """Make the pruning permanent: ``<name>`` becomes a parameter holding orig * mask."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if self._tensor_name in module.__dict__:
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _pruning_hooks(module, name=None):
    """(key, method) of the pruning pre-hooks of ``module`` (on ``name`` if given)."""
    return [(k, h.fn) for k, h in module._module_hooks.items()
            if h.kind == "forward_pre" and isinstance(h.fn, BasePruningMethod)
            and (name is None or h.fn._tensor_name == name)]


def _composite_method(cls, module, name, *args, **kwargs):
    """The new method, combined with the one already pruning ``name`` (whose hook goes)."""
    found = _pruning_hooks(module, name)
    if len(found) > 1:
        raise RuntimeError(f"Avoid adding multiple pruning hooks to the same tensor {name} of "
                           f"module {module}. Use a PruningContainer.")
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not found:
        return method
    key, old = found[0]
    del module._module_hooks[key]
    if isinstance(old, PruningContainer):
        old.add_pruning_method(method)
        return old
    container = PruningContainer(old)
    container.add_pruning_method(method)
    return container


class PruningContainer(BasePruningMethod):
    """A sequence of pruning methods applied one after another: each new one prunes among the
    entries (unstructured) or channels (structured) that the current mask keeps."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        if len(methods) == 1:
            self._tensor_name = methods[0]._tensor_name
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """The last method's mask, computed on the part of ``t`` the current mask keeps."""
        method = self._pruning_methods[-1]
        mask = default_mask.array.astype(t.array.dtype)
        xp = get_array_module(mask)
        if method.PRUNING_TYPE == "unstructured":
            slc = mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have '
                                     'the attribute `dim` defined.')
            dim = method.dim % t.ndim
            others = tuple(d for d in range(t.ndim) if d != dim)
            slc = [slice(None)] * t.ndim
            slc[dim] = xp.nonzero(mask.sum(axis=others) != 0)[0]
            slc = tuple(slc)
        elif method.PRUNING_TYPE == "global":
            slc = (slice(None),) * t.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(Tensor(t.array[slc]), default_mask=Tensor(mask[slc]))
        new = mask.copy()
        new[slc] = partial.array.astype(new.dtype)
        return Tensor(new)
