"""Optimizer hooks with PyTorch's semantics: step pre/post hooks (per optimizer and global, as
``torch.optim.optimizer.register_optimizer_step_pre_hook``) and state-dict hooks.

``OptimizerHooks`` wraps ``step``, ``state_dict`` and ``load_state_dict`` once in every class
that defines them (``__init_subclass__``, as PyTorch's ``profile_hook_step`` patches ``step``), so
an optimizer's own ``step`` runs its hooks as the base class's does. A ``step`` that calls
``super().step()`` runs the hooks once: the inner call sees the outer one running.
"""

import functools
from collections import OrderedDict
from itertools import chain
from typing import Callable, Optional

from tinygen.nn.hooks import add_hook

_global_pre_hooks = OrderedDict()
_global_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's step, before the
    optimizer's own pre-hooks; returning ``(new_args, new_kwargs)`` replaces the arguments."""
    return add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's step, after the
    optimizer's own post-hooks."""
    return add_hook(_global_post_hooks, hook)


def _hooks(optimizer, kind):
    """The optimizer's ordered dict of hooks of ``kind``, made on first use."""
    return optimizer.__dict__.setdefault("_optimizer_hook_dicts", {}).setdefault(
        kind, OrderedDict())


def _running(method, name=None):
    """``method`` wrapped to run its hooks (by ``_call_hooked``) unless an outer call of the
    same name on the same optimizer is already running them. ``name``: whose hooks (``step``,
    ``state_dict``, ``load_state_dict``), by default the method's own name."""
    name = name or method.__name__

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        busy = self.__dict__.setdefault("_optimizer_hooks_busy", set())
        if name in busy:
            return method(self, *args, **kwargs)
        busy.add(name)
        try:
            return _CALLERS[name](method, self, args, kwargs)
        finally:
            busy.discard(name)
    wrapper._runs_hooks = True
    return wrapper


def _step(method, self, args, kwargs):
    args = (self, *args)
    for hook in chain(_global_pre_hooks.values(), _hooks(self, "step_pre").values()):
        result = hook(self, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{method} must return None or a tuple of (new_args, "
                                   f"new_kwargs), but got {result}.")
            args, kwargs = result
    out = method(*args, **kwargs)
    for hook in chain(_hooks(self, "step_post").values(), _global_post_hooks.values()):
        hook(self, args, kwargs)
    return out


def _state_dict(method, self, args, kwargs):
    for hook in list(_hooks(self, "state_dict_pre").values()):
        hook(self)
    state_dict = method(self, *args, **kwargs)
    for hook in list(_hooks(self, "state_dict_post").values()):
        result = hook(self, state_dict)
        state_dict = state_dict if result is None else result
    return state_dict


def _load_state_dict(method, self, args, kwargs):
    (state_dict,) = args or (kwargs.pop("state_dict"),)
    for hook in list(_hooks(self, "load_state_dict_pre").values()):
        result = hook(self, state_dict)
        state_dict = state_dict if result is None else result
    out = method(self, state_dict, **kwargs)
    for hook in list(_hooks(self, "load_state_dict_post").values()):
        hook(self)
    return out


_CALLERS = {"step": _step, "state_dict": _state_dict, "load_state_dict": _load_state_dict}


class OptimizerHooks:
    """The hook registration methods of ``Optimizer``, and the wrapping of its subclasses'
    ``step``, ``state_dict`` and ``load_state_dict``."""

    # The types of step hooks, as PyTorch names them (for annotations).
    OptimizerPreHook = Callable[..., Optional[tuple]]
    OptimizerPostHook = Callable[..., None]

    @staticmethod
    def profile_hook_step(func):
        """``func`` (a ``step``) wrapped to run the step pre- and post-hooks around it, as
        PyTorch's decorator (which also opens a profiler range: tinygen has no profiler).
        Subclasses' ``step`` methods are wrapped so already (``__init_subclass__``)."""
        return func if getattr(func, "_runs_hooks", False) else _running(func, "step")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _CALLERS:
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "_runs_hooks", False):
                setattr(cls, name, _running(method))

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before each ``step`` (``args`` starts with
        the optimizer); returning ``(new_args, new_kwargs)`` replaces what step gets."""
        return add_hook(_hooks(self, "step_pre"), hook)

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return add_hook(_hooks(self, "step_post"), hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Call ``hook(optimizer)`` before ``state_dict`` builds the dict."""
        return add_hook(_hooks(self, "state_dict_pre"), hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Call ``hook(optimizer, state_dict)`` on the built dict; a returned dict replaces it."""
        return add_hook(_hooks(self, "state_dict_post"), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Call ``hook(optimizer, state_dict)`` before loading; a returned dict is loaded
        instead."""
        return add_hook(_hooks(self, "load_state_dict_pre"), hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Call ``hook(optimizer)`` once ``load_state_dict`` has loaded."""
        return add_hook(_hooks(self, "load_state_dict_post"), hook, prepend)
