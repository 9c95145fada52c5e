"""``tinygen.nn.functional`` (imported as ``F``): the stateless forms of the layers and losses.

Each name is defined beside the op it runs (``tinygen/ops/``) or the layer that uses it; this
file gathers them under PyTorch's names.
"""

from tinygen.nn.bilinear import bilinear  # noqa: F401
from tinygen.nn.embedding import embedding  # noqa: F401
from tinygen.nn.fold import fold, unfold  # noqa: F401
from tinygen.nn.linear import linear  # noqa: F401
from tinygen.nn.pixel_shuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from tinygen.ops.activation import (  # noqa: F401
    celu, elu, gelu, glu, hardsigmoid, hardswish, hardtanh, leaky_relu, logsigmoid, mish, prelu,
    relu, relu6, selu, silu, softmin, softplus, softsign, tanhshrink, threshold)
from tinygen.ops.adaptive_pool import adaptive_avg_pool2d, adaptive_max_pool2d  # noqa: F401
from tinygen.ops.attention import scaled_dot_product_attention  # noqa: F401
from tinygen.ops.conv import conv2d, conv_transpose2d  # noqa: F401
from tinygen.ops.conv1d import conv1d, conv_transpose1d  # noqa: F401
from tinygen.ops.cross_entropy import cross_entropy, nll_loss  # noqa: F401
from tinygen.ops.dropout import alpha_dropout, dropout, dropout1d, dropout2d  # noqa: F401
from tinygen.ops.elementwise import sigmoid, tanh  # noqa: F401
from tinygen.ops.interpolate import interpolate  # noqa: F401
from tinygen.ops.distance import cosine_similarity, normalize, pairwise_distance  # noqa: F401
from tinygen.ops.encoding import one_hot  # noqa: F401
from tinygen.ops.loss import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, gaussian_kl, gaussian_nll_loss,
    huber_loss, kl_div, l1_loss, mse_loss, poisson_nll_loss, smooth_l1_loss)
from tinygen.ops.margin_loss import (  # noqa: F401
    cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss, multilabel_soft_margin_loss,
    soft_margin_loss, triplet_margin_loss)
from tinygen.ops.normalization import (  # noqa: F401
    batch_norm, group_norm, instance_norm, layer_norm, rms_norm)
from tinygen.ops.pad import pad  # noqa: F401
from tinygen.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d  # noqa: F401
from tinygen.ops.reduce import log_softmax, softmax  # noqa: F401
from tinygen.ops.special import hardshrink, softshrink  # noqa: F401
from tinygen.nn.embedding_bag import embedding_bag  # noqa: F401
from tinygen.ops.grid_sample import affine_grid, grid_sample  # noqa: F401
from tinygen.ops.layer_ops import (  # noqa: F401
    celu_, channel_shuffle, elu_, gumbel_softmax, hardtanh_, leaky_relu_, local_response_norm,
    lp_pool1d, lp_pool2d, pdist, relu_, rrelu, rrelu_, selu_, threshold_)
from tinygen.ops.margin_loss import (  # noqa: F401
    multi_margin_loss, multilabel_margin_loss, triplet_margin_with_distance_loss)
from tinygen.ops.pool import max_pool1d_with_indices, max_pool2d_with_indices  # noqa: F401
from tinygen.ops.unpool import max_unpool1d, max_unpool2d  # noqa: F401
from tinygen.ops.ctc_loss import ctc_loss  # noqa: F401
from tinygen.ops.adaptive_pool import (  # noqa: F401
    adaptive_avg_pool1d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices, adaptive_max_pool3d, adaptive_max_pool3d_with_indices)
from tinygen.ops.conv3d import conv3d, conv_transpose3d  # noqa: F401
from tinygen.ops.dropout3d import dropout3d, feature_alpha_dropout  # noqa: F401
from tinygen.ops.pool3d import avg_pool3d, max_pool3d, max_pool3d_with_indices  # noqa: F401
from tinygen.ops.fractional_pool import fractional_max_pool2d  # noqa: F401
from tinygen.nn.deprecated import upsample, upsample_bilinear, upsample_nearest  # noqa: F401
from tinygen.nn.pools3d_more import (  # noqa: F401
    fractional_max_pool2d_with_indices, fractional_max_pool3d, fractional_max_pool3d_with_indices,
    lp_pool3d, max_unpool3d)
from tinygen.nn.attention_functional import multi_head_attention_forward  # noqa: F401
