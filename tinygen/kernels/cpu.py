"""The fused CPU kernels: Numba twins of every function in ``reference.py``, with the same names
and arguments. The dispatcher imports this module on the first fused call on a NumPy array, so
Numba is imported (and each kernel compiled, or loaded from its disk cache) only then.

Each family lives in its own file: rows (softmax, cross-entropy), norms, activations,
pointwise (BCE, Adam) and conv (im2col, col2im); ``cpu_vecmath.py`` holds their shared math.
A kernel missing here runs its reference.
"""

from tinygen.kernels.cpu_activation import (
    bias_act, bias_act_backward, gelu, gelu_backward, leaky_relu, leaky_relu_backward,
    relu_backward)
from tinygen.kernels.cpu_conv import col2im, im2col
from tinygen.kernels.cpu_norm import (
    batch_norm, batch_norm_backward, batch_norm_eval, layer_norm, layer_norm_backward)
from tinygen.kernels.cpu_pointwise import adam_step, bce_with_logits, bce_with_logits_backward
from tinygen.kernels.cpu_rows import (
    causal_softmax, cross_entropy, log_softmax, log_softmax_backward, softmax, softmax_backward)

__all__ = [
    "adam_step", "batch_norm", "batch_norm_backward", "batch_norm_eval", "bce_with_logits",
    "bce_with_logits_backward", "bias_act", "bias_act_backward", "causal_softmax", "col2im",
    "cross_entropy", "gelu", "gelu_backward", "im2col", "layer_norm", "layer_norm_backward",
    "leaky_relu", "leaky_relu_backward", "log_softmax", "log_softmax_backward",
    "relu_backward", "softmax", "softmax_backward",
]
