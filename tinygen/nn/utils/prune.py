"""``nn.utils.prune``, as PyTorch's: zero out entries of a parameter with a mask.

Pruning ``name`` moves the parameter to ``name_orig``, adds a buffer ``name_mask`` and
registers a forward pre-hook (the pruning method itself) that sets ``module.name = orig * mask``
before every call, so gradients reach ``name_orig`` only where the mask is 1. Pruning again
wraps the methods in a ``PruningContainer`` that prunes among the entries still kept; ``remove``
makes the pruning permanent. Masks are computed on raw arrays (they carry no gradient).
"""

from tinygen.backend import get_array_module
from tinygen.creation import ones_like, rand
from tinygen.nn.utils.convert_parameters import parameters_to_vector
from tinygen.nn.utils.prune_base import (  # noqa: F401  (public names of nn.utils.prune)
    BasePruningMethod, PruningContainer, _pruning_hooks)
from tinygen.nn.utils.prune_methods import (
    _compute_nparams_toprune, _validate_pruning_amount, _validate_pruning_amount_init,
    _validate_pruning_dim, _validate_structured_pruning, topk_indices, ln_norm_channels)
from tinygen.tensor import Tensor


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (useful to add the pruning machinery)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _Unstructured(BasePruningMethod):
    """Prunes ``amount`` entries (an int, or a fraction of the entries): the first k of the
    order ``_scores`` ranks lowest."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _compute_nparams_toprune(self.amount, t.numel())
        _validate_pruning_amount(k, t.numel())
        mask = default_mask.array.copy()
        if k:
            mask.reshape(-1)[topk_indices(self._scores(t).reshape(-1), k, largest=False)] = 0
        return Tensor(mask)


class RandomUnstructured(_Unstructured):
    """Prunes ``amount`` entries chosen at random."""

    def _scores(self, t):
        return rand(*t.shape, device=t.device).array

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes the ``amount`` entries of smallest absolute value (or importance score); among
    equal values, the lower index."""

    def _scores(self, t):
        return get_array_module(t.array).abs(t.array)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` whole channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        n = t.shape[self.dim]
        k = _compute_nparams_toprune(self.amount, n)
        _validate_pruning_amount(k, n)
        if k == 0:
            return default_mask
        prob = rand(n, device=t.device).array
        keep = get_array_module(prob).argsort(prob, kind="stable")[k:]
        return _channel_mask(t, self.dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(k, size)
        if k == 0:
            return default_mask
        norm = ln_norm_channels(t.array, self.n, self.dim)
        keep = topk_indices(norm, size - k, largest=True)
        return _channel_mask(t, self.dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


def _channel_mask(t, dim, keep, default_mask):
    """Ones on the kept channels along ``dim``, times the current mask."""
    xp = get_array_module(t.array)
    mask = xp.zeros(t.shape, dtype=t.array.dtype)
    slc = [slice(None)] * t.ndim
    slc[dim] = xp.asarray(keep, dtype=xp.int64)
    mask[tuple(slc)] = 1
    return Tensor(mask * default_mask.array.astype(mask.dtype))


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"mask of shape {tuple(self.mask.shape)} does not match the "
                             f"tensor's shape {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Add the pruning machinery to ``module.<name>`` without pruning anything."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest |w|; returns module."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels along ``dim`` of smallest Ln norm; returns module."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) pairs in ``parameters`` together: ``pruning_method`` (an
    unstructured one) sees all of them as one vector, so ``amount`` counts across them."""
    parameters = list(parameters)
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([importance_scores.get((m, n), getattr(m, n))
                                   for m, n in parameters])
    default_mask = parameters_to_vector([getattr(m, n + "_mask") if hasattr(m, n + "_mask")
                                         else ones_like(getattr(m, n))
                                         for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f'Found method {pruning_method} of type {method.PRUNING_TYPE}')
    container.add_pruning_method(method)
    final = container.compute_mask(scores.detach(), default_mask.detach())
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        custom_from_mask(module, name, final[start:start + param.numel()].view_as(param))
        start += param.numel()


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent and drop its hook, orig and mask."""
    found = _pruning_hooks(module, name)
    if not found:
        raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before "
                         f"pruning can be removed")
    key, method = found[0]
    method.remove(module)
    del module._module_hooks[key]
    return module


def is_pruned(module):
    """Whether ``module`` or any submodule has a pruning hook."""
    return any(_pruning_hooks(m) for _, m in module.named_modules())
