"""``tg.nn.modules``, as ``torch.nn.modules``: where scripts find ``module.Module`` and the
module-global hooks (``nn.modules.module.register_module_forward_hook``)."""

from tinygen.nn.modules import module  # noqa: F401

__all__ = ["module"]
