"""Spectral and weight normalization as parametrizations, as PyTorch's
``nn.utils.parametrizations``: the module keeps ``parametrizations.weight.original`` (spectral
norm, with buffers ``parametrizations.weight.0._u`` and ``_v``) or ``original0`` (g) and
``original1`` (v) for weight norm, and ``module.weight`` is computed on every access.
``orthogonal`` (an orthogonal weight from an unconstrained one) is in ``orthogonal.py``.
"""

from tinygen.autograd.grad_mode import no_grad
from tinygen.nn.module import Module
from tinygen.nn.utils.parametrize import register_parametrization
from tinygen.nn.utils.orthogonal import orthogonal
from tinygen.nn.utils.spectral_norm import (
    default_dim, random_unit_vector, reshape_weight_to_matrix)
from tinygen.nn.utils.weight_norm import norm_except_dim, weight_norm_from
from tinygen.ops.distance import normalize
from tinygen.ops.linalg import dot
from tinygen.tensor import Tensor


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value of the weight as a matrix, estimated
    by power iteration (Miyato et al. 2018, Algorithm 1): u = normalize(W v) then
    v = normalize(W^T u), one step per access in training mode, 15 at registration.
    A 1-D weight is simply scaled to unit length."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with no_grad():
                weight_mat = reshape_weight_to_matrix(weight, self.dim)     # (h, w)
                h, w = weight_mat.shape
                self.register_buffer("_u", random_unit_vector(h, weight, eps))
                self.register_buffer("_v", random_unit_vector(w, weight, eps))
            self._power_method(weight_mat, 15)

    def _power_method(self, weight_mat, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(weight_mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(normalize(weight_mat.T @ self._u, dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = reshape_weight_to_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # clones: the next step changes u and v in place, and the backward needs these
        sigma = dot(self._u.clone(), weight_mat @ self._v.clone())
        return weight / sigma

    def right_inverse(self, value):
        """Assigning a weight stores it as it is (its sigma is not known yet)."""
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Register the spectral-norm parametrization on ``module.<name>``; returns ``module``.
    ``dim`` (default: the output channels, 1 for transposed convolutions) is the dim kept as
    rows of the matrix."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = default_dim(module) if dim is None else dim
    register_parametrization(module, name,
                             _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _WeightNorm(Module):
    """w = g * v / ||v|| (Salimans & Kingma 2016), the norm over every dim but ``dim``."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_norm_from(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Register the weight-norm parametrization on ``module.<name>``: ``original0`` holds g and
    ``original1`` v. Checkpoints of the hook form (``<name>_g``, ``<name>_v``) load too, as in
    PyTorch. Returns ``module``."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    _read_hook_form_keys(module, name)
    return module


def _read_hook_form_keys(module, name):
    """Make ``load_state_dict`` rename ``<name>_g`` / ``<name>_v`` to ``original0`` /
    ``original1`` (PyTorch does it in a load pre-hook; here the module's own parametrized
    class wraps ``_load_from_state_dict``, which runs before its children load)."""
    cls = type(module)
    load_before = cls._load_from_state_dict

    def _load_from_state_dict(self, state_dict, prefix, *args):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)
        load_before(self, state_dict, prefix, *args)

    cls._load_from_state_dict = _load_from_state_dict


__all__ = ["orthogonal", "spectral_norm", "weight_norm"]
