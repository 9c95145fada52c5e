"""Finding the forward pre-hook that the old hook-based ``spectral_norm`` / ``weight_norm``
registered on a module."""


def find_pre_hook(module, cls, name):
    """The key in ``module._module_hooks`` of the forward pre-hook of type ``cls`` acting on
    ``name``, or None."""
    for key, hook in module._module_hooks.items():
        if hook.kind == "forward_pre" and isinstance(hook.fn, cls) and hook.fn.name == name:
            return key
    return None
