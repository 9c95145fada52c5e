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
from tinygen.ops.random import bernoulli, multinomial, normal, poisson
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
from tinygen.ops.compare import gcd, isin, isneginf, isposinf, isreal, lcm, nextafter, signbit
from tinygen.ops.special import copysign, erfc, fmax, fmin, hardshrink, ldexp, softshrink
from tinygen.ops.trig import (
    acos, acosh, asin, asinh, atan, atanh, cosh, deg2rad, rad2deg, sinh, tan)
from tinygen.ops.nan_reduce import count_nonzero, nanmean, nanmedian, nansum
from tinygen.ops.aliases import (
    absolute, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, concat, divide, fix,
    greater, greater_equal, less, less_equal, multiply, negative, not_equal, subtract, true_divide)
from tinygen.ops.fused_products import (
    addbmm, addcdiv, addcmul, addmm, addmv, addr, baddbmm, chain_matmul, dist, ger, inner,
    multi_dot, mv, vdot)
from tinygen.ops.index_ops import (
    argwhere, diagonal_scatter, fill_diagonal, index_add, index_copy, index_fill, masked_scatter,
    put, select, select_scatter, slice_scatter, take, unfold)
from tinygen.ops.rearrange import scatter_reduce
from tinygen.ops.stacking import (
    atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, cartesian_prod,
    column_stack, combinations, diag_embed, diagflat, dsplit, dstack, fliplr, flipud, hsplit,
    hstack, ravel, rot90, row_stack, split_with_sizes, t, vsplit, vstack)
from tinygen.ops.numeric import cumulative_trapezoid, renorm, trapezoid, trapz, vander
from tinygen.ops.search import histc, histogram, unique_consecutive
from tinygen.ops.statistics import corrcoef, cov, mode, msort
from tinygen.ops.bits import bitwise_left_shift, bitwise_right_shift, frexp
from tinygen.ops.index_ops import index_reduce  # noqa: E402
from tinygen.ops.shape_inplace import as_strided
from tinygen.ops.windows import (
    bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window, range,
    tril_indices, triu_indices, unravel_index)
from tinygen.ops.special_functions import (
    digamma, entr, erfinv, i0, i0e, i1, i1e, lgamma, log_ndtr, mvlgamma, ndtr, ndtri, polygamma,
    xlog1py, zeta)
from tinygen.ops.special_rest import igamma, igammac  # regularized incomplete gamma
from tinygen.ops.linalg_aliases import (
    cholesky, cholesky_inverse, cholesky_solve, det, inverse, logdet, matrix_exp, matrix_power,
    pinverse, qr, slogdet, svd)
from tinygen.ops.linalg_lu import (  # torch.lu, torch.lu_solve (old names), torch.lu_unpack
    lu_unpack, old_lu as lu, old_lu_solve as lu_solve)
from tinygen.ops.linalg_householder import geqrf, orgqr, ormqr  # torch.geqrf, ...
from tinygen.ops.complex_ops import (  # complex tensors (ops/complex_ops.py)
    angle, complex, conj, conj_physical, imag, is_conj, polar, real, resolve_conj, view_as_complex,
    view_as_real)
from tinygen.ops import complex_support  # noqa: E402,F401  (marks the complex-correct ops)
