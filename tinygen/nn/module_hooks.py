"""The rest of ``nn.Module``'s public surface that PyTorch scripts call: lookups by dotted path
(``get_parameter``, ``get_buffer``, ``set_submodule``), the state-dict hooks, the deprecated
``register_backward_hook``, ``to_empty``/``type``/``bfloat16``/``share_memory``, and the
module-global forward hooks of ``nn.modules.module``.

Kept out of ``module.py`` (``Module`` inherits ``ModuleExtrasMixin``); the state-dict hooks run
in ``state_dict.py``, which keeps them per module in ``state_hooks(module, kind)``.
"""

from tinygen import creation, dtypes
from tinygen.autograd.grad_mode import no_grad
from tinygen.backend import Device
from tinygen.nn.hooks import Hook, add_hook, global_module_hooks
from tinygen.nn.state_dict import state_hooks


def register_module_forward_pre_hook(hook):
    """Call ``hook(module, args)`` before every module's ``forward``, before its own pre-hooks;
    a returned value replaces ``args``. Returns a handle whose ``remove()`` unregisters it."""
    return add_hook(global_module_hooks, Hook("forward_pre", hook, False, False))


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """Call ``hook(module, args, output)`` after every module's ``forward``, before its own
    forward hooks; a returned value replaces the output."""
    return add_hook(global_module_hooks, Hook("forward", hook, with_kwargs, always_call))


class ModuleExtrasMixin:
    """Dotted-path lookups, state-dict hooks and conversions for ``Module``."""

    # Lookups by dotted path

    def get_parameter(self, target):
        """The parameter at dotted path ``target`` (``"encoder.0.weight"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        if name not in module._parameters:
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return module._parameters[name]

    def get_buffer(self, target):
        """The buffer at dotted path ``target`` (``"bn.running_mean"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        if name not in module._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return module._buffers[name]

    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at dotted path ``target``, replacing what is there (a module) or,
        unless ``strict``, adding it under an existing parent."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        from tinygen.nn.module import Module
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        *parents, name = target.split(".")
        parent = self.get_submodule(".".join(parents))
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    # State-dict hooks (run in state_dict.py)

    def register_state_dict_pre_hook(self, hook):
        """Call ``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
        return add_hook(state_hooks(self, "pre"), hook)

    def register_state_dict_post_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once this module and its
        children are in ``state_dict``; it may edit the dict in place and must return None."""
        return add_hook(state_hooks(self, "post"), hook)

    def register_load_state_dict_pre_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` loads this module."""
        return add_hook(state_hooks(self, "load_pre"), hook)

    def register_load_state_dict_post_hook(self, hook):
        """Call ``hook(module, incompatible_keys)`` once this module and its children are
        loaded; editing ``incompatible_keys.missing_keys``/``unexpected_keys`` in place changes
        what ``strict`` checks and what ``load_state_dict`` returns."""
        return add_hook(state_hooks(self, "load_post"), hook)

    def register_backward_hook(self, hook):
        """The deprecated form of ``register_full_backward_hook``: ``hook(module, grad_input,
        grad_output)``. tinygen gives it the full hook's arguments (the gradients of the
        module's inputs), which PyTorch's deprecated hook only gives for single-op modules."""
        return self._add_hook(Hook("backward", hook, False, False), False)

    # Conversions

    def to_empty(self, *, device, recurse=True):
        """Replace every parameter's and buffer's values by uninitialised memory on ``device``
        (for modules built on the meta device in PyTorch; here, a fresh allocation)."""
        device = None if device is None else Device(device)
        modules = self.modules() if recurse else [self]
        with no_grad():
            for module in modules:
                for param in module._parameters.values():
                    if param is not None:
                        param.array = creation.empty_like(param, device=device).array
                for name, buf in module._buffers.items():
                    if buf is not None:
                        module._buffers[name] = creation.empty_like(buf, device=device)
        return self

    def type(self, dst_type):
        """Cast every parameter and buffer (floating or not) to ``dst_type``; returns self."""
        return self._apply(lambda t: t.type(dst_type))

    def bfloat16(self):
        """PyTorch casts to bfloat16; NumPy has no such type, so this raises tinygen's error."""
        dtypes.as_dtype(dtypes.bfloat16)
        return self                       # not reached: as_dtype raises

    def share_memory(self):
        """Returns self: tinygen's arrays are not moved to shared memory (PyTorch's is for
        torch.multiprocessing, which tinygen does not have)."""
        return self
