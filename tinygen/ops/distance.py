"""Distances between vectors: ``pairwise_distance``, ``cosine_similarity`` and ``normalize``
(scaling to unit p-norm), as in ``torch.nn.functional``.

The p-norms are ``vector_norm``'s, whose gradient at a zero vector is 0 (not nan), and the small
``eps`` of each function keeps the divisions finite for zero vectors.
"""

import numpy as np

from tinygen.autograd.function import ArrayFunction
from tinygen.backend import get_array_module
from tinygen.ops.compare import clamp
from tinygen.ops.norm import vector_norm
from tinygen.ops.shape import broadcast_to


class ClampMinForward(ArrayFunction):
    """y = max(x, floor);  dy/dx = 1 everywhere. PyTorch clamps the norms of cosine_similarity
    and the variance of gaussian_nll_loss in place under no_grad, so their gradient flows as if
    they were not clamped; this op does the same."""
    @staticmethod
    def forward(ctx, x, floor):
        return get_array_module(x).maximum(x, floor).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, None


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension (eps keeps the norm's gradient finite when
    x1 == x2); x1 and x2 broadcast against each other."""
    dim = -1 if max(x1.ndim, x2.ndim) > 0 else None
    return vector_norm(x1 - x2 + eps, p, dim, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) over ``dim``, after broadcasting x1
    and x2 together. Dividing each vector by its own norm first (as PyTorch does) keeps the
    result in [-1, 1] without overflow in a product of norms."""
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)
    n1 = ClampMinForward.apply(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = ClampMinForward.apply(vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) over ``dim``: unit-length vectors, zero vectors left 0."""
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    return input / clamp(vector_norm(input, p, dim, keepdim=True), min=eps)
