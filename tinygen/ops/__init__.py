"""The differentiable ops, one family per file; ``tg.<op>`` and the Tensor methods call these."""

from tinygen.ops.elementwise import (
    abs, add, cast, clamp, clip, clone, cos, div, eq, exp, floor_divide, ge, gt, isfinite, isinf,
    isnan, le, log, log1p, logical_and, logical_not, logical_or, lt, maximum, minimum, mul, ne,
    neg, pow, relu, remainder, rsqrt, sigmoid, sign, sin, sqrt, square, sub, tanh, to_device,
    where)
from tinygen.ops.indexing import gather, getitem, index_put, masked_fill
from tinygen.ops.linalg import matmul
from tinygen.ops.reduce import (
    all, amax, amin, any, argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax, std,
    sum, var)
from tinygen.ops.shape import (
    broadcast_to, cat, chunk, concatenate, expand, expand_as, flatten, flip, permute, reshape,
    split, squeeze, stack, sum_to, transpose, unsqueeze, view)
