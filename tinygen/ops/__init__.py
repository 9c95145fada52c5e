"""The differentiable ops, one family per file; ``tg.<op>`` and the Tensor methods call these."""

from tinygen.ops.compare import (
    allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, clamp, clip, eq, equal, ge, gt,
    isfinite, isinf, isnan, le, logical_and, logical_not, logical_or, logical_xor, lt, maximum,
    minimum, ne, nonzero, sign, where)
from tinygen.ops.convert import cast, clone, to_device
from tinygen.ops.elementwise import (
    abs, add, cos, div, exp, log, log1p, mul, neg, pow, relu, rsqrt, sigmoid, sin, sqrt, square,
    sub, tanh)
from tinygen.ops.indexing import gather, getitem, index_put, index_select, masked_fill
from tinygen.ops.layout import repeat, repeat_interleave, roll, tile, tril, triu
from tinygen.ops.linalg import (
    bmm, cdist, cross, dot, einsum, kron, matmul, mm, outer, tensordot)
from tinygen.ops.norm import norm, vector_norm
from tinygen.ops.pointwise import (
    ceil, clamp_max, clamp_min, erf, floor, floor_divide, fmod, lerp, reciprocal, remainder, round,
    trunc)
from tinygen.ops.random import bernoulli, multinomial
from tinygen.ops.reduce import (
    all, amax, amin, any, argmax, argmin, cumsum, log_softmax, logsumexp, max, mean, min, prod,
    softmax, std, sum, var)
from tinygen.ops.shape import (
    broadcast_to, cat, chunk, concatenate, expand, expand_as, flatten, flip, permute, reshape,
    split, squeeze, stack, sum_to, transpose, unbind, unsqueeze, view)
from tinygen.ops.rearrange import (
    block_diag, diag, diagonal, diff, masked_select, meshgrid, moveaxis, movedim, narrow,
    scatter, scatter_add, swapaxes, swapdims, take_along_dim, tensor_split, trace, unflatten)
from tinygen.ops.search import bincount, bucketize, searchsorted, unique
from tinygen.ops.sort import argsort, sort, topk
from tinygen.ops.special import (
    atan2, exp2, expm1, float_power, frac, heaviside, hypot, isclose, log2, log10, logaddexp,
    logaddexp2, logit, nan_to_num, sgn, sinc, xlogy)
from tinygen.ops.statistics import (
    aminmax, cummax, cummin, cumprod, kthvalue, logcumsumexp, median, quantile, std_mean,
    var_mean)
