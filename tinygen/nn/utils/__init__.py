"""``nn.utils``, as in PyTorch: gradient clipping, parameters to and from one vector,
parametrizations (``parametrize``, ``parametrizations``) and the older hook-based spectral and
weight normalization."""

from tinygen.nn.utils import parametrizations, parametrize, rnn
from tinygen.nn.utils.clip_grad import (
    clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm)
from tinygen.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from tinygen.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from tinygen.nn.utils.weight_norm import remove_weight_norm, weight_norm
from tinygen.nn.utils import prune, stateless  # noqa: E402  (pruning; functional_call)
from tinygen.nn.utils.fusion import (  # noqa: E402
    fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights)
from tinygen.nn.utils.skip_init import skip_init  # noqa: E402

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "parametrizations", "parametrize", "remove_spectral_norm",
           "remove_weight_norm", "rnn", "spectral_norm", "vector_to_parameters", "weight_norm"]
__all__ += ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
            "fuse_linear_bn_weights", "prune", "skip_init", "stateless"]
from tinygen.nn.utils.deprecated import clip_grad_norm  # noqa: E402
from tinygen.nn.utils.memory_format import (  # noqa: E402
    convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format)

__all__ += ["clip_grad_norm", "convert_conv2d_weight_memory_format",
            "convert_conv3d_weight_memory_format"]
