"""Distance layers: ``CosineSimilarity`` and ``PairwiseDistance``, thin Modules over the
functional forms in ``tinygen/ops/distance.py``."""

from tinygen.nn.module import Module
from tinygen.ops.distance import cosine_similarity, pairwise_distance


class CosineSimilarity(Module):
    """Cosine of the angle between x1 and x2 along ``dim``, norms floored at ``eps``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dim."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
