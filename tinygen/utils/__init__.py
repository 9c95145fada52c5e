"""Utilities with PyTorch's names: ``tinygen.utils.data`` is ``torch.utils.data``,
``tinygen.utils.checkpoint`` is ``torch.utils.checkpoint``, ``tinygen.utils.hooks`` is
``torch.utils.hooks``."""

from tinygen.utils import checkpoint, data, hooks  # noqa: F401

__all__ = ["checkpoint", "data", "hooks"]
