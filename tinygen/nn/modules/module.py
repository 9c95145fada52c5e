"""``tg.nn.modules.module``, as ``torch.nn.modules.module``: ``Module`` and the hooks that
apply to every module."""

from tinygen.nn.module import Module  # noqa: F401
from tinygen.nn.module_hooks import (  # noqa: F401
    register_module_forward_hook, register_module_forward_pre_hook)

__all__ = ["Module", "register_module_forward_hook", "register_module_forward_pre_hook"]
