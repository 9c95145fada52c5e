"""Weight normalization with forward pre-hooks, as PyTorch's older ``nn.utils.weight_norm``
(Salimans & Kingma 2016, "Weight Normalization", eq. 2: w = g v / ||v||).

The module keeps ``weight_g`` (the norms) and ``weight_v`` (the direction), both parameters:
PyTorch's state-dict keys. ``parametrizations.weight_norm`` is the newer form.
"""

import warnings

from tinygen.nn.parameter import Parameter
from tinygen.nn.utils._hooks import find_pre_hook
from tinygen.ops.norm import vector_norm


def norm_except_dim(v, dim):
    """The 2-norm of v over every dim but ``dim``, keeping dims (so it broadcasts against v);
    ``dim=-1`` (PyTorch's code for ``dim=None``) is the norm of the whole tensor, 0-d."""
    if dim == -1:
        return vector_norm(v)
    dim = dim % v.ndim
    return vector_norm(v, 2, dim=tuple(d for d in range(v.ndim) if d != dim), keepdim=True)


def weight_norm_from(v, g, dim):
    """w = g * v / ||v||, the norm taken as in ``norm_except_dim``."""
    return v * (g / norm_except_dim(v, dim))


class WeightNorm:
    """The forward pre-hook that sets ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return weight_norm_from(getattr(module, self.name + "_v"),
                                getattr(module, self.name + "_g"), self.dim)

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as g * v / ||v|| with a forward pre-hook, the norm taken
    over every dim but ``dim`` (over everything when ``dim=None``). Returns ``module``."""
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=2)
    if find_pre_hook(module, WeightNorm, name) is not None:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                           f"{name}")
    fn = WeightNorm(name, dim)
    weight = getattr(module, name)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, fn.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` becomes a parameter again. Returns ``module``."""
    key = find_pre_hook(module, WeightNorm, name)
    if key is None:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    module._module_hooks.pop(key).fn.remove(module)
    return module
