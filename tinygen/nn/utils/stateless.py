"""``nn.utils.stateless.functional_call``, as PyTorch's: call a module with some of its
parameters and buffers replaced by given tensors, for the call only.

The given tensors are put into the modules' ``_parameters`` / ``_buffers`` dicts (where
attribute lookup finds them) and the originals are put back afterwards, also when the call
raises. Gradients of the output flow to the given tensors, not to the module's own.
"""

from contextlib import contextmanager

_MISSING = object()


def _state_names(module):
    """Every parameter and buffer name, tied ones (one tensor under several names) included."""
    return ([n for n, _ in module.named_parameters(remove_duplicate=False)]
            + [n for n, _ in module.named_buffers(remove_duplicate=False)])


def _untie(module, tensors):
    """``tensors`` extended to every name tied to a given one; several different values for
    one tied tensor is an error."""
    groups = {}
    for named in (module.named_parameters(remove_duplicate=False),
                  module.named_buffers(remove_duplicate=False)):
        for name, t in named:
            groups.setdefault(id(t), set()).add(name)
    out = dict(tensors)
    for names in groups.values():
        given = [n for n in names if n in tensors]
        if len(names) < 2 or not given:
            continue
        if len({id(tensors[n]) for n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, "
                             f"which are tied. Consider using tie_weights=False")
        for name in names:
            out[name] = tensors[given[0]]
    return out


def _swap(module, name, tensor):
    """Put ``tensor`` at dotted ``name``; returns (dict, key, old value) to undo it."""
    prefix, _, attr = name.rpartition(".")
    owner = module.get_submodule(prefix)
    for registry in (owner._parameters, owner._buffers):
        if attr in registry:
            old, registry[attr] = registry[attr], tensor
            return registry, attr, old
    old = owner.__dict__.get(attr, _MISSING)
    object.__setattr__(owner, attr, tensor)
    return owner.__dict__, attr, old


@contextmanager
def _reparametrize_module(module, tensors, tie_weights=True, strict=False):
    """Within the block, ``module``'s state named in ``tensors`` is replaced by them."""
    if tie_weights:
        tensors = _untie(module, tensors)
    if strict:
        names = _state_names(module)
        unexpected = [k for k in tensors if k not in names]
        missing = [k for k in names if k not in tensors]
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                module._get_name(), "\n\t".join(msgs)))
    undo = []
    try:
        for name, tensor in tensors.items():
            undo.append(_swap(module, name, tensor))
        yield
    finally:
        for registry, key, old in reversed(undo):
            if old is _MISSING:
                registry.pop(key, None)
            else:
                registry[key] = old


def _merge(dicts):
    """One dict from a dict or a sequence of dicts with no key in two of them."""
    if isinstance(dicts, dict):
        return dicts
    merged = {}
    for d in dicts:
        repeated = sorted(set(merged) & set(d))
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             f"functional call is ambiguous")
        merged.update(d)
    return merged


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the parameters and buffers named in
    ``parameters_and_buffers`` (a dict, or a tuple of dicts, of dotted names to tensors)
    replaced for this call. ``tie_weights``: a tensor registered under several names is
    replaced under all of them; ``strict``: the names must be exactly the module's."""
    tensors = _merge(parameters_and_buffers)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, tensors, tie_weights=tie_weights, strict=strict):
        return module(*args, **(kwargs or {}))
