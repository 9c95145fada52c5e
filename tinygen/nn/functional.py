"""``tinygen.nn.functional`` (imported as ``F``): the stateless forms of the layers and losses.

Each name is defined beside the op it runs (``tinygen/ops/``) or the layer that uses it; this
file gathers them under PyTorch's names.
"""

from tinygen.nn.linear import linear  # noqa: F401
