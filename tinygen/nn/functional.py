"""``tinygen.nn.functional`` (imported as ``F``): the stateless forms of the layers and losses.

Each name is defined beside the op it runs (``tinygen/ops/``) or the layer that uses it; this
file gathers them under PyTorch's names.
"""

from tinygen.nn.embedding import embedding  # noqa: F401
from tinygen.nn.linear import linear  # noqa: F401
from tinygen.ops.activation import gelu, leaky_relu, relu, silu  # noqa: F401
from tinygen.ops.attention import scaled_dot_product_attention  # noqa: F401
from tinygen.ops.conv import conv2d, conv_transpose2d  # noqa: F401
from tinygen.ops.cross_entropy import cross_entropy, nll_loss  # noqa: F401
from tinygen.ops.dropout import dropout  # noqa: F401
from tinygen.ops.elementwise import sigmoid, tanh  # noqa: F401
from tinygen.ops.interpolate import interpolate  # noqa: F401
from tinygen.ops.loss import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, gaussian_kl, kl_div, l1_loss, mse_loss)
from tinygen.ops.normalization import batch_norm, group_norm, layer_norm  # noqa: F401
from tinygen.ops.pad import pad  # noqa: F401
from tinygen.ops.pool import avg_pool2d, max_pool2d  # noqa: F401
from tinygen.ops.reduce import log_softmax, softmax  # noqa: F401
