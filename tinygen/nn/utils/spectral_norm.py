"""Spectral normalization with forward pre-hooks, as PyTorch's older ``nn.utils.spectral_norm``
(Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks").

The weight W is divided by its largest singular value sigma, estimated by power iteration:
v = normalize(W^T u), u = normalize(W v), sigma = u^T W v (Algorithm 1 of the paper), one step
per training-mode forward. The module keeps ``weight_orig`` (a parameter) and ``weight_u``,
``weight_v`` (buffers): PyTorch's state-dict keys. ``parametrizations.spectral_norm`` is the
newer form of the same thing.
"""

from tinygen import creation
from tinygen.autograd.grad_mode import no_grad
from tinygen.nn.conv import ConvTranspose1d, ConvTranspose2d
from tinygen.nn.parameter import Parameter
from tinygen.nn.utils._hooks import find_pre_hook
from tinygen.ops.distance import normalize
from tinygen.ops.linalg import dot


def default_dim(module):
    """The dim of the output channels: 1 for transposed convolutions, else 0."""
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0


def reshape_weight_to_matrix(weight, dim):
    """``weight`` as a matrix (weight.shape[dim], rest) with ``dim`` moved first."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def random_unit_vector(n, like, eps):
    """A vector of n standard normals scaled to unit length (u and v start so)."""
    return normalize(creation.randn(n, dtype=like.dtype, device=like.device), dim=0, eps=eps)


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` = weight_orig / sigma before each call
    (running ``n_power_iterations`` steps first in training mode)."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.dim = dim
        self.eps = eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = reshape_weight_to_matrix(weight, self.dim)              # (h, w)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(weight_mat.T @ u, dim=0, eps=self.eps))
                    u.copy_(normalize(weight_mat @ v, dim=0, eps=self.eps))
        # clones: a later step changes u and v in place, and the backward needs these
        sigma = dot(u.clone(), weight_mat @ v.clone())
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectrally normalize ``module.<name>`` with a forward pre-hook; returns ``module``.
    ``dim`` (default: the output channels, see ``default_dim``) is the dim kept as rows of
    the matrix whose largest singular value is estimated."""
    if find_pre_hook(module, SpectralNorm, name) is not None:
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                           f"{name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"Module '{type(module).__name__}' has no parameter named '{name}'")
    dim = default_dim(module) if dim is None else dim
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    with no_grad():
        h, w = reshape_weight_to_matrix(weight, dim).shape
        u = random_unit_vector(h, weight, eps)
        v = random_unit_vector(w, weight, eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.data)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``module.<name>`` becomes a parameter holding the normalized
    weight (with the current u and v). Returns ``module``."""
    key = find_pre_hook(module, SpectralNorm, name)
    if key is None:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    module._module_hooks.pop(key).fn.remove(module)
    return module
