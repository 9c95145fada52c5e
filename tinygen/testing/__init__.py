"""``tg.testing``, as ``torch.testing``: ``assert_close`` and ``make_tensor``.

``assert_close`` follows ``torch/testing/_comparison.py``: the same pass/fail decisions, default
tolerances per dtype and error messages (dtypes print as ``tinygen.float32`` and shapes as
tuples where PyTorch prints ``torch.float32`` and ``torch.Size``). ``assert_allclose``,
deprecated in PyTorch since 1.12, is left out.
"""

from tinygen.testing.comparison import assert_close
from tinygen.testing.creation import make_tensor

__all__ = ["assert_close", "make_tensor"]
