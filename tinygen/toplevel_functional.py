"""The functions PyTorch exports at top level beside ``torch.nn.functional`` (``tg.conv2d``,
``tg.layer_norm``, ``tg.dropout`` ...), the in-place function forms (``tg.exp_(x)``) and a few
small top-level ops (``tg.rsub``, ``tg.detach``, ``tg.randint_like``).

Where the top-level signature equals F's, it is F's function; where it differs (an ATen-style
argument order, ``train`` for ``training``, reductions as ints 0/1/2 for none/mean/sum, a
trailing ``cudnn_enabled``), a thin adapter calls F.
"""

from tinygen import creation, ops
from tinygen.nn import functional as F
from tinygen.tensor import Tensor

conv1d, conv2d = F.conv1d, F.conv2d
conv_transpose1d, conv_transpose2d = F.conv_transpose1d, F.conv_transpose2d
bilinear, prelu, pixel_shuffle, pixel_unshuffle = F.bilinear, F.prelu, F.pixel_shuffle, \
    F.pixel_unshuffle
pairwise_distance, cosine_similarity, rms_norm = F.pairwise_distance, F.cosine_similarity, \
    F.rms_norm
avg_pool1d = F.avg_pool1d

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction):
    """PyTorch's top-level losses take the reduction as an int (ATen's enum). Left out, it is
    0 ('none') at run time in PyTorch 2.x for all of them, though its stubs say 1 (mean)."""
    return _REDUCTIONS.get(reduction, reduction)


def celu(input, alpha=1.0):
    return F.celu(input, alpha)


def selu(input):
    return F.selu(input)


def threshold(input, threshold, value):
    return F.threshold(input, threshold, value)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


conv3d, conv_transpose3d = F.conv3d, F.conv_transpose3d


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as torch.adaptive_max_pool1d."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def feature_alpha_dropout(input, p, train):
    return F.feature_alpha_dropout(input, p, train)


def adaptive_avg_pool1d(input, output_size):
    out = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return F.adaptive_avg_pool2d(input.unsqueeze(-2), (1, out)).squeeze(-2)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled=True):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled=True):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (note the order: weight first); padding_idx -1 is none."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq)


def dropout(input, p, train):
    return F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)


def kl_div(input, target, reduction=0, *, log_target=False):
    """Mean over all elements for reduction 1 (ATen's; F's 'mean' is the same)."""
    return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        reduction=0):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """Unreduced by default, as torch.binary_cross_entropy_with_logits (F's is the mean)."""
    return F.binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight,
                                              reduction=_reduction(reduction))


def rsub(input, other, alpha=1):
    """other - alpha * input."""
    return ops.sub(other, input * alpha if alpha != 1 else input)


def detach(input):
    return input.detach()


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False):
    if high is None:
        low, high = 0, low
    return creation.randint(low, high, tuple(input.shape), generator=generator,
                            dtype=dtype or input.dtype, device=device or input.device,
                            requires_grad=requires_grad)


def _function_form(name):
    """``tg.<name>(x, ...)``: ``x.<name>(...)`` (an in-place method)."""
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(input, ...)``: ``input.{name}(...)``, in place."
    return function


# Every in-place method PyTorch also exports as a function (torch.exp_, torch.zero_ ...).
IN_PLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_",
    "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "index_put_", "lcm_", "ldexp_",
    "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_",
    "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_",
    "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_", "resize_as_")
for _name in IN_PLACE_FUNCTIONS:
    if hasattr(Tensor, _name):
        globals()[_name] = _function_form(_name)

__all__ = sorted(name for name, value in globals().items()
                 if callable(value) and not name.startswith("_") and name not in ("F", "Tensor"))
