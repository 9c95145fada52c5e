"""Utilities with PyTorch's names: ``tinygen.utils.data`` is ``torch.utils.data``."""

from tinygen.utils import data  # noqa: F401

__all__ = ["data"]
