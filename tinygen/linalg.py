"""``tg.linalg``: the linear-algebra namespace of PyTorch's ``torch.linalg`` (vector norms)."""

from tinygen.ops.norm import vector_norm

__all__ = ["vector_norm"]
