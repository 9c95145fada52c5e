"""``tinygen.nn.functional`` (imported as ``F``): the stateless forms of the layers and losses.

Each name is defined beside the op it runs (``tinygen/ops/``) or the layer that uses it; this
file gathers them under PyTorch's names.
"""

from tinygen.nn.linear import linear  # noqa: F401
from tinygen.ops.activation import gelu, leaky_relu, relu, silu  # noqa: F401
from tinygen.ops.attention import scaled_dot_product_attention  # noqa: F401
from tinygen.ops.dropout import dropout  # noqa: F401
from tinygen.ops.elementwise import sigmoid, tanh  # noqa: F401
from tinygen.ops.normalization import batch_norm, group_norm, layer_norm  # noqa: F401
from tinygen.ops.reduce import log_softmax, softmax  # noqa: F401
from tinygen.ops.sparse import embedding  # noqa: F401
