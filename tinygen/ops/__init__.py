"""The differentiable ops, one family per file; ``tg.<op>`` and the Tensor methods call these."""

from tinygen.ops.compare import (
    clamp, clip, eq, floor_divide, ge, gt, isfinite, isinf, isnan, le, logical_and, logical_not,
    logical_or, lt, maximum, minimum, ne, remainder, sign, where)
from tinygen.ops.convert import cast, clone, to_device
from tinygen.ops.elementwise import (
    abs, add, cos, div, exp, log, log1p, mul, neg, pow, relu, rsqrt, sigmoid, sin, sqrt, square,
    sub, tanh)
from tinygen.ops.indexing import gather, getitem, index_put, masked_fill
from tinygen.ops.linalg import matmul
from tinygen.ops.reduce import (
    all, amax, amin, any, argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax, std,
    sum, var)
from tinygen.ops.shape import (
    broadcast_to, cat, chunk, concatenate, expand, expand_as, flatten, flip, permute, reshape,
    split, squeeze, stack, sum_to, transpose, unsqueeze, view)
