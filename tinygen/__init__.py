"""tinygen: a from-scratch autograd engine on NumPy and CuPy, with PyTorch's names.

    import tinygen as tg
    x = tg.randn(3, requires_grad=True)
    (x.tanh() ** 2).sum().backward()
    x.grad
"""

__version__ = "0.1.0"

from tinygen import idle_threads, memory  # noqa: E402

memory.keep_freed_memory()              # large temporaries reuse freed memory (see memory.py)
idle_threads.shorten_idle_spins()       # before NumPy and Numba read them (see idle_threads.py)

from tinygen.tensor import Tensor  # noqa: E402  (first: the modules below import it)

from tinygen import autograd, cuda, dtypes  # noqa: E402
from tinygen.autograd import (  # noqa: E402
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from tinygen.backend import (  # noqa: E402
    Device, device, get_array_module, set_default_device)
from tinygen.creation import (  # noqa: E402
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, logspace,
    ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros,
    zeros_like)
from tinygen.dtypes import (  # noqa: E402
    bool, double, float, float16, float32, float64, get_default_dtype, half, int32, int64, long,
    set_default_dtype, uint8)
from tinygen.ops import (  # noqa: E402
    abs, add, all, amax, amin, any, argmax, argmin, broadcast_to, cat, chunk, clamp, clip, clone,
    concatenate, cos, div, eq, exp, expand, flatten, flip, gather, ge, gt, isfinite, isinf,
    isnan, le, log, log1p, log_softmax, logsumexp, lt, masked_fill, matmul, max, maximum, mean,
    min, minimum, mul, ne, neg, permute, pow, relu, reshape, rsqrt, sigmoid, sign, sin, softmax,
    split, sqrt, square, squeeze, stack, std, sub, sum, tanh, transpose, unsqueeze, var, where)
from tinygen.ops import (  # noqa: E402  (norms, products, ordering, sampling, rearranging)
    allclose, argsort, bernoulli, bmm, ceil, clamp_max, clamp_min, cumsum, dot, einsum, equal,
    erf, floor, index_select, lerp, mm, multinomial, norm, outer, prod, reciprocal,
    repeat_interleave, roll, round, sort, tile, topk, tril, triu, trunc, unbind)
from tinygen.ops import (  # noqa: E402  (integer arithmetic, logic, bits, indices)
    bitwise_and, bitwise_not, bitwise_or, bitwise_xor, floor_divide, fmod, logical_and,
    logical_not, logical_or, logical_xor, nonzero, remainder)
from tinygen.ops import (  # noqa: E402  (more elementwise math)
    atan2, exp2, expm1, float_power, frac, heaviside, hypot, isclose, log2, log10, logaddexp,
    logaddexp2, logit, nan_to_num, sgn, sinc, xlogy)
from tinygen.ops import (  # noqa: E402  (statistics, rearranging, searching, more products)
    aminmax, bincount, block_diag, bucketize, cdist, cross, cummax, cummin, cumprod, diag,
    diagonal, diff, kron, kthvalue, logcumsumexp, masked_select, median, meshgrid, moveaxis,
    movedim, narrow, quantile, scatter, scatter_add, searchsorted, std_mean, swapaxes, swapdims,
    take_along_dim, tensor_split, tensordot, trace, unflatten, unique, var_mean)
from tinygen.ops import (  # noqa: E402  (trigonometry, more elementwise math, NaN reductions)
    acos, acosh, asin, asinh, atan, atanh, copysign, cosh, count_nonzero, deg2rad, erfc, fmax,
    fmin, gcd, hardshrink, isin, isneginf, isposinf, isreal, lcm, ldexp, nanmean, nanmedian,
    nansum, nextafter, rad2deg, signbit, sinh, tan)
from tinygen.ops import (  # noqa: E402  (PyTorch's second names for ops)
    absolute, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, concat, divide, fix,
    greater, greater_equal, less, less_equal, multiply, negative, not_equal, subtract, true_divide)
from tinygen.ops import (  # noqa: E402  (fused products, writes along an index, shape helpers)
    addbmm, addcdiv, addcmul, addmm, addmv, addr, argwhere, atleast_1d, atleast_2d, atleast_3d,
    baddbmm, broadcast_shapes, broadcast_tensors, cartesian_prod, chain_matmul, column_stack,
    combinations, diag_embed, diagflat, diagonal_scatter, dist, dsplit, dstack, fliplr, flipud,
    ger, hsplit, hstack, index_add, index_copy, index_fill, index_put, inner, masked_scatter, mv,
    put, ravel, rot90, row_stack, scatter_reduce, select, select_scatter, slice_scatter,
    split_with_sizes, t, take, vdot, vsplit, vstack)
from tinygen.ops import (  # noqa: E402  (statistics, histograms, the trapezoid rule)
    corrcoef, cov, cumulative_trapezoid, histc, histogram, mode, msort, renorm, trapezoid, trapz,
    unique_consecutive, vander)
from tinygen import random  # noqa: E402  (tg.random, as torch.random)
from tinygen.random import (  # noqa: E402  (generators, seeds and their states)
    Generator, default_generator, get_rng_state, seed, set_rng_state)
from tinygen.ops import normal, poisson  # noqa: E402
from tinygen.backend import default_device as get_default_device  # noqa: E402
from tinygen.creation import asarray, scalar_tensor  # noqa: E402
from tinygen.dtypes import bfloat16, can_cast, finfo, iinfo, promote_types  # noqa: E402
from tinygen.dtypes import int8, int16, short  # noqa: E402
from tinygen.queries import (  # noqa: E402
    is_floating_point, is_same_size, is_tensor, numel, result_type)
from tinygen.threads import get_num_threads, set_num_threads  # noqa: E402
from tinygen import linalg  # noqa: E402  (tg.linalg.vector_norm, as torch.linalg)
from tinygen.ops import (  # noqa: E402  (torch.det, torch.svd, ...: old linalg names)
    cholesky, cholesky_inverse, cholesky_solve, det, inverse, logdet, matrix_exp, matrix_power,
    pinverse, qr, slogdet, svd)
from tinygen.ops import lu, lu_solve, lu_unpack  # noqa: E402  (torch.lu, ...: LU)
from tinygen.ops import geqrf, orgqr, ormqr  # noqa: E402  (Householder: torch.geqrf, ...)
from tinygen.serialization import load, save  # noqa: E402
from tinygen import viz  # noqa: E402  (graph drawing; imports matplotlib only when drawing)
from tinygen import nn, optim  # noqa: E402  (tg.nn and tg.optim, as torch.nn and torch.optim)
from tinygen import func  # noqa: E402  (tg.func, as torch.func)
from tinygen.func import vmap  # noqa: E402  (tg.vmap, as torch.vmap)
from tinygen import distributions, utils  # noqa: E402  (tg.utils.data, tg.distributions)
from tinygen import amp, backends  # noqa: E402  (GradScaler; cudnn/TF32 switches, ignored)
from tinygen.ops import digamma, erfinv, i0, lgamma, mvlgamma, polygamma  # noqa: E402
from tinygen.ops import igamma, igammac  # noqa: E402  (regularized incomplete gamma)
from tinygen import special  # noqa: E402  (tg.special, as torch.special)
from tinygen.compiler import compile  # noqa: E402  (accepted; runs eagerly)
from tinygen import accelerator, jit, version  # noqa: E402  (torch.jit passes through)
from tinygen.random import initial_seed, manual_seed  # noqa: E402  (returns the Generator)
from tinygen.legacy_constructors import (  # noqa: E402  (PyTorch's typed constructors)
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor)
from tinygen.ops import (  # noqa: E402  (windows, index helpers, bits)
    as_strided, bartlett_window, bitwise_left_shift, bitwise_right_shift, blackman_window,
    frexp, hamming_window, hann_window, index_reduce, kaiser_window, range, tril_indices,
    triu_indices, unravel_index)
from tinygen.toplevel_functional import *  # noqa: E402,F401,F403  (tg.conv2d, tg.exp_ ...)
from tinygen.tensor_str import get_printoptions, set_printoptions  # noqa: E402  (as torch)
from tinygen.tensor_extras import (  # noqa: E402  (torch.strided, torch.nanquantile, ...)
    layout, nanquantile, strided, triangular_solve)
from tinygen import sparse  # noqa: E402  (tg.sparse, as torch.sparse)
from tinygen.sparse import sparse_coo, sparse_coo_tensor, spmm  # noqa: E402
from tinygen import testing  # noqa: E402  (tg.testing.assert_close, as torch.testing)
from tinygen.toplevel_misc import *  # noqa: E402,F401,F403  (tg.inf, tg.gradient, switches ...)
from tinygen.size import Size  # noqa: E402  (the type of x.shape, as torch.Size)
from tinygen.dtypes import cdouble, cfloat, chalf, complex32, complex64, complex128  # noqa: E402
from tinygen.ops import (  # noqa: E402  (complex tensors, as torch)
    angle, complex, conj, conj_physical, imag, is_conj, polar, real, resolve_conj, view_as_complex,
    view_as_real)
from tinygen import fft  # noqa: E402  (tg.fft, as torch.fft)
from tinygen import signal  # noqa: E402  (tg.signal.windows, as torch.signal)
from tinygen.fft_stft import istft, stft  # noqa: E402  (tg.stft, tg.istft, as torch)
from tinygen.tensor_methods_more import nonzero_static  # noqa: E402  (as torch.nonzero_static)
from tinygen.ops.view_copies import *  # noqa: E402,F401,F403  (tg.t_copy, tg.expand_copy ...)
