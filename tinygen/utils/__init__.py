"""Utilities with PyTorch's names: ``tinygen.utils.data`` is ``torch.utils.data``,
``tinygen.utils.checkpoint`` is ``torch.utils.checkpoint``."""

from tinygen.utils import checkpoint, data  # noqa: F401

__all__ = ["checkpoint", "data"]
