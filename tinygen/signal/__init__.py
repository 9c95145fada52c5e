"""``tg.signal``, as ``torch.signal``: the window functions of ``tg.signal.windows``."""

from tinygen.signal import windows

__all__ = ["windows"]
