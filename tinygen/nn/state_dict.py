"""State dicts: a module's parameters and persistent buffers by dotted name, saved and loaded
with PyTorch's rules, signatures and error messages.

``StateDictMixin`` gives ``Module`` its ``state_dict`` and ``load_state_dict`` (and the per-module
``_save_to_state_dict`` / ``_load_from_state_dict`` that layers override, as BatchNorm does). It
reads the module's ``_parameters``, ``_buffers``, ``_non_persistent_buffers_set`` and
``_modules``, which ``Module`` keeps.

A module that overrides ``get_extra_state``/``set_extra_state`` adds ``<prefix>_extra_state``
(any object ``tg.save`` stores) to its state dict, as PyTorch's. The state-dict hooks
(``register_state_dict_pre_hook`` and the others) are kept in ``_state_dict_hook_dicts``.
"""

from collections import OrderedDict, namedtuple

from tinygen.autograd.grad_mode import no_grad
from tinygen.nn.parameter import Parameter
from tinygen.tensor import Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it could not match."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


_EXTRA_STATE = "_extra_state"


def state_hooks(module, kind):
    """The ordered dict (handle id -> hook) of ``module``'s state-dict hooks of ``kind``:
    "pre", "post", "load_pre" or "load_post", made on first use."""
    hook_dicts = module.__dict__.setdefault("_state_dict_hook_dicts", {})
    return hook_dicts.setdefault(kind, OrderedDict())


def _hooks_of(module, kind):
    return list(module.__dict__.get("_state_dict_hook_dicts", {}).get(kind, {}).values())


class StateDictMixin:
    """``state_dict`` and ``load_state_dict`` for ``Module``."""

    def get_extra_state(self):
        """What to store under ``<prefix>_extra_state`` in the state dict; override it, with
        ``set_extra_state``, to save state that is not a parameter or buffer."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called: override get_extra_state in the module to use it")

    def set_extra_state(self, state):
        """Restore what ``get_extra_state`` returned, from ``load_state_dict``."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called: override set_extra_state in the module to use it")

    def _has_extra_state(self, method):
        return getattr(type(self), method) is not getattr(StateDictMixin, method)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Put this module's own parameters and persistent buffers into ``destination``."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if self._has_extra_state("get_extra_state"):
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict from dotted names to tensors (detached, sharing memory): every
        parameter and persistent buffer, this module's own first, then each child's."""
        destination = OrderedDict() if destination is None else destination
        for hook in _hooks_of(self, "pre"):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        local_metadata = {"version": getattr(self, "_version", 1)}
        for hook in _hooks_of(self, "post"):
            if hook(self, destination, prefix, local_metadata) is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Copy this module's own entries from ``state_dict``, collecting what does not fit
        (PyTorch's signature, so a module can override it to convert old checkpoints).
        Missing and unexpected keys are always collected: ``load_state_dict`` decides whether
        they raise, and passes ``strict=True`` here as PyTorch does."""
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = {k: v for k, v in {**self._parameters, **persistent}.items() if v is not None}
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                if not hasattr(value, "__array_namespace__"):
                    error_msgs.append(f'While copying the parameter named "{key}", expected '
                                      f'a Tensor from the checkpoint but received '
                                      f'{type(value).__name__}')
                    continue
                value = Tensor(value)
            if tuple(value.shape) != tuple(target.shape):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{tuple(value.shape)} from checkpoint, the shape in current "
                                  f"model is {tuple(target.shape)}.")
                continue
            if local_metadata.get("assign_to_params_buffers", False):
                if name in self._parameters:
                    setattr(self, name, Parameter(value, target.requires_grad))
                else:
                    self._buffers[name] = value
                continue
            with no_grad():
                target.copy_(value)
        for key in state_dict:
            if key.startswith(prefix):
                name, *rest = key[len(prefix):].split(".", 1)
                # a longer key must lead into a child: "weight.foo" names nothing
                if name not in (self._modules if rest else local):
                    unexpected_keys.append(key)
        extra_key = prefix + _EXTRA_STATE
        if self._has_extra_state("set_extra_state"):
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
            if extra_key in unexpected_keys:
                unexpected_keys.remove(extra_key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` into this module (in place, so the
        Parameter objects, and the optimizers holding them, stay the same).

        Values are tinygen tensors or arrays (NumPy, CuPy). Returns the named tuple
        ``(missing_keys, unexpected_keys)``, both collected whatever ``strict``; with
        ``strict=True`` either being non-empty is a RuntimeError, and a shape mismatch always is.
        ``assign=True`` instead makes the checkpoint's tensors the new parameters and buffers
        (sharing their memory and dtype).
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        state_dict = OrderedDict(state_dict)    # a copy: a module may fill in keys (BatchNorm)
        for key, value in state_dict.items():
            if type(value).__module__.startswith("torch"):  # by name: torch is not a dependency
                raise TypeError(
                    f"the value for key {key!r} is a torch.Tensor, which tinygen does not read "
                    f"directly; convert the state dict first with "
                    f"{{k: v.detach().cpu().numpy() for k, v in sd.items()}}, or save it with "
                    f"safetensors.torch.save_file and read that file with tg.load")
        missing, unexpected, errors = [], [], []
        metadata = {"assign_to_params_buffers": assign}

        def load(module, prefix):
            for hook in _hooks_of(module, "load_pre"):
                hook(module, state_dict, prefix, metadata, True, missing, unexpected, errors)
            module._load_from_state_dict(state_dict, prefix, metadata, True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            incompatible = _IncompatibleKeys(missing, unexpected)   # hooks may edit the lists
            for hook in _hooks_of(module, "load_post"):
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace.")
        load(self, "")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)
