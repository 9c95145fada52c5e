"""``tg.linalg``: the linear-algebra namespace of PyTorch's ``torch.linalg`` (vector norms,
chained matrix products)."""

from tinygen.ops.fused_products import multi_dot
from tinygen.ops.norm import vector_norm

__all__ = ["multi_dot", "vector_norm"]
